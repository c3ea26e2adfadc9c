"""Finding the engines and metadata to migrate: from Flask-SQLAlchemy,
Flask-SQLAlchemy-Lite, or the arguments given to :class:`Alembic`.

No test here connects to a database: engines are SQLite files that are only
created, never opened, except where the extension's contexts are checked.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy_lite import SQLAlchemy as Lite

from flask_alembic import Alembic
from flask_alembic import FlaskAlembicError
from flask_alembic import TargetError
from flask_alembic.targets import find_targets
from flask_alembic.targets import MetaDatas
from flask_alembic.targets import normalize_engines
from flask_alembic.targets import normalize_metadatas
from flask_alembic.targets import safe_url
from flask_alembic.targets import Target


@pytest.fixture
def engines(tmp_path: Path) -> cabc.Iterator[cabc.Callable[[str], sa.Engine]]:
    """Make SQLite engines named after their file; disposed afterwards."""
    made: list[sa.Engine] = []

    def make(name: str) -> sa.Engine:
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}.sqlite")
        made.append(engine)
        return engine

    yield make

    for engine in made:
        engine.dispose()


@pytest.fixture
def flask_app(tmp_path: Path) -> Flask:
    """A bare app rooted in tmp_path."""
    return Flask("test_app", root_path=str(tmp_path))


@pytest.fixture
def fsa(flask_app: Flask, tmp_path: Path) -> cabc.Iterator[t.Any]:
    """Flask-SQLAlchemy with a default engine and an 'other' bind, in an app
    context. Its engines are disposed afterwards.
    """
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/d.sqlite"
    flask_app.config["SQLALCHEMY_BINDS"] = {"other": f"sqlite:///{tmp_path}/o.sqlite"}
    db = SQLAlchemy(flask_app)

    with flask_app.app_context():
        yield db

        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def lite(flask_app: Flask, tmp_path: Path) -> cabc.Iterator[Lite]:
    """Flask-SQLAlchemy-Lite with 'default' and 'other' engines, in an app
    context. Its engines are disposed afterwards.
    """
    flask_app.config["SQLALCHEMY_ENGINES"] = {
        "default": f"sqlite:///{tmp_path}/d.sqlite",
        "other": f"sqlite:///{tmp_path}/o.sqlite",
    }
    db = Lite(flask_app)

    with flask_app.app_context():
        yield db

        for engine in db.engines.values():
            engine.dispose()


def summary(targets: dict[str, Target]) -> dict[str, tuple[sa.Engine, t.Any]]:
    """Each target's engine and metadata, by name."""
    assert all(name == target.name for name, target in targets.items())
    return {name: (target.engine, target.metadata) for name, target in targets.items()}


# Normalising the arguments


def test_single_metadata_is_default() -> None:
    """A single MetaData is the 'default' database's."""
    metadata = sa.MetaData()
    assert normalize_metadatas(metadata) == {"default": metadata}


def test_metadata_list_is_default() -> None:
    """A list of MetaData together describe the 'default' database."""
    metadatas = [sa.MetaData(), sa.MetaData()]
    assert normalize_metadatas(metadatas) == {"default": metadatas}


def test_metadata_dict_is_kept() -> None:
    """A dict of metadata is copied as it is."""
    given: dict[str, MetaDatas] = {"a": sa.MetaData(), "b": [sa.MetaData()]}
    normalized = normalize_metadatas(given)
    assert normalized == given
    assert normalized is not given


def test_no_metadata_or_engines() -> None:
    """No metadata or engines normalise to empty dicts."""
    assert normalize_metadatas(None) == {}
    assert normalize_engines(None) == {}


