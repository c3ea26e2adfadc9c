"""Several databases with one shared history (``Alembic(metadatas={...})``),
and the improvements over Flask-Alembic 3.3 that need a database. Each
``test_improvement_*`` test fails on Flask-Alembic 3.3.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import Script
from alembic.util import CommandError
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import MigrationError
from flask_alembic import NotUpToDateError

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows


def table(metadata: sa.MetaData, name: str) -> sa.Table:
    """Add a model table to the metadata."""
    return sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True))


def described(diffs: list[t.Any]) -> list[tuple[str, str]]:
    """Autogenerate's differences as (kind, table name) pairs, sorted."""
    return sorted((diff[0], diff[1].name) for diff in diffs)


def only(revs: list[Script | None]) -> Script:
    """The single revision revision() returned."""
    assert len(revs) == 1
    assert revs[0] is not None
    return revs[0]


def function_body(source: str, name: str) -> str:
    """The text of a top-level function in a revision file."""
    start = source.index(f"def {name}(")
    end = source.find("\ndef ", start + 1)
    return source[start : end if end != -1 else None]


def clear_versions(url: str) -> None:
    """Empty a database's version table behind the extension's back, leaving
    it behind the others.
    """
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM alembic_version"))
    finally:
        engine.dispose()


@pytest.fixture
def urls(make_url: cabc.Callable[..., str]) -> dict[str, str]:
    """Two fresh databases, 'default' and 'other'."""
    return {"default": make_url(), "other": make_url()}


@pytest.fixture
def models() -> dict[str, sa.MetaData]:
    """Models for each database: table 'a' in default, 'b' in other."""
    models = {"default": sa.MetaData(), "other": sa.MetaData()}
    table(models["default"], "a")
    table(models["other"], "b")
    return models


@pytest.fixture
def multi_app(
    make_app: AppFactory, urls: dict[str, str], models: dict[str, sa.MetaData]
) -> Flask:
    """An app with two databases sharing one history."""
    return make_app(urls, models)[0]


@pytest.fixture
def multi(multi_app: Flask) -> cabc.Iterator[Alembic]:
    """The two-database app's extension, in an app context."""
    with multi_app.app_context():
        yield t.cast(Alembic, multi_app.extensions["alembic"])


# Shared history


def test_shared_history_contexts(
    multi: Alembic, urls: dict[str, str], models: dict[str, sa.MetaData]
) -> None:
    """Each database has its own context, connected to it, with its own models."""
    contexts = multi.migration_contexts
    assert list(contexts) == ["default", "other"]

    for name, context in contexts.items():
        assert context.connection is not None
        database = context.connection.engine.url.database
        assert database == sa.make_url(urls[name]).database
        assert context.opts["target_metadata"] is models[name]

    assert multi.migration_context is contexts["default"]
    assert multi.op is multi.ops["default"]


def test_shared_history_revision_has_function_per_database(multi: Alembic) -> None:
    """A revision has upgrade/downgrade functions for each database's changes."""
    source = Path(only(multi.revision("init")).path).read_text()
    upgrade_default = function_body(source, "upgrade_default")
    upgrade_other = function_body(source, "upgrade_other")
    assert "op.create_table('a'" in upgrade_default
    assert "'b'" not in upgrade_default
    assert "op.create_table('b'" in upgrade_other
    assert "'a'" not in upgrade_other
    assert "op.drop_table('a')" in function_body(source, "downgrade_default")
    assert "op.drop_table('b')" in function_body(source, "downgrade_other")


def test_shared_history_upgrade(multi: Alembic, urls: dict[str, str]) -> None:
    """upgrade creates each database's tables only there and records the
    revision in both version tables.
    """
    rev = only(multi.revision("init"))
    multi.upgrade()
    assert table_names(urls["default"]) == ["a", "alembic_version"]
    assert table_names(urls["other"]) == ["alembic_version", "b"]
    assert version_rows(urls["default"]) == [rev.revision]
    assert version_rows(urls["other"]) == [rev.revision]
    assert multi.needs_upgrade() is False
    assert multi.current() == (rev,)


def test_shared_history_downgrade(multi: Alembic, urls: dict[str, str]) -> None:
    """downgrade undoes the revision in every database."""
    multi.revision("init")
    multi.upgrade()
    multi.downgrade()
    assert table_names(urls["default"]) == ["alembic_version"]
    assert table_names(urls["other"]) == ["alembic_version"]
    assert version_rows(urls["default"]) == []
    assert version_rows(urls["other"]) == []


