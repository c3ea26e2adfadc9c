"""The Python API of the :class:`Alembic` extension where no database is
touched: construction, ``init_app``, configuration, the migrations directory
and revision files.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime as dt
import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import ConfigError
from flask_alembic import DatabaseError
from flask_alembic import DuplicateRevisionIdError
from flask_alembic import MultipleHeadsError
from flask_alembic import RevisionError

TEMPLATES = Path(Config().get_template_directory())


@pytest.fixture
def engine(tmp_path: Path) -> cabc.Iterator[sa.Engine]:
    """A SQLite engine the tests in this module never connect with."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'unused.sqlite'}")
    yield engine
    engine.dispose()


def new_app(
    root: Path,
    config: dict[str, t.Any] | None = None,
    context: dict[str, t.Any] | None = None,
) -> Flask:
    """An app rooted in ``root``, with optional Alembic configuration."""
    app = Flask("test_app", root_path=str(root))

    if config is not None:
        app.config["ALEMBIC"] = config

    if context is not None:
        app.config["ALEMBIC_CONTEXT"] = context

    return app


@pytest.fixture
def ext(tmp_path: Path, engine: sa.Engine) -> cabc.Iterator[Alembic]:
    """An extension on an app rooted in ``tmp_path``, in an app context."""
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        yield alembic


def files(root: Path) -> list[str]:
    """Every file and directory below ``root``, relative and sorted."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if "__pycache__" not in p.parts
    )


def read(rev: Script | None) -> str:
    """The source of a revision file."""
    assert rev is not None
    return Path(rev.path).read_text()


def one(revs: list[Script | None]) -> Script:
    """The single revision ``revision()`` returned."""
    assert len(revs) == 1
    assert revs[0] is not None
    return revs[0]


# Construction and init_app


def test_constructor_with_app_registers_extension(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """Passing the app to the constructor stores the extension in app.extensions."""
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)
    assert app.extensions["alembic"] is alembic


def test_init_app_later_registers_extension(tmp_path: Path, engine: sa.Engine) -> None:
    """An extension created without an app is registered by init_app."""
    alembic = Alembic(metadatas=sa.MetaData(), engines=engine)
    app = new_app(tmp_path)
    assert "alembic" not in app.extensions
    alembic.init_app(app)
    assert app.extensions["alembic"] is alembic


def test_constructor_arguments_are_keyword_only() -> None:
    """run_mkdir, command_name, metadatas and engines cannot be positional."""
    with pytest.raises(TypeError):
        Alembic(None, False)  # type: ignore[call-arg]


def test_constructor_keeps_options() -> None:
    """The constructor's options are kept as attributes, keyed by name."""
    metadata = sa.MetaData()
    alembic = Alembic(run_mkdir=False, command_name="migrate", metadatas=metadata)
    assert alembic.run_mkdir is False
    assert alembic.command_name == "migrate"
    assert alembic.metadatas == {"default": metadata}
    assert alembic.engines == {}


def test_init_app_sets_default_config(tmp_path: Path, engine: sa.Engine) -> None:
    """init_app writes exactly Flask-Alembic 3's defaults into app.config."""
    app = new_app(tmp_path)
    Alembic(app, metadatas=sa.MetaData(), engines=engine)
    assert app.config["ALEMBIC"] == {
        "path_separator": "os",
        "script_location": "migrations",
        "version_locations": [],
    }
    assert app.config["ALEMBIC_CONTEXT"] == {"compare_server_default": True}


def test_init_app_merges_user_config(tmp_path: Path, engine: sa.Engine) -> None:
    """Keys the user set win and are kept; only the missing defaults are added."""
    app = new_app(
        tmp_path,
        config={"script_location": "db", "file_template": "%%(rev)s"},
        context={"compare_type": False, "compare_server_default": False},
    )
    Alembic(app, metadatas=sa.MetaData(), engines=engine)
    assert app.config["ALEMBIC"] == {
        "path_separator": "os",
        "script_location": "db",
        "version_locations": [],
        "file_template": "%%(rev)s",
    }
    assert app.config["ALEMBIC_CONTEXT"] == {
        "compare_type": False,
        "compare_server_default": False,
    }


