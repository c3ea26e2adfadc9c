"""Engines made with SQLAlchemy's asyncio extension: every command, through
the API and the CLI, on SQLite (aiosqlite) and PostgreSQL (asyncpg), with the
engines given to ``Alembic(engines=...)`` or configured in
Flask-SQLAlchemy-Lite's ``SQLALCHEMY_ASYNC_ENGINES``.

Each test gets fresh databases from ``make_url``, reached through the async
driver by the app and through the plain driver by the test's own checks.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import dataclasses
import importlib.util
import re
import sys
import threading
import types
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_sqlalchemy_lite import SQLAlchemy as Lite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine

from flask_alembic import _gc
from flask_alembic import Alembic
from flask_alembic import BindPlan
from flask_alembic import DatabaseError
from flask_alembic import LockTimeoutError
from flask_alembic import MigrationError
from flask_alembic.branches.status import BranchStatus
from flask_alembic.targets import find_bind_targets
from flask_alembic.targets import find_targets

from .cli.conftest import fails
from .cli.conftest import fix_rev_ids
from .cli.conftest import invoke
from .cli.conftest import lines
from .cli.conftest import progress
from .conftest import table_names
from .conftest import version_rows
from .test_docs_binds import parse_transcript
from .test_locks import gave_up
from .test_locks import held
from .test_locks import lock_is_free
from .test_locks import PASSWORD
from .test_locks import with_password

#: The page documenting async engines.
DOCS_PAGE = Path(__file__).parent.parent / "docs" / "configuration.md"

#: A block the docs test runs: a ``% test: NAME`` line, then a fenced block.
_MARKED = re.compile(
    r"^% test: (?P<name>[\w ]+)\n```\w+\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL
)

#: The async driver each backend is reached through.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}

#: A revision file that creates a table, with ``{extra}`` run afterwards.
REVISION = '''\
"""{doc}"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))
    {extra}


def downgrade():
    op.drop_table("{table}")