def test_shared_history_stamp(multi: Alembic, urls: dict[str, str]) -> None:
    """stamp records the revision in every database without running it."""
    rev = only(multi.revision("init"))
    multi.stamp()
    assert version_rows(urls["default"]) == [rev.revision]
    assert version_rows(urls["other"]) == [rev.revision]
    assert "a" not in table_names(urls["default"])


def test_shared_history_produce_migrations(multi: Alembic) -> None:
    """produce_migrations has one set of operations per database, tokens named
    after the database.
    """
    script = multi.produce_migrations()
    tokens = [ops.upgrade_token for ops in script.upgrade_ops_list]
    assert tokens == ["default_upgrades", "other_upgrades"]
    assert [described(ops.as_diffs()) for ops in script.upgrade_ops_list] == [
        [("add_table", "a")],
        [("add_table", "b")],
    ]


def test_shared_history_pending(multi: Alembic) -> None:
    """pending and current_by_database report each database."""
    rev = only(multi.revision("init"))
    assert multi.pending() == {"default": [rev.revision], "other": [rev.revision]}
    multi.upgrade()
    assert multi.pending() == {"default": [], "other": []}
    assert multi.current_by_database() == {"default": (rev,), "other": (rev,)}


def test_shared_history_failure_rolls_back_every_database(
    multi: Alembic, urls: dict[str, str], tmp_path: Path
) -> None:
    """A revision failing on one database raises and does not mark that
    database as upgraded.
    """
    (tmp_path / "migrations" / "f1_fails.py").write_text(
        "revision = 'f1'\n"
        "down_revision = None\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade(engine_name):\n"
        "    if engine_name == 'other':\n"
        "        raise RuntimeError('boom')\n\n\n"
        "def downgrade(engine_name):\n"
        "    pass\n"
    )

    with pytest.raises(MigrationError, match="boom") as info:
        multi.upgrade()

    assert isinstance(info.value.__cause__, RuntimeError)
    assert (info.value.bind, info.value.revision) == ("other", "f1")
    assert version_rows(urls["other"]) == []


# Improvements over Flask-Alembic 3.3


def test_improvement_1_ops_use_their_own_database(
    multi: Alembic, urls: dict[str, str]
) -> None:
    """ops["other"] runs DDL on the other database, not on the default one."""
    ops = multi.ops
    assert ops["other"].migration_context is multi.migration_contexts["other"]
    ops["default"].create_table("made_in_default", sa.Column("id", sa.Integer))
    ops["other"].create_table("made_in_other", sa.Column("id", sa.Integer))

    for context in multi.migration_contexts.values():
        assert context.connection is not None
        context.connection.commit()

    assert table_names(urls["default"]) == ["made_in_default"]
    assert table_names(urls["other"]) == ["made_in_other"]


def test_improvement_2_needs_revision_with_several_databases(
    multi: Alembic, models: dict[str, sa.MetaData]
) -> None:
    """needs_revision and compare_metadata work with several databases."""
    assert multi.needs_revision() is True
    assert described(multi.compare_metadata()) == [
        ("add_table", "a"),
        ("add_table", "b"),
    ]
    multi.revision("init")
    multi.upgrade()
    assert multi.needs_revision() is False
    assert multi.compare_metadata() == []
    table(models["other"], "c")
    assert multi.needs_revision() is True
    assert described(multi.compare_metadata()) == [("add_table", "c")]


def test_improvement_2_diffs_name_the_database(
    multi: Alembic, models: dict[str, sa.MetaData]
) -> None:
    """diffs says which database each difference belongs to."""
    diffs = multi.diffs()
    assert list(diffs) == ["default", "other"]
    assert described(diffs["default"]) == [("add_table", "a")]
    assert described(diffs["other"]) == [("add_table", "b")]
    multi.revision("init")
    multi.upgrade()
    table(models["other"], "c")
    assert {k: described(v) for k, v in multi.diffs().items()} == {
        "default": [],
        "other": [("add_table", "c")],
    }