def test_invalid_config_fails_before_writing(tmp_path: Path, engine: sa.Engine) -> None:
    """A misspelt key raises ConfigError at init_app and nothing is written."""
    app = new_app(tmp_path, config={"script_locaton": "db"})

    with pytest.raises(ConfigError, match="did you mean 'script_location'"):
        Alembic(app, metadatas=sa.MetaData(), engines=engine)

    assert files(tmp_path) == []
    assert "alembic" not in app.extensions


def test_mkdir_single_database_uses_generic_template(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """init_app creates migrations/script.py.mako from the generic template."""
    Alembic(new_app(tmp_path), metadatas=sa.MetaData(), engines=engine)
    assert files(tmp_path) == ["migrations", "migrations/script.py.mako"]
    written = (tmp_path / "migrations" / "script.py.mako").read_text()
    assert written == (TEMPLATES / "generic" / "script.py.mako").read_text()


def test_mkdir_several_databases_uses_multidb_template(tmp_path: Path) -> None:
    """With several metadatas, script.py.mako is the multidb template."""
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    Alembic(new_app(tmp_path), metadatas=metadatas)
    written = (tmp_path / "migrations" / "script.py.mako").read_text()
    assert written == (TEMPLATES / "multidb" / "script.py.mako").read_text()


def test_mkdir_keeps_existing_template(tmp_path: Path, engine: sa.Engine) -> None:
    """An existing script.py.mako is not overwritten."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "script.py.mako").write_text("custom")
    Alembic(new_app(tmp_path), metadatas=sa.MetaData(), engines=engine)
    assert (tmp_path / "migrations" / "script.py.mako").read_text() == "custom"


def test_mkdir_creates_version_locations(tmp_path: Path, engine: sa.Engine) -> None:
    """Every version location, plain or paired with a branch, is created."""
    config = {
        "script_location": "db/main",
        "version_locations": ["db/extra", ("users", str(tmp_path / "users"))],
    }
    Alembic(new_app(tmp_path, config=config), metadatas=sa.MetaData(), engines=engine)
    assert files(tmp_path) == [
        "db",
        "db/extra",
        "db/main",
        "db/main/script.py.mako",
        "users",
    ]


def test_mkdir_method_recreates_directory(ext: Alembic, tmp_path: Path) -> None:
    """Calling mkdir again restores a deleted migrations directory."""
    (tmp_path / "migrations" / "script.py.mako").unlink()
    (tmp_path / "migrations").rmdir()
    ext.mkdir()
    assert files(tmp_path) == ["migrations", "migrations/script.py.mako"]


def test_run_mkdir_false_writes_nothing(tmp_path: Path, engine: sa.Engine) -> None:
    """With run_mkdir=False, init_app creates no directory or file."""
    Alembic(new_app(tmp_path), run_mkdir=False, metadatas=sa.MetaData(), engines=engine)
    assert files(tmp_path) == []


def test_command_registered_as_db(tmp_path: Path, engine: sa.Engine) -> None:
    """The command group is registered as 'flask db' by default."""
    app = new_app(tmp_path)
    Alembic(app, metadatas=sa.MetaData(), engines=engine)
    assert list(app.cli.commands) == ["db"]


def test_command_name_renames_command(tmp_path: Path, engine: sa.Engine) -> None:
    """command_name registers the command group under another name."""
    app = new_app(tmp_path)
    Alembic(app, command_name="migrate", metadatas=sa.MetaData(), engines=engine)
    assert list(app.cli.commands) == ["migrate"]


def test_empty_command_name_registers_no_command(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """command_name="" adds no command to the app."""
    app = new_app(tmp_path)
    Alembic(app, command_name="", metadatas=sa.MetaData(), engines=engine)
    assert app.cli.commands == {}


def test_second_init_app_raises(tmp_path: Path, engine: sa.Engine) -> None:
    """Initialising the same extension twice on one app raises RuntimeError."""
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with pytest.raises(RuntimeError, match="already initialized"):
        alembic.init_app(app)


def test_second_extension_on_app_raises(tmp_path: Path, engine: sa.Engine) -> None:
    """A second Alembic instance on the same app raises RuntimeError."""
    app = new_app(tmp_path)
    first = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with pytest.raises(RuntimeError, match="already initialized"):
        Alembic(app, metadatas=sa.MetaData(), engines=engine)

    assert app.extensions["alembic"] is first


@pytest.mark.parametrize(
    "use",
    [
        lambda a: a.config,
        lambda a: a.script_directory,
        lambda a: a.environment_context,
        lambda a: a.migration_contexts,
        lambda a: a.heads(),
        lambda a: a.mkdir(),
    ],
    ids=["config", "script_directory", "env", "contexts", "heads", "mkdir"],
)
def test_app_not_initialised_raises(
    tmp_path: Path, engine: sa.Engine, use: t.Callable[[Alembic], object]
) -> None:
    """Using the extension on an app it was not registered on says to call init_app."""
    Alembic(new_app(tmp_path / "a"), metadatas=sa.MetaData(), engines=engine)
    other = Alembic(metadatas=sa.MetaData(), engines=engine)

    with new_app(tmp_path / "a").app_context():
        with pytest.raises(RuntimeError, match="Did you forget to call 'init_app'"):
            use(other)


def test_init_app_run_mkdir_is_deprecated(tmp_path: Path, engine: sa.Engine) -> None:
    """run_mkdir given to init_app warns and still takes effect."""
    alembic = Alembic(metadatas=sa.MetaData(), engines=engine)

    with pytest.warns(DeprecationWarning, match="'run_mkdir'"):
        alembic.init_app(new_app(tmp_path), run_mkdir=False)

    assert files(tmp_path) == []


def test_init_app_command_name_is_deprecated(tmp_path: Path, engine: sa.Engine) -> None:
    """command_name given to init_app warns and still takes effect."""
    alembic = Alembic(metadatas=sa.MetaData(), engines=engine)
    app = new_app(tmp_path)

    with pytest.warns(DeprecationWarning, match="'command_name'"):
        alembic.init_app(app, command_name="migrate")

    assert list(app.cli.commands) == ["migrate"]


def test_init_app_options_apply_to_that_app_only(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """Options passed to init_app do not change later apps' registration."""
    alembic = Alembic(metadatas=sa.MetaData(), engines=engine)
    first, second = new_app(tmp_path / "first"), new_app(tmp_path / "second")

    with pytest.warns(DeprecationWarning):
        alembic.init_app(first, run_mkdir=False, command_name="migrate")

    alembic.init_app(second)
    assert not (tmp_path / "first").exists()
    assert list(first.cli.commands) == ["migrate"]
    assert (tmp_path / "second" / "migrations" / "script.py.mako").is_file()
    assert list(second.cli.commands) == ["db"]


def test_one_extension_serves_several_apps(tmp_path: Path, engine: sa.Engine) -> None:
    """Each app registered on one extension gets its own configuration."""
    alembic = Alembic(metadatas=sa.MetaData(), engines=engine)
    first = new_app(tmp_path / "first")
    second = new_app(tmp_path / "second", config={"script_location": "other"})
    alembic.init_app(first)
    alembic.init_app(second)

    with first.app_context():
        assert alembic.script_directory.dir == str(tmp_path / "first" / "migrations")

    with second.app_context():
        assert alembic.script_directory.dir == str(tmp_path / "second" / "other")


# Properties that need no connection


def test_config_is_alembic_config(ext: Alembic, tmp_path: Path) -> None:
    """config is an Alembic Config whose paths are absolute under the root path."""
    config = ext.config
    assert isinstance(config, Config)
    assert config.get_main_option("script_location") == str(tmp_path / "migrations")
    assert ext.config is config


def test_config_passes_other_options(tmp_path: Path, engine: sa.Engine) -> None:
    """Other ALEMBIC keys become main options and dicts become sections."""
    app = new_app(
        tmp_path,
        config={
            "file_template": "%%(rev)s_%%(slug)s",
            "post_write_hooks": {"hooks": "fmt", "fmt.type": "console_scripts"},
        },
    )
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        config = alembic.config
        assert config.get_main_option("file_template") == "%(rev)s_%(slug)s"
        assert config.get_section_option("post_write_hooks", "fmt.type") == (
            "console_scripts"
        )


def test_absolute_script_location(tmp_path: Path, engine: sa.Engine) -> None:
    """An absolute script_location is used as it is."""
    location = tmp_path / "elsewhere" / "migrations"
    app = new_app(tmp_path / "app", config={"script_location": str(location)})
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        assert alembic.script_directory.dir == str(location)

    assert (location / "script.py.mako").is_file()


def test_script_directory(ext: Alembic, tmp_path: Path) -> None:
    """script_directory is the migrations folder's ScriptDirectory, as is script."""
    script = ext.script_directory
    assert isinstance(script, ScriptDirectory)
    assert script.dir == str(tmp_path / "migrations")
    assert ext.script_directory is script
    assert ext.script is script


def test_environment_context(ext: Alembic) -> None:
    """environment_context is an EnvironmentContext, cached; env is the same."""
    env = ext.environment_context
    assert isinstance(env, EnvironmentContext)
    assert env.script is ext.script_directory
    assert env.config is ext.config
    assert ext.environment_context is env
    assert ext.env is env


# rev_id


def test_rev_id_is_utc_timestamp(ext: Alembic) -> None:
    """rev_id is the current UTC time in whole seconds, as digits."""
    before = int(dt.datetime.now(dt.timezone.utc).timestamp())
    rev_id = ext.rev_id()
    after = int(dt.datetime.now(dt.timezone.utc).timestamp())
    assert rev_id.isdigit()
    assert before <= int(rev_id) <= after


def test_custom_rev_id_is_used(ext: Alembic, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replaced rev_id names new revisions."""
    monkeypatch.setattr(ext, "rev_id", lambda: "abc123")
    rev = one(ext.revision("first", empty=True))
    assert rev.revision == "abc123"
    assert Path(rev.path).name.startswith("abc123_")


# revision without autogenerate


def test_revision_empty_writes_file(ext: Alembic, tmp_path: Path) -> None:
    """An empty revision is written to the migrations folder with pass bodies."""
    rev = one(ext.revision("create users", empty=True))
    assert Path(rev.path).parent == tmp_path / "migrations"
    assert Path(rev.path).name == f"{rev.revision}_create_users.py"
    assert rev.doc == "create users"
    source = read(rev)
    assert f"revision: str = '{rev.revision}'" in source
    assert "def upgrade() -> None:" in source
    assert "op." not in source.split("def upgrade")[1]


def test_revision_and_merge_print_nothing(
    ext: Alembic, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Python API returns the new revisions and prints nothing."""
    ext.revision("one", empty=True)
    ext.revision("two", empty=True, branch="other")
    ext.merge()
    assert capsys.readouterr() == ("", "")


def test_first_revision_is_labelled_default(ext: Alembic) -> None:
    """The first revision starts from base with the 'default' branch label."""
    rev = one(ext.revision("first", empty=True))
    assert rev.down_revision is None
    assert rev.branch_labels == {"default"}


def test_revisions_follow_the_head(ext: Alembic) -> None:
    """Each new revision's parent is the previous head."""
    first = one(ext.revision("first", empty=True))
    second = one(ext.revision("second", empty=True))
    assert second.down_revision == first.revision
    assert "branch_labels: Union[str, Sequence[str], None] = ()" in read(second)
    assert [r.revision for r in ext.heads()] == [second.revision]


def test_new_revisions_carry_branch_labels_as_if_reloaded(ext: Alembic) -> None:
    """Revisions made in this process have the branch labels a fresh load of
    the history gives them.
    """
    first = one(ext.revision("first", empty=True))
    second = one(ext.revision("second", empty=True))
    users = one(ext.revision("users", empty=True, branch="users"))
    merged = ext.merge(label="joined")
    assert merged is not None
    assert second.branch_labels == {"default"}
    assert merged.branch_labels == {"default", "users", "joined"}
    reloaded = ScriptDirectory.from_config(ext.config)

    for rev in (first, second, users, merged):
        assert rev.branch_labels == reloaded.get_revision(rev.revision).branch_labels


def test_revision_on_new_branch_starts_from_base(ext: Alembic) -> None:
    """A new branch name starts a second root labelled with that name."""
    default = one(ext.revision("first", empty=True))
    users = one(ext.revision("users", empty=True, branch="users"))
    more = one(ext.revision("more users", empty=True, branch="users"))
    assert users.down_revision is None
    assert users.branch_labels == {"users"}
    assert more.down_revision == users.revision
    assert {r.revision for r in ext.heads()} == {default.revision, more.revision}


def test_revision_branch_uses_configured_path(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """A branch's first revision is written to the path paired with it."""
    app = new_app(
        tmp_path, config={"version_locations": [("users", "users/migrations")]}
    )
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        rev = one(alembic.revision("users", empty=True, branch="users"))

    assert Path(rev.path).parent == tmp_path / "users" / "migrations"


def test_revision_parent(ext: Alembic) -> None:
    """An explicit parent that is a head becomes the down revision."""
    first = one(ext.revision("first", empty=True))
    second = one(ext.revision("second", empty=True, parent=first.revision))
    assert second.down_revision == first.revision


def test_revision_parent_not_head_needs_splice(ext: Alembic) -> None:
    """A parent that is not a head fails unless splice is set."""
    first = one(ext.revision("first", empty=True))
    ext.revision("second", empty=True)

    with pytest.raises(CommandError, match="not a head revision"):
        ext.revision("fork", empty=True, parent=first)

    fork = one(ext.revision("fork", empty=True, parent=first, splice=True))
    assert fork.down_revision == first.revision
    assert len(ext.heads()) == 2


def test_revision_depend(ext: Alembic) -> None:
    """depend records dependencies on revisions of other branches."""
    first = one(ext.revision("first", empty=True))
    users = one(ext.revision("users", empty=True, branch="users", depend=first))
    assert users.dependencies == first.revision
    assert f"depends_on: Union[str, Sequence[str], None] = '{first.revision}'" in (
        read(users)
    )


def test_revision_label(ext: Alembic) -> None:
    """label adds branch labels to the new revision."""
    first = one(ext.revision("first", empty=True, label="core"))
    second = one(ext.revision("second", empty=True, label=["a", "b"]))
    declared = "branch_labels: Union[str, Sequence[str], None] = "
    assert f"{declared}('default', 'core')" in read(first)
    assert f"{declared}('a', 'b')" in read(second)
    assert ext.script_directory.get_revision("a") == second


def test_revision_relative_path(tmp_path: Path, engine: sa.Engine) -> None:
    """A relative path is relative to the app's root path."""
    app = new_app(tmp_path, config={"version_locations": ["more"]})
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        rev = one(alembic.revision("first", empty=True, path="more"))
        other = one(alembic.revision("second", empty=True, path=str(tmp_path / "more")))

    assert Path(rev.path).parent == tmp_path / "more"
    assert Path(other.path).parent == tmp_path / "more"
    assert other.down_revision == rev.revision


def test_revision_unknown_parent(ext: Alembic) -> None:
    """An unknown parent raises RevisionError naming it."""
    ext.revision("first", empty=True)

    with pytest.raises(RevisionError, match="'nope'"):
        ext.revision("second", empty=True, parent="nope")


# heads, branches, log, merge


def test_heads_empty(ext: Alembic) -> None:
    """With no revisions there are no heads."""
    assert ext.heads() == ()


def test_heads_resolve_dependencies(ext: Alembic) -> None:
    """resolve_dependencies leaves out heads that another head depends on."""
    base = one(ext.revision("base", empty=True, branch="a"))
    dependent = one(ext.revision("dep", empty=True, branch="b", depend=base))
    heads = ext.heads()
    assert all(isinstance(r, Script) for r in heads)
    assert {r.revision for r in heads} == {base.revision, dependent.revision}
    assert [r.revision for r in ext.heads(resolve_dependencies=True)] == [
        dependent.revision
    ]


def test_branches(ext: Alembic) -> None:
    """branches lists the revisions that have several children."""
    first = one(ext.revision("first", empty=True))
    assert ext.branches() == []
    ext.revision("second", empty=True)
    ext.revision("fork", empty=True, parent=first, splice=True)
    assert [r.revision for r in ext.branches()] == [first.revision]


def test_log(ext: Alembic) -> None:
    """log lists revisions newest first, limited by start and end."""
    revs = [one(ext.revision(m, empty=True)).revision for m in ("a", "b", "c")]

    def ids(log: list[Script]) -> list[str]:
        return [r.revision for r in log]

    assert ids(ext.log()) == revs[::-1]
    assert ids(ext.log(start=revs[1])) == revs[:0:-1]
    assert ids(ext.log(end=revs[1])) == revs[1::-1]
    assert ids(ext.log(revs[0], revs[0])) == [revs[0]]


def test_log_empty(ext: Alembic) -> None:
    """log of an empty history is empty."""
    assert ext.log() == []


def test_merge(ext: Alembic) -> None:
    """merge joins the heads into one revision written to disk."""
    a = one(ext.revision("a", empty=True, branch="a"))
    b = one(ext.revision("b", empty=True, branch="b"))
    merged = ext.merge()
    assert merged is not None
    assert set(t.cast(tuple[str, ...], merged.down_revision)) == {
        a.revision,
        b.revision,
    }
    assert merged.doc == "merge heads"
    assert Path(merged.path).is_file()
    assert [r.revision for r in ext.heads()] == [merged.revision]


def test_merge_named_revisions(ext: Alembic) -> None:
    """merge takes revisions, a message and labels."""
    a = one(ext.revision("a", empty=True, branch="a"))
    b = one(ext.revision("b", empty=True, branch="b"))
    merged = ext.merge([a, b.revision], message="join", label="joined")
    assert merged is not None
    assert merged.down_revision == (a.revision, b.revision)
    assert merged.doc == "join"
    assert "branch_labels: Union[str, Sequence[str], None] = ('joined',)" in (
        Path(merged.path).read_text()
    )
    assert ext.script_directory.get_revision("joined") is merged


def test_merge_default_message_names_revisions(ext: Alembic) -> None:
    """Without a message, the merge is described by the revisions it joins."""
    a = one(ext.revision("a", empty=True, branch="a"))
    b = one(ext.revision("b", empty=True, branch="b"))
    merged = ext.merge([a.revision, b.revision])
    assert merged is not None
    assert merged.doc == f"merge {a.revision}, {b.revision}"


# Improvements over Flask-Alembic 3.3 that need no database


def test_improvement_5_revisions_in_same_second_get_unique_ids(
    ext: Alembic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two revisions made within one second get different ids and both load."""
    monkeypatch.setattr(ext, "rev_id", lambda: "1700000000")
    first = one(ext.revision("first", empty=True))
    second = one(ext.revision("second", empty=True))
    other = one(ext.revision("other", empty=True, branch="other"))
    merged = ext.merge(message="m")
    assert merged is not None
    assert [first.revision, second.revision, other.revision, merged.revision] == [
        "1700000000",
        "1700000001",
        "1700000002",
        "1700000003",
    ]
    script = ScriptDirectory.from_config(ext.config)
    assert len(list(script.walk_revisions())) == 4
    assert [r.revision for r in ext.heads()] == ["1700000003"]


def test_improvement_5_same_second_with_frozen_clock(
    ext: Alembic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the clock stopped, the default rev_id still gives fresh ids."""

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:
            return cls(2024, 1, 1, tzinfo=tz)

    monkeypatch.setattr(dt, "datetime", Frozen)
    first = one(ext.revision("first", empty=True))
    second = one(ext.revision("second", empty=True))
    assert first.revision != second.revision
    assert second.down_revision == first.revision


def test_improvement_5_colliding_custom_rev_id_raises(
    ext: Alembic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A custom rev_id that always collides raises DuplicateRevisionIdError."""
    monkeypatch.setattr(ext, "rev_id", lambda: "fixed")
    ext.revision("first", empty=True)

    with pytest.raises(DuplicateRevisionIdError, match="'fixed'") as info:
        ext.revision("second", empty=True)

    assert info.value.revision == "fixed"
    assert isinstance(info.value, CommandError)
    assert len(list(ext.script_directory.walk_revisions())) == 1


def write_unlabelled(directory: Path, revision: str, down: str | None) -> None:
    """Write a revision file without branch labels, as Flask-Migrate does."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{revision}_step.py").write_text(
        f'"""step"""\n'
        f"revision = {revision!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = None\n"
        f"depends_on = None\n\n\n"
        f"def upgrade():\n    pass\n\n\n"
        f"def downgrade():\n    pass\n"
    )


def test_improvement_6_revision_continues_unlabelled_history(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """A history without branch labels is continued, not given a second root."""
    write_unlabelled(tmp_path / "migrations", "aaaa", None)
    write_unlabelled(tmp_path / "migrations", "bbbb", "aaaa")
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        rev = one(alembic.revision("next", empty=True))
        assert rev.down_revision == "bbbb"
        assert rev.branch_labels == set()
        assert [r.revision for r in alembic.heads()] == [rev.revision]
        assert [r.revision for r in alembic.log()][1:] == ["bbbb", "aaaa"]


def test_improvement_6_unlabelled_history_with_two_heads(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """An unlabelled history with two heads asks for a parent instead of guessing."""
    write_unlabelled(tmp_path / "migrations", "aaaa", None)
    write_unlabelled(tmp_path / "migrations", "bbbb", "aaaa")
    write_unlabelled(tmp_path / "migrations", "cccc", "aaaa")
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        with pytest.raises(MultipleHeadsError) as info:
            alembic.revision("next", empty=True)

        assert sorted(info.value.heads) == ["bbbb", "cccc"]
        rev = one(alembic.revision("next", empty=True, parent="cccc"))
        assert rev.down_revision == "cccc"


def test_revision_file_names_use_file_template(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """The file_template option names revision files."""
    app = new_app(tmp_path, config={"file_template": "%%(slug)s_%%(rev)s"})
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        rev = one(alembic.revision("hello world", empty=True))

    assert os.path.basename(rev.path) == f"hello_world_{rev.revision}.py"


# Connection failures


def test_unreachable_database_named_in_error(tmp_path: Path, engine: sa.Engine) -> None:
    """A database that cannot be opened raises DatabaseError naming it, and the
    connections already opened are returned.
    """
    broken = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    app = new_app(tmp_path)
    alembic = Alembic(
        app, metadatas=metadatas, engines={"default": engine, "other": broken}
    )

    try:
        with app.app_context():
            with pytest.raises(DatabaseError) as info:
                alembic.upgrade()

        assert info.value.name == "other"
        assert "Could not use database 'other'" in str(info.value)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        broken.dispose()


def test_database_error_hides_password(tmp_path: Path) -> None:
    """The error for an unreachable server shows its URL without the password."""
    engine = sa.create_engine("postgresql+psycopg2://user:s3cret@127.0.0.1:1/db")
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    try:
        with app.app_context():
            with pytest.raises(DatabaseError) as info:
                alembic.current()
    finally:
        engine.dispose()

    message = str(info.value)
    assert "s3cret" not in message
    assert "user:***@127.0.0.1:1/db" in message
    assert info.value.url == "postgresql+psycopg2://user:***@127.0.0.1:1/db"


# Review fixes


def test_failed_revision_leaves_no_file(
    ext: Alembic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A revision that fails after its file was written removes the file, so
    the history still loads.
    """
    ext.revision("one", empty=True)
    ext.revision("two", empty=True, branch="other")
    before = files(tmp_path / "migrations")

    with pytest.raises(RevisionError, match="Branch name 'other'"):
        ext.revision("three", empty=True, label="other")

    with pytest.raises(RevisionError, match="Branch name 'other'"):
        ext.merge(label="other")

    assert files(tmp_path / "migrations") == before
    assert len(ext.heads()) == 2


def test_public_config_is_not_silenced(ext: Alembic) -> None:
    """Alembic's own commands still print when given the extension's config."""
    import io

    from alembic import command

    rev = one(ext.revision("one", empty=True))
    ext.config.stdout = io.StringIO()
    command.heads(ext.config)
    assert ext.config.stdout.getvalue() == f"{rev.revision} (default) (head)\n"
    assert ext.environment_context.get_x_argument(as_dictionary=True) == {}


def test_connections_are_discarded_at_teardown(
    tmp_path: Path, engine: sa.Engine
) -> None:
    """A migration's connection is not returned to the pool the application
    uses, so session settings it made cannot leak into requests.
    """
    app = new_app(tmp_path)
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        alembic.migration_context.connection.exec_driver_sql(  # type: ignore[union-attr]
            "PRAGMA foreign_keys=ON"
        )

    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0


def test_single_database_may_set_tokens(tmp_path: Path, engine: sa.Engine) -> None:
    """With one database, ALEMBIC_CONTEXT may name the template tokens, as in 3.x."""
    app = new_app(tmp_path, context={"upgrade_token": "my_upgrades"})
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    with app.app_context():
        assert alembic.migration_context.opts["upgrade_token"] == "my_upgrades"