'''


@pytest.fixture(params=list(ASYNC_DRIVERS))
def backend(request: pytest.FixtureRequest) -> str:
    """The backends with an async driver installed for the tests."""
    return t.cast(str, request.param)


@pytest.fixture(params=["flask_sqlalchemy_lite", "sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Where the async engines come from: Flask-SQLAlchemy-Lite's
    ``SQLALCHEMY_ASYNC_ENGINES`` or ``Alembic(engines=...)``. Flask-SQLAlchemy
    has no async engines.
    """
    return t.cast(str, request.param)


def async_url(url: str) -> str:
    """The URL of the same database through its backend's async driver."""
    parsed = sa.make_url(url)
    driver = ASYNC_DRIVERS[parsed.get_backend_name()]
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


@dataclasses.dataclass(frozen=True)
class Database:
    """A fresh database, by the URL of each driver."""

    #: Through the plain driver, for the test's own checks.
    url: str
    #: Through the async driver, for the app.
    async_url: str


@pytest.fixture
def make_db(make_url: cabc.Callable[..., str]) -> cabc.Callable[[], Database]:
    """Make fresh databases on the test's backend, from the server URL the
    shared fixtures use. PostgreSQL's URLs carry :data:`PASSWORD`, which the
    local server does not check, so that its masking is tested too.
    """

    def make() -> Database:
        url = with_password(make_url())
        return Database(url, async_url(url))

    return make


@pytest.fixture
def db(make_db: cabc.Callable[[], Database]) -> Database:
    """A fresh database on the test's backend."""
    return make_db()


AsyncAppFactory = t.Callable[..., tuple[Flask, Alembic]]


@pytest.fixture
def make_async_app(tmp_path: Path, integration: str) -> cabc.Iterator[AsyncAppFactory]:
    """Build an app whose engines are async ones, from the test's
    integration.

    ``make_async_app(urls, metadatas, config=..., sync_urls=...)``: ``urls``
    maps database names to URLs of async drivers, ``sync_urls`` to URLs of
    plain ones, for an app that has both. Every engine is disposed when the
    test ends, async ones on an event loop of their own.
    """
    made: list[AsyncEngine | sa.Engine] = []
    lites: list[tuple[Flask, Lite]] = []

    def make(
        urls: dict[str, str],
        metadatas: t.Any,
        *,
        config: dict[str, t.Any] | None = None,
        sync_urls: dict[str, str] | None = None,
    ) -> tuple[Flask, Alembic]:
        app = Flask("test_app", root_path=str(tmp_path))

        if config is not None:
            app.config["ALEMBIC"] = config

        if integration == "flask_sqlalchemy_lite":
            app.config["SQLALCHEMY_ASYNC_ENGINES"] = dict(urls)
            app.config["SQLALCHEMY_ENGINES"] = dict(sync_urls or {})
            lites.append((app, Lite(app, require_default_engine=False)))
            return app, Alembic(app, metadatas=metadatas)

        engines: dict[str, AsyncEngine | sa.Engine] = {
            name: create_async_engine(url) for name, url in urls.items()
        }
        engines.update(
            {name: sa.create_engine(url) for name, url in (sync_urls or {}).items()}
        )
        made.extend(engines.values())
        given = engines["default"] if list(engines) == ["default"] else engines
        return app, Alembic(app, metadatas=metadatas, engines=given)

    yield make

    for app, lite in lites:
        with app.app_context():
            made.extend(lite.async_engines.values())
            made.extend(lite.engines.values())

    for engine in made:
        if isinstance(engine, AsyncEngine):
            asyncio.run(engine.dispose())
        else:
            engine.dispose()


@pytest.fixture
def app(make_async_app: AsyncAppFactory, db: Database, metadata: sa.MetaData) -> Flask:
    """An app with one async database, the ``default`` one."""
    return make_async_app({"default": db.async_url}, metadata)[0]


def app_engine(app: Flask) -> AsyncEngine:
    """The async engine the app itself uses for its ``default`` database."""
    lite = app.extensions.get("sqlalchemy")

    with app.app_context():
        if lite is not None:
            return t.cast(AsyncEngine, lite.async_engines["default"])

        alembic = t.cast(Alembic, app.extensions["alembic"])
        return t.cast(AsyncEngine, alembic.engines["default"])


def app_can_query(app: Flask) -> int:
    """Query through the app's own async engine, on an event loop of its
    own, as the app's requests do. Fails if a connection of an event loop
    that has ended was left in the engine's pool.
    """

    engine = app_engine(app)

    async def query() -> int:
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(sa.text("SELECT 1"))).scalar_one())
        finally:
            # The pooled connection belongs to this loop: close it here.
            await engine.dispose()

    return asyncio.run(query())


def masked(url: str) -> str:
    """A URL as messages show it."""
    return sa.make_url(url).render_as_string(hide_password=True)


def write_history(tmp_path: Path, failing: bool = True) -> None:
    """Write revision 0001 "create item", which creates the table ``item``,
    and unless ``failing`` is false, 0002 "break it", which creates the table
    ``other`` and then fails.
    """
    versions = tmp_path / "migrations"
    versions.mkdir(exist_ok=True)
    (versions / "0001_create_item.py").write_text(
        REVISION.format(
            doc="create item",
            rev="0001",
            down=None,
            labels=("default",),
            table="item",
            extra="pass",
        )
    )

    if failing:
        (versions / "0002_break_it.py").write_text(
            REVISION.format(
                doc="break it",
                rev="0002",
                down="0001",
                labels=None,
                table="other",
                extra='op.execute("SELECT * FROM no_such_table")',
            )
        )


# The API


def test_api(
    alembic: Alembic,
    app: Flask,
    metadata: sa.MetaData,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Every API method that reads or changes the database works on an async
    engine, and leaves the app's engine usable on the app's own event loops.
    """
    fix_rev_ids(alembic, monkeypatch, ["0001", "0002"])
    sa.Table("item", metadata, sa.Column("id", sa.Integer, primary_key=True))
    assert alembic.current() == ()
    assert alembic.needs_revision()

    (script,) = alembic.revision("create item")
    assert script is not None
    assert script.path == str(tmp_path / "migrations" / "0001_create_item.py")
    assert "op.create_table('item'" in Path(script.path).read_text()
    assert alembic.plan() == {"default": BindPlan("default", "upgrade", (), (script,))}
    assert alembic.pending() == {"default": ["0001"]}

    alembic.upgrade()
    assert version_rows(db.url) == ["0001"]
    assert table_names(db.url) == ["alembic_version", "item"]
    assert [rev.revision for rev in alembic.current()] == ["0001"]
    assert {
        name: [rev.revision for rev in revs]
        for name, revs in alembic.current_by_database().items()
    } == {"default": ["0001"]}
    assert alembic.status() == [
        BranchStatus(
            "default",
            "default",
            str(tmp_path / "migrations"),
            ("0001",),
            ("0001",),
            (),
        )
    ]
    assert alembic.diffs() == {"default": []}
    assert alembic.compare_metadata() == []
    assert not alembic.needs_revision()
    assert not alembic.needs_upgrade()
    assert alembic.verify() == []
    upgrade_ops = alembic.produce_migrations().upgrade_ops
    assert upgrade_ops is not None and upgrade_ops.is_empty()

    sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ((kind, table),) = alembic.diffs()["default"]
    assert (kind, table.name) == ("add_table", "tag")

    alembic.downgrade("base")
    assert version_rows(db.url) == []
    assert table_names(db.url) == ["alembic_version"]

    alembic.stamp("heads")
    assert version_rows(db.url) == ["0001"]
    assert app_can_query(app) == 1


def test_run_migrations(
    alembic: Alembic, app: Flask, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_migrations() runs a function's steps on an async engine."""
    fix_rev_ids(alembic, monkeypatch, ["0001"])
    alembic.revision("empty", empty=True)
    seen: list[tuple[str, ...]] = []

    def fn(heads: t.Any, context: t.Any) -> t.Any:
        seen.append(tuple(heads))
        return alembic.script_directory._upgrade_revs("heads", heads)

    alembic.run_migrations(fn)
    assert seen == [()]
    assert version_rows(db.url) == ["0001"]
    assert app_can_query(app) == 1


def test_contexts_need_run_sync(alembic: Alembic, app: Flask, db: Database) -> None:
    """The migration contexts of async engines are refused outside
    run_sync(), with a message saying to use it; inside, they work, and
    their connections are closed when it returns.
    """
    message = (
        "The migration contexts of async engines can only be used inside"
        " 'Alembic.run_sync()', which runs a function on an event loop:"
        " alembic.run_sync(lambda: alembic.op.create_table(...))."
    )

    for name in ("migration_contexts", "migration_context", "context", "ops", "op"):
        with pytest.raises(RuntimeError) as info:
            getattr(alembic, name)

        assert str(info.value) == message

    def create() -> list[str]:
        alembic.op.create_table("made", sa.Column("id", sa.Integer, primary_key=True))
        connection = alembic.migration_context.connection
        assert connection is not None
        connection.commit()
        return list(alembic.migration_context.get_current_heads())

    assert alembic.run_sync(create) == []
    assert table_names(db.url) == ["made"]
    assert app_can_query(app) == 1

    with pytest.raises(RuntimeError) as info:
        alembic.op  # noqa: B018

    assert str(info.value) == message


def test_run_sync_plain_engine(tmp_path: Path) -> None:
    """With plain engines, run_sync() just calls the function, and the
    contexts work without it.
    """
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    app = Flask("test_app", root_path=str(tmp_path))
    alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)

    try:
        with app.app_context():
            thread = alembic.run_sync(threading.get_ident)
            assert thread == threading.get_ident()
            assert alembic.run_sync(lambda x, y: x + y, 1, y=2) == 3
            assert alembic.migration_context.get_current_heads() == ()
    finally:
        engine.dispose()


def test_running_event_loop(
    alembic: Alembic, app: Flask, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called while an event loop runs, as from an async view, a method runs
    on an event loop of its own in another thread; from a thread
    (asyncio.to_thread), on one in that thread.
    """
    fix_rev_ids(alembic, monkeypatch, ["0001"])
    alembic.revision("empty", empty=True)

    async def inside() -> list[str]:
        await asyncio.to_thread(alembic.upgrade)
        return [rev.revision for rev in alembic.current()]

    assert asyncio.run(inside()) == ["0001"]
    assert version_rows(db.url) == ["0001"]
    assert app_can_query(app) == 1


def test_failing_revision(
    alembic: Alembic, app: Flask, db: Database, tmp_path: Path
) -> None:
    """A failing revision on an async engine raises MigrationError naming it,
    with the URL masked, and the run is rolled back.
    """
    write_history(tmp_path)

    with pytest.raises(MigrationError) as info:
        alembic.upgrade()

    error = info.value
    assert (error.operation, error.bind, error.revision, error.doc) == (
        "upgrade",
        "default",
        "0002",
        "break it",
    )
    assert error.url == masked(db.async_url)
    assert [(o.name, o.state, o.before, o.now) for o in error.outcomes] == [
        ("default", "failed", (), ())
    ]
    assert version_rows(db.url) == []
    assert table_names(db.url) == []
    assert PASSWORD not in str(error)
    assert app_can_query(app) == 1


@pytest.mark.parametrize("integration", ["sqlalchemy"], indirect=True)
def test_lock(
    make_async_app: AsyncAppFactory,
    db: Database,
    tmp_path: Path,
) -> None:
    """upgrade on an async engine takes the database's migration lock: it
    waits for another process's, gives up after lock_timeout naming the
    holder, and releases its own.
    """
    write_history(tmp_path, failing=False)
    app, alembic = make_async_app(
        {"default": db.async_url}, sa.MetaData(), config={"lock_timeout": 0.5}
    )

    with held(db.url) as holder, app.app_context():
        with pytest.raises(LockTimeoutError) as info:
            alembic.upgrade()

        assert str(info.value) == gave_up(db.async_url, holder)
        assert version_rows(db.url) == []
        assert fails(app.test_cli_runner(), "upgrade") == (
            f"Error: {gave_up(db.async_url, holder)}"
        )

    with app.app_context():
        alembic.upgrade()

    assert version_rows(db.url) == ["0001"]
    assert lock_is_free(db.url)


# The CLI


def test_cli(
    runner: FlaskCliRunner,
    app: Flask,
    metadata: sa.MetaData,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command that reads or changes the database works on an async
    engine.
    """
    ext = t.cast(Alembic, app.extensions["alembic"])
    fix_rev_ids(ext, monkeypatch, ["0001", "0002"])
    sa.Table("item", metadata, sa.Column("id", sa.Integer, primary_key=True))
    path = tmp_path / "migrations" / "0001_create_item.py"

    result = invoke(runner, "revision", "create item")
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    assert "op.create_table('item'" in path.read_text()

    result = invoke(runner, "upgrade", "--plan")
    assert result.stdout.splitlines() == [
        "default: at <base>, 1 revision to upgrade",
        "  0001  create item  migrations/0001_create_item.py",
    ]
    assert version_rows(db.url) == []

    result = invoke(runner, "status")
    assert result.stdout.splitlines() == [
        "branch   bind     path        head  current  pending",
        "default  default  migrations  0001  -        1",
        "1 revision pending on 1 branch. Run 'flask db upgrade' to apply them.",
    ]
    invoke(runner, "current", "--check-heads", code=1)

    result = invoke(runner, "upgrade")
    assert progress(result.output) == ["Running upgrade  -> 0001, create item"]
    assert version_rows(db.url) == ["0001"]
    assert table_names(db.url) == ["alembic_version", "item"]

    result = invoke(runner, "current", "--check-heads")
    assert result.stdout.splitlines() == [
        "<base> -> 0001 (default) (head), create item"
    ]
    result = invoke(runner, "status")
    assert result.stdout.splitlines() == [
        "branch   bind     path        head  current  pending",
        "default  default  migrations  0001  0001     0",
        "Up to date: 1 branch.",
    ]
    assert invoke(runner, "check").stdout == "No changes detected.\n"
    assert invoke(runner, "verify").stdout == "No problems found.\n"

    sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True))
    result = invoke(runner, "check", code=1)
    assert result.stdout.splitlines() == ["Changes detected.", "  added table 'tag'"]

    result = invoke(runner, "downgrade")
    assert progress(result.output) == ["Running downgrade 0001 -> , create item"]
    assert version_rows(db.url) == []
    assert table_names(db.url) == ["alembic_version"]

    invoke(runner, "stamp", "heads")
    assert version_rows(db.url) == ["0001"]
    assert app_can_query(app) == 1


@pytest.mark.parametrize("integration", ["sqlalchemy"], indirect=True)
def test_cli_more_commands(
    make_async_app: AsyncAppFactory, db: Database, tmp_path: Path
) -> None:
    """The other commands that read or change the database, and the offline
    forms of downgrade and stamp, work on an async engine: log from the
    current revision, downgrade --plan and --sql, stamp --sql, and verify
    finding a revision no file defines, which stamp --purge repairs.
    """
    write_history(tmp_path, failing=False)
    app = make_async_app({"default": db.async_url}, sa.MetaData())[0]
    runner = app.test_cli_runner()
    invoke(runner, "upgrade")

    result = invoke(runner, "log", "--start", "current")
    assert result.stdout == "<base> -> 0001 (default) (head), create item\n"
    result = invoke(runner, "downgrade", "--plan")
    assert result.stdout.splitlines() == [
        "default: at 0001, 1 revision to downgrade",
        "  0001  create item  migrations/0001_create_item.py",
    ]
    result = invoke(runner, "downgrade", "--sql", "0001:base")
    assert result.stdout.splitlines() == [
        "BEGIN;",
        "",
        "-- Running downgrade 0001 -> ",
        "",
        "DROP TABLE item;",
        "",
        "DELETE FROM alembic_version WHERE alembic_version.version_num = '0001';",
        "",
        "COMMIT;",
        "",
    ]
    result = invoke(runner, "stamp", "--sql", "base:0001")
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in (
        result.stdout
    )
    assert version_rows(db.url) == ["0001"]
    assert table_names(db.url) == ["alembic_version", "item"]

    engine = sa.create_engine(db.url)

    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'dead'"))
    finally:
        engine.dispose()

    result = invoke(runner, "verify", code=1)
    assert result.stdout.splitlines() == [
        f"bind 'default' ({masked(db.async_url)}) is at revision 'dead', which no"
        " file defines. Restore the file, or record the revision the database"
        " is really at with 'flask db stamp --purge REVISION --bind default'.",
        "1 problem found.",
    ]
    invoke(runner, "stamp", "--purge", "0001")
    assert version_rows(db.url) == ["0001"]
    assert invoke(runner, "verify").stdout == "No problems found.\n"
    assert app_can_query(app) == 1


def test_cli_failing_revision(
    runner: FlaskCliRunner, app: Flask, db: Database, tmp_path: Path
) -> None:
    """A failing revision on an async engine prints the failure report with
    the URL masked and no traceback, exits 1, and leaves nothing behind.
    """
    write_history(tmp_path)
    # Shown relative to the working directory only when inside it.
    path = tmp_path / "migrations" / "0002_break_it.py"
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert PASSWORD not in result.output
    driver_error = {
        "sqlite": "OperationalError: no such table: no_such_table",
        "postgresql": 'ProgrammingError: relation "no_such_table" does not exist',
    }[sa.make_url(db.url).get_backend_name()]
    assert lines(result.stderr) == [
        "Error: Upgrade failed on bind 'default' at revision 0002 \"break it\""
        f" ({path}):",
        f"  {driver_error} [SQL: SELECT * FROM no_such_table]",
        f"  Database: {sa.make_url(db.url).get_backend_name()}, {masked(db.async_url)}",
        "Where each bind is now:",
        "  default  failed, rolled back to <base>, where it started",
        "Fix the cause, then run 'flask db upgrade' again.",
    ]
    assert version_rows(db.url) == []
    assert table_names(db.url) == []


def test_offline_sql(
    make_async_app: AsyncAppFactory, db: Database, tmp_path: Path
) -> None:
    """upgrade --sql renders the async dialect's SQL without connecting: the
    database here cannot be reached.
    """
    write_history(tmp_path, failing=False)
    unreachable = sa.make_url(db.async_url)
    unreachable = (
        unreachable.set(port=1)
        if unreachable.get_backend_name() == "postgresql"
        else unreachable.set(database=str(tmp_path / "missing" / "db.sqlite"))
    )
    app, alembic = make_async_app(
        {"default": unreachable.render_as_string(hide_password=False)},
        sa.MetaData(),
    )
    serial = "INTEGER" if unreachable.get_backend_name() == "sqlite" else "SERIAL"
    returning = (
        "version_num"
        if unreachable.get_backend_name() == "sqlite"
        else "alembic_version.version_num"
    )
    expected = [
        "BEGIN;",
        "",
        "CREATE TABLE alembic_version (",
        "    version_num VARCHAR(32) NOT NULL, ",
        "    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)",
        ");",
        "",
        "-- Running upgrade  -> 0001",
        "",
        "CREATE TABLE item (",
        f"    id {serial} NOT NULL, ",
        "    PRIMARY KEY (id)",
        ");",
        "",
        "INSERT INTO alembic_version (version_num) VALUES ('0001')"
        f" RETURNING {returning};",
        "",
        "COMMIT;",
        "",
    ]

    with app.app_context():
        assert alembic.sql("upgrade").keys() == {"default"}
        assert alembic.sql("upgrade")["default"].splitlines() == expected

    result = invoke(app.test_cli_runner(), "upgrade", "--sql")
    assert result.stdout.splitlines() == expected

    with app.app_context(), pytest.raises(DatabaseError):
        alembic.upgrade()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("integration", ["sqlalchemy"], indirect=True)
def test_unreachable(
    make_async_app: AsyncAppFactory, db: Database, tmp_path: Path
) -> None:
    """An async server that refuses the connection is one error line naming
    the database by its masked URL; verify reports it as a problem, and
    --verbose's traceback is masked too.
    """
    url = sa.make_url(db.async_url).set(port=1)
    app, alembic = make_async_app(
        {"default": url.render_as_string(hide_password=False)}, sa.MetaData()
    )
    runner = app.test_cli_runner()
    shown = url.render_as_string(hide_password=True)
    start = f"Could not use database 'default' ({shown}): "
    fix = (
        ". Check that the server is running and that the URL and credentials are right."
    )

    for args in (["upgrade"], ["current"], ["status"], ["check"]):
        line = fails(runner, *args, hidden=PASSWORD)
        assert line.startswith(f"Error: {start}"), line
        assert line.endswith(fix), line

    result = invoke(runner, "verify", code=1)
    assert result.stdout.startswith(start)
    assert PASSWORD not in result.output

    # The traceback --verbose prints is masked too.
    result = invoke(runner, "upgrade", "-v", code=1)
    assert "Traceback" in result.stderr
    assert f"Error: {start}" in result.stderr
    assert PASSWORD not in result.output

    with app.app_context(), pytest.raises(DatabaseError) as info:
        alembic.current()

    assert info.value.url == shown


# Finding async engines


def test_targets_from_lite() -> None:
    """Flask-SQLAlchemy-Lite's async engines are found by name, each
    migrated through its sync_engine; a name that also has a plain engine
    uses that one, which needs no event loop.
    """
    plain = {"default": sa.create_engine("sqlite://")}
    both = {
        "default": create_async_engine("sqlite+aiosqlite://"),
        "events": create_async_engine("sqlite+aiosqlite://"),
    }
    lite = types.SimpleNamespace(engines=plain, async_engines=both)
    metadatas = {"default": sa.MetaData(), "events": sa.MetaData()}

    try:
        for targets in (
            find_targets(metadatas, {}, lite),
            find_bind_targets(["default", "events"], metadatas, {}, lite),
        ):
            assert {
                name: (target.engine, target.is_async)
                for name, target in targets.items()
            } == {
                "default": (plain["default"], False),
                "events": (both["events"].sync_engine, True),
            }

        (target,) = find_targets(
            {"default": metadatas["default"]}, {"events": both["events"]}, None
        ).values()
        assert (target.name, target.engine, target.is_async) == (
            "events",
            both["events"].sync_engine,
            True,
        )
    finally:
        plain["default"].dispose()

        for engine in both.values():
            asyncio.run(engine.dispose())


@pytest.mark.parametrize("integration", ["flask_sqlalchemy_lite"], indirect=True)
def test_per_bind_mixed(
    make_async_app: AsyncAppFactory,
    make_db: cabc.Callable[[], Database],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Per-bind histories over a plain default engine and an async bind:
    each bind's revision is autogenerated against its own database and
    applied there.
    """
    default, events = make_db(), make_db()
    metadatas = {"default": sa.MetaData(), "events": sa.MetaData()}
    sa.Table(
        "post", metadatas["default"], sa.Column("id", sa.Integer, primary_key=True)
    )
    sa.Table(
        "event", metadatas["events"], sa.Column("id", sa.Integer, primary_key=True)
    )
    app, alembic = make_async_app(
        {"events": events.async_url},
        metadatas,
        config={"binds": {"events": {}}},
        sync_urls={"default": default.url},
    )
    fix_rev_ids(alembic, monkeypatch, ["0001", "0002"])
    runner = app.test_cli_runner()

    invoke(runner, "revision", "create posts")
    result = invoke(runner, "revision", "create events", "--bind", "events")
    path = tmp_path / "migrations" / "events" / "0002_create_events.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    assert "op.create_table('event'" in path.read_text()
    assert "op.create_table('post'" not in path.read_text()

    invoke(runner, "upgrade")
    assert version_rows(default.url) == ["0001"]
    assert version_rows(events.url) == ["0002"]
    assert table_names(default.url) == ["alembic_version", "post"]
    assert table_names(events.url) == ["alembic_version", "event"]
    result = invoke(runner, "status")
    assert result.stdout.splitlines() == [
        "branch   bind     path               head  current  pending",
        "default  default  migrations         0001  0001     0",
        "events   events   migrations/events  0002  0002     0",
        "Up to date: 2 branches.",
    ]
    assert invoke(runner, "check").stdout == "No changes detected.\n"

    invoke(runner, "downgrade", "base", "--bind", "events")
    assert version_rows(default.url) == ["0001"]
    assert version_rows(events.url) == []

    # At exit, the plain engine is disposed; the async one is not, as its
    # connections ended with the event loop of each call.
    with app.app_context():
        targets = alembic._targets()

    assert targets["default"].engine in _gc._engines
    assert targets["events"].engine not in _gc._engines


# The documentation


def test_docs_example(tmp_path: Path) -> None:
    """The app and the transcript of the configuration page's async section
    run as written, each command in a newly loaded app, as the next
    ``flask`` process would load it.
    """
    found = {m["name"]: m["body"] for m in _MARKED.finditer(DOCS_PAGE.read_text())}
    code = found["async app"]
    path = tmp_path / "app.py"
    path.write_text(code)

    for args, expected in parse_transcript(found["async transcript"]):
        spec = importlib.util.spec_from_file_location("docs_async_app", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # Flask finds the root and instance paths through sys.modules.
        sys.modules[spec.name] = module

        try:
            spec.loader.exec_module(module)
            module.alembic.rev_id = lambda: "1000"
            app: Flask = module.create_app()

            try:
                result = app.test_cli_runner().invoke(args=["db", *args])
            finally:
                with app.app_context():
                    for engine in module.db.async_engines.values():
                        asyncio.run(engine.dispose())
        finally:
            del sys.modules[spec.name]

        assert result.exit_code == 0, result.output
        shown = "\n".join(lines(result.stdout)).replace(str(tmp_path), "/project")
        assert shown == expected.rstrip("\n"), (args, result.output)

    database = f"sqlite:///{tmp_path / 'instance' / 'shop.sqlite'}"
    assert version_rows(database) == ["1000"]
    assert table_names(database) == ["alembic_version", "item"]