def test_improvement_3_current_considers_every_database(
    multi_app: Flask, urls: dict[str, str]
) -> None:
    """current() reports what any database is at, not only 'default'."""
    alembic = t.cast(Alembic, multi_app.extensions["alembic"])

    with multi_app.app_context():
        rev = only(alembic.revision("init"))
        alembic.upgrade()

    clear_versions(urls["default"])

    with multi_app.app_context():
        assert alembic.current() == (rev,)
        assert alembic.current_by_database() == {"default": (), "other": (rev,)}


def test_improvement_3_needs_upgrade_considers_every_database(
    multi_app: Flask, urls: dict[str, str]
) -> None:
    """needs_upgrade() is true when only a database other than 'default' is behind."""
    alembic = t.cast(Alembic, multi_app.extensions["alembic"])

    with multi_app.app_context():
        rev = only(alembic.revision("init"))
        alembic.upgrade()
        assert alembic.needs_upgrade() is False

    clear_versions(urls["other"])

    with multi_app.app_context():
        assert alembic.needs_upgrade() is True
        assert alembic.pending() == {"default": [], "other": [rev.revision]}
        alembic.stamp()
        assert alembic.needs_upgrade() is False

    assert version_rows(urls["other"]) == [rev.revision]


@pytest.mark.parametrize("integration", ["flask_sqlalchemy_lite", "sqlalchemy"])
def test_improvement_3_single_database_with_any_name(
    make_app: AppFactory, url: str
) -> None:
    """One database registered under another name than 'default' works."""
    metadata = sa.MetaData()
    table(metadata, "user")
    app, alembic = make_app({"main": url}, {"main": metadata})

    with app.app_context():
        assert list(alembic.migration_contexts) == ["main"]
        assert alembic.migration_context is alembic.migration_contexts["main"]
        assert alembic.op is alembic.ops["main"]
        rev = only(alembic.revision("init"))
        source = Path(rev.path).read_text()
        assert "def upgrade() -> None:" in source
        assert alembic.needs_upgrade() is True
        alembic.upgrade()
        assert alembic.current() == (rev,)
        assert alembic.needs_upgrade() is False
        assert alembic.needs_revision() is False

    assert table_names(url) == ["alembic_version", "user"]
    assert version_rows(url) == [rev.revision]


def test_improvement_3_named_metadata_on_default_engine(
    make_app: AppFactory, url: str
) -> None:
    """A single metadata under any name pairs with the one default engine."""
    metadata = sa.MetaData()
    table(metadata, "user")
    app, alembic = make_app({"default": url}, {"main": metadata})

    with app.app_context():
        assert list(alembic.migration_contexts) == ["main"]
        alembic.revision("init")
        alembic.upgrade()
        assert alembic.needs_upgrade() is False

    assert table_names(url) == ["alembic_version", "user"]


def test_improvement_7_needs_revision_on_behind_database(
    alembic: Alembic, metadata: sa.MetaData
) -> None:
    """needs_revision on a database that is behind raises NotUpToDateError
    naming the database and the pending revisions.
    """
    table(metadata, "user")
    first = only(alembic.revision("init"))
    second = only(alembic.revision("more", empty=True))

    with pytest.raises(NotUpToDateError) as info:
        alembic.needs_revision()

    error = info.value
    assert isinstance(error, CommandError)
    assert error.name == "default"
    assert error.current == []
    assert error.pending == [first.revision, second.revision]
    message = str(error)
    assert "'default'" in message
    assert first.revision in message
    assert second.revision in message

    with pytest.raises(NotUpToDateError):
        alembic.compare_metadata()

    with pytest.raises(NotUpToDateError):
        alembic.diffs()

    alembic.upgrade(first)

    with pytest.raises(NotUpToDateError) as info:
        alembic.needs_revision()

    assert info.value.current == [first.revision]
    assert info.value.pending == [second.revision]
    alembic.upgrade()
    assert alembic.needs_revision() is False


def test_improvement_7_names_the_database_that_is_behind(
    multi_app: Flask, urls: dict[str, str]
) -> None:
    """With several databases, the error names the one that is behind."""
    alembic = t.cast(Alembic, multi_app.extensions["alembic"])

    with multi_app.app_context():
        rev = only(alembic.revision("init"))
        alembic.upgrade()

    clear_versions(urls["other"])

    with multi_app.app_context():
        with pytest.raises(NotUpToDateError, match="'other'") as info:
            alembic.needs_revision()

    assert info.value.name == "other"
    assert info.value.pending == [rev.revision]