def test_single_engine_is_default(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """A single engine is the 'default' database's."""
    engine = engines("e")
    assert normalize_engines(engine) == {"default": engine}
    named = {"x": engine}
    assert normalize_engines(named) == named


def test_constructor_normalises(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """The extension keys a single metadata and engine under 'default'."""
    metadata, engine = sa.MetaData(), engines("e")
    alembic = Alembic(metadatas=metadata, engines=engine)
    assert alembic.metadatas == {"default": metadata}
    assert alembic.engines == {"default": engine}


# Plain arguments


def test_plain_arguments(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """Each named metadata is paired with the engine of the same name."""
    md_a, md_b = sa.MetaData(), sa.MetaData()
    e_a, e_b = engines("a"), engines("b")
    targets = find_targets({"a": md_a, "b": md_b}, {"b": e_b, "a": e_a}, None)
    assert summary(targets) == {"a": (e_a, md_a), "b": (e_b, md_b)}
    assert list(targets) == ["a", "b"]


def test_extra_engines_are_ignored(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """Engines without metadata are not migrated."""
    md = sa.MetaData()
    e_a, e_b = engines("a"), engines("b")
    targets = find_targets({"a": md}, {"a": e_a, "b": e_b}, None)
    assert summary(targets) == {"a": (e_a, md)}


def test_single_database_name_from_metadata(
    engines: cabc.Callable[[str], sa.Engine],
) -> None:
    """One named metadata with one default engine is known by the metadata's name."""
    md, engine = sa.MetaData(), engines("e")
    assert summary(find_targets({"main": md}, {"default": engine}, None)) == {
        "main": (engine, md)
    }


def test_single_database_name_from_engine(
    engines: cabc.Callable[[str], sa.Engine],
) -> None:
    """One default metadata with one named engine is known by the engine's name."""
    md, engine = sa.MetaData(), engines("e")
    assert summary(find_targets({"default": md}, {"main": engine}, None)) == {
        "main": (engine, md)
    }


def test_single_database_same_name(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """One metadata and one engine under the same name pair up."""
    md, engine = sa.MetaData(), engines("e")
    assert summary(find_targets({"main": md}, {"main": engine}, None)) == {
        "main": (engine, md)
    }


def test_single_database_different_names(
    engines: cabc.Callable[[str], sa.Engine],
) -> None:
    """One metadata and one engine under two other names do not pair up."""
    with pytest.raises(TargetError, match="Missing engine config for 'a'"):
        find_targets({"a": sa.MetaData()}, {"b": engines("b")}, None)


# Errors


def test_missing_metadata(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """Without metadata or Flask-SQLAlchemy, the error says to pass 'metadatas'."""
    with pytest.raises(TargetError, match="pass 'metadatas'") as info:
        find_targets({}, {"default": engines("e")}, None)

    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value, FlaskAlembicError)


def test_missing_engines() -> None:
    """Without engines or Flask-SQLAlchemy(-Lite), the error says to pass 'engines'."""
    with pytest.raises(TargetError, match="pass 'engines'"):
        find_targets({"default": sa.MetaData()}, {}, None)


def test_missing_engine_for_name(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """A metadata name without an engine is named in the error, with the known ones."""
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}

    with pytest.raises(TargetError) as info:
        find_targets(metadatas, {"default": engines("d")}, None)

    message = str(info.value)
    assert "Missing engine config for 'other'." in message
    assert "The known engines are 'default'" in message


def test_missing_engines_for_names(engines: cabc.Callable[[str], sa.Engine]) -> None:
    """Several missing engines are all named."""
    metadatas = {"default": sa.MetaData(), "x": sa.MetaData(), "y": sa.MetaData()}

    with pytest.raises(TargetError, match="Missing engine configs for 'x', 'y'"):
        find_targets(metadatas, {"default": engines("d")}, None)


def test_extension_reports_missing_metadata(
    flask_app: Flask, engines: cabc.Callable[[str], sa.Engine]
) -> None:
    """Using the extension without metadata raises TargetError when it connects."""
    alembic = Alembic(flask_app, engines=engines("e"))

    with flask_app.app_context():
        with pytest.raises(TargetError, match="pass 'metadatas'"):
            alembic.migration_contexts  # noqa: B018


def test_extension_reports_missing_engine(
    flask_app: Flask, engines: cabc.Callable[[str], sa.Engine]
) -> None:
    """Using the extension with a metadata name no engine has raises TargetError."""
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    alembic = Alembic(flask_app, metadatas=metadatas, engines=engines("e"))

    with flask_app.app_context():
        with pytest.raises(TargetError, match="'other'"):
            alembic.upgrade()


# Flask-SQLAlchemy


def test_flask_sqlalchemy_metadata_and_engine(fsa: t.Any) -> None:
    """db.metadata and db.engine are the 'default' database."""
    assert summary(find_targets({}, {}, fsa)) == {"default": (fsa.engine, fsa.metadata)}


def test_flask_sqlalchemy_binds(fsa: t.Any) -> None:
    """db.engines gives the binds, its None key becoming 'default'."""
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    targets = find_targets(metadatas, {}, fsa)
    assert summary(targets) == {
        "default": (fsa.engines[None], metadatas["default"]),
        "other": (fsa.engines["other"], metadatas["other"]),
    }


def test_flask_sqlalchemy_arguments_win(
    fsa: t.Any, engines: cabc.Callable[[str], sa.Engine]
) -> None:
    """Engines and metadata given to the extension are used instead of db's."""
    md, engine = sa.MetaData(), engines("mine")
    assert summary(find_targets({"default": md}, {"default": engine}, fsa)) == {
        "default": (engine, md)
    }


def test_flask_sqlalchemy_through_extension(flask_app: Flask, tmp_path: Path) -> None:
    """With no arguments, the extension compares db.metadata with db.engine."""
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/d.sqlite"
    metadata = sa.MetaData()
    db = SQLAlchemy(flask_app, metadata=metadata)
    alembic = Alembic(flask_app)

    with flask_app.app_context():
        try:
            context = alembic.migration_context
            assert list(alembic.migration_contexts) == ["default"]
            assert context.opts["target_metadata"] is metadata
            assert context.connection is not None
            assert context.connection.engine is db.engine
        finally:
            # The connection must be closed before the engine is disposed.
            flask_app.do_teardown_appcontext()

            for engine in db.engines.values():
                engine.dispose()


# Flask-SQLAlchemy-Lite


def test_lite_engines(lite: Lite) -> None:
    """Lite's engines are used by name; Lite has no metadata."""
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    assert summary(find_targets(metadatas, {}, lite)) == {
        "default": (lite.engines["default"], metadatas["default"]),
        "other": (lite.engines["other"], metadatas["other"]),
    }


def test_lite_needs_metadatas(lite: Lite) -> None:
    """Lite provides no metadata, so 'metadatas' must be passed."""
    with pytest.raises(TargetError, match="pass 'metadatas'"):
        find_targets({}, {}, lite)


def test_lite_single_metadata(lite: Lite) -> None:
    """A single metadata with Lite's engines uses the 'default' engine."""
    md = sa.MetaData()
    assert summary(find_targets({"default": md}, {}, lite)) == {
        "default": (lite.engines["default"], md)
    }


# URLs in messages


def test_safe_url_masks_password() -> None:
    """safe_url hides the password of an engine's URL."""
    engine = sa.create_engine("postgresql+psycopg2://user:secret@localhost/db")

    try:
        assert safe_url(engine) == "postgresql+psycopg2://user:***@localhost/db"
    finally:
        engine.dispose()
