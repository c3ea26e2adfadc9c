"""Per-bind histories (``ALEMBIC["binds"]``) through the Python API: one app
on three real databases at once, SQLite, PostgreSQL and MariaDB, each bind with
a history and a version table of its own.

Unless a test says otherwise the binds are ``default`` on SQLite, ``auth`` on
PostgreSQL and ``analytics`` on MariaDB, and ``analytics`` is declared before
``auth`` but depends on it, so the binds run in the order default, auth,
analytics. Each test creates its own databases.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import Script
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import BindOutcome
from flask_alembic import ConfigError
from flask_alembic import MigrationError
from flask_alembic import NotUpToDateError
from flask_alembic import RevisionError
from flask_alembic import TargetError
from flask_alembic import UnknownBindError
from flask_alembic.branches.status import BranchStatus

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: The binds, in the order they run.
BINDS = ("default", "auth", "analytics")

#: The backend of each bind, unless a test says otherwise.
LAYOUT = {"default": "sqlite", "auth": "postgresql", "analytics": "mariadb"}

#: ``ALEMBIC`` for the three binds. ``analytics`` is declared first, but its
#: ``depends_on`` makes it run after ``auth``.
CONFIG: dict[str, t.Any] = {
    "binds": {"analytics": {"depends_on": ["auth"]}, "auth": {}},
}

#: The model table of each bind.
MODEL_TABLES = {"default": "post", "auth": "account", "analytics": "event"}

#: The hand-written history of each bind, oldest first: (revision id, table it
#: creates). ``default``'s revisions carry no label, as Flask-Migrate's do; the
#: first revision of the others carries the bind's name.
HISTORY = {
    "default": [("d1", "post"), ("d2", "tag")],
    "auth": [("a1", "account"), ("a2", "login")],
    "analytics": [("n1", "event"), ("n2", "visit")],
}

#: The ids ``fix_rev_ids`` hands out, in order.
REV_IDS = ("1795400001", "1795400002", "1795400003", "1795400004", "1795400005")

#: A password for the PostgreSQL URL. The server trusts local connections, so
#: it is never checked, but it is in the URL and must never be shown.
PASSWORD = "s3cr3t-Pw"


@pytest.fixture
def backend() -> str:
    """Tests pick the backend of each database themselves; ``make_url()``
    without ``on`` makes an SQLite one.
    """
    return "sqlite"


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines, unless a test parametrizes it."""
    return t.cast(str, request.param)


@pytest.fixture
def layout() -> dict[str, str]:
    """The backend of each bind; tests parametrize it to move them around."""
    return dict(LAYOUT)


@pytest.fixture
def urls(make_url: cabc.Callable[..., str], layout: dict[str, str]) -> dict[str, str]:
    """A fresh database for each bind, on its backend, in the order they run.
    PostgreSQL URLs carry :data:`PASSWORD`.
    """
    return {name: with_password(make_url(on=layout[name])) for name in BINDS}


def with_password(url: str) -> str:
    """A PostgreSQL URL with :data:`PASSWORD`; other URLs as they are."""
    parsed = sa.make_url(url)

    if parsed.get_backend_name() != "postgresql":
        return url

    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


def table(metadata: sa.MetaData, name: str) -> sa.Table:
    """Add a model table to the metadata."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80)),
    )


@pytest.fixture
def models() -> dict[str, sa.MetaData]:
    """The models of each bind: one table each, see :data:`MODEL_TABLES`."""
    models = {name: sa.MetaData() for name in BINDS}

    for name, metadata in models.items():
        table(metadata, MODEL_TABLES[name])

    return models


@dataclasses.dataclass
class Three:
    """An app with the three binds, and what it was made from."""

    app: Flask
    alembic: Alembic
    urls: dict[str, str]
    models: dict[str, sa.MetaData]
    #: ``(revision id, "up" or "down")`` of each revision as it ran, on any
    #: bind, in order.
    applied: list[tuple[str, str]]


MakeThree = cabc.Callable[..., Three]


@pytest.fixture
def make_three(
    make_app: AppFactory,
    urls: dict[str, str],
    models: dict[str, sa.MetaData],
    monkeypatch: pytest.MonkeyPatch,
) -> MakeThree:
    """Make an app with the three binds: ``make_three(config=CONFIG,
    context=None)``. New revisions get the ids of :data:`REV_IDS`.
    """

    def make(
        config: dict[str, t.Any] | None = None, context: dict[str, t.Any] | None = None
    ) -> Three:
        applied: list[tuple[str, str]] = []

        def record(step: t.Any, **kwargs: t.Any) -> None:
            applied.append((step.up_revision_id, "up" if step.is_upgrade else "down"))

        context = {"on_version_apply": record, **(context or {})}
        app, alembic = make_app(
            urls, models, config=_copy(config or CONFIG), context=context
        )
        fix_rev_ids(alembic, monkeypatch)
        return Three(app, alembic, urls, models, applied)

    return make


@pytest.fixture
def three(make_three: MakeThree) -> cabc.Iterator[Three]:
    """The three binds, in an app context."""
    made = make_three()

    with made.app.app_context():
        yield made


@pytest.fixture
def history(tmp_path: Path) -> dict[str, list[str]]:
    """The hand-written :data:`HISTORY` of each bind, not yet applied: the
    revision ids of each bind, oldest first.
    """
    return write_history(tmp_path)


def _copy(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """A deep enough copy of a config dict that init_app may add keys to."""
    copy = dict(config)

    if "binds" in copy:
        copy["binds"] = {k: dict(v) for k, v in copy["binds"].items()}

    return copy


def fix_rev_ids(
    alembic: Alembic,
    monkeypatch: pytest.MonkeyPatch,
    ids: cabc.Iterable[str] = REV_IDS,
) -> None:
    """Make new revisions get the given ids, in order."""
    it = iter(ids)
    monkeypatch.setattr(alembic, "rev_id", lambda: next(it))


def write_revision(
    directory: Path,
    rev: str,
    down: str | None,
    doc: str,
    upgrade: str,
    downgrade: str = "pass",
    label: str | None = None,
) -> Path:
    """Write a revision file, as a user would have generated and edited it.
    ``upgrade`` and ``downgrade`` are the bodies of the functions.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{rev}_{doc.replace(' ', '_')}.py"
    labels = (label,) if label else None
    path.write_text(
        f'"""{doc}"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        f"{_indent(upgrade)}\n\n\n"
        "def downgrade():\n"
        f"{_indent(downgrade)}\n"
    )
    return path


def _indent(body: str) -> str:
    """A function body, indented."""
    return "\n".join(f"    {line}" for line in body.splitlines())


def create_table(name: str) -> str:
    """The body of a revision that creates a table."""
    return f"op.create_table({name!r}, sa.Column('id', sa.Integer, primary_key=True))"


def bind_dir(root: Path, bind: str) -> Path:
    """The directory of a bind's revisions."""
    migrations = root / "migrations"
    return migrations if bind == "default" else migrations / bind


def write_history(
    root: Path, history: dict[str, list[tuple[str, str]]] = HISTORY
) -> dict[str, list[str]]:
    """Write each bind's revisions, each creating a table. Return the revision
    ids of each bind.
    """
    for bind, revisions in history.items():
        down = None

        for rev, name in revisions:
            label = bind if down is None and bind != "default" else None
            write_revision(
                bind_dir(root, bind),
                rev,
                down,
                f"create {name}",
                create_table(name),
                f"op.drop_table({name!r})",
                label,
            )
            down = rev

    return {bind: [rev for rev, _ in revisions] for bind, revisions in history.items()}


def execute(url: str, *statements: str) -> None:
    """Run statements on a database and commit them."""
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def rows_in(url: str, table: str, schema: str) -> list[str]:
    """The revision ids in a version table in a schema, sorted."""
    engine = sa.create_engine(url)

    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table, schema=schema):
                return []

            rows = conn.execute(sa.text(f"SELECT version_num FROM {schema}.{table}"))
            return sorted(row[0] for row in rows)
    finally:
        engine.dispose()


def all_rows(urls: dict[str, str]) -> dict[str, list[str]]:
    """The revision ids in each bind's version table."""
    return {name: version_rows(url) for name, url in urls.items()}


def all_tables(urls: dict[str, str]) -> dict[str, list[str]]:
    """The tables in each bind's database."""
    return {name: table_names(url) for name, url in urls.items()}


def ids(revs: t.Iterable[Script | None]) -> list[str]:
    """The ids of revisions, in order."""
    return [r.revision for r in revs if r is not None]


def only(revs: list[Script | None]) -> Script:
    """The single revision revision() returned."""
    assert len(revs) == 1
    assert revs[0] is not None
    return revs[0]


def described(diffs: list[t.Any]) -> list[tuple[str, str]]:
    """Autogenerate's differences as (kind, table name) pairs, sorted."""
    return sorted((diff[0], diff[1].name) for diff in diffs)


def files(root: Path) -> dict[str, bytes]:
    """Every file under the migrations directory, by relative path."""
    migrations = root / "migrations"
    return {
        str(path.relative_to(migrations)): path.read_bytes()
        for path in sorted(migrations.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


#: The tables each bind has after the whole history ran.
UPGRADED_TABLES = {
    "default": ["alembic_version", "post", "tag"],
    "auth": ["account", "alembic_version", "login"],
    "analytics": ["alembic_version", "event", "visit"],
}


MakeFsa = cabc.Callable[..., tuple[Flask, Alembic]]


@pytest.fixture
def make_fsa(
    tmp_path: Path, make_url: cabc.Callable[..., str]
) -> cabc.Iterator[MakeFsa]:
    """Make an app whose engines and models come from Flask-SQLAlchemy:
    ``make_fsa(urls, binds, tables, context=None)``. The
    engines are the ``default`` URL and ``SQLALCHEMY_BINDS``; each table is a
    ``db.Model`` with an ``id`` and a ``name``, whose ``__bind_key__`` is the
    table's bind (none for ``default``). Every engine is disposed when the
    test ends.
    """
    from flask_sqlalchemy import SQLAlchemy

    made: list[tuple[Flask, t.Any]] = []

    def make(
        urls: dict[str, str],
        binds: dict[str, t.Any],
        tables: dict[str, str],
        context: dict[str, t.Any] | None = None,
    ) -> tuple[Flask, Alembic]:
        app = Flask("test_app", root_path=str(tmp_path))
        app.config["SQLALCHEMY_DATABASE_URI"] = urls["default"]
        app.config["SQLALCHEMY_BINDS"] = {
            name: url for name, url in urls.items() if name != "default"
        }
        app.config["ALEMBIC"] = _copy({"binds": binds})
        app.config["ALEMBIC_CONTEXT"] = dict(context or {})
        db = SQLAlchemy(app)
        made.append((app, db))

        for name, bind in tables.items():
            attrs: dict[str, t.Any] = {
                "__tablename__": name,
                "id": sa.Column(sa.Integer, primary_key=True),
                "name": sa.Column(sa.String(80)),
            }

            if bind != "default":
                attrs["__bind_key__"] = bind

            type(name.title(), (db.Model,), attrs)

        return app, Alembic(app)

    yield make

    for app, db in made:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


# Upgrade


@pytest.mark.parametrize(
    "integration", ["flask_sqlalchemy", "flask_sqlalchemy_lite", "sqlalchemy"]
)
def test_upgrade_all(
    integration: str,
    make_app: AppFactory,
    make_fsa: MakeFsa,
    urls: dict[str, str],
    models: dict[str, sa.MetaData],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A revision made for each bind lands in the bind's directory and
    describes only its models; upgrade() runs the binds in dependency order,
    each getting only its own tables and its own revision in its own version
    table.
    """
    applied: list[str] = []

    def record(step: t.Any, **kwargs: t.Any) -> None:
        applied.append(step.up_revision_id)

    context = {"on_version_apply": record}

    if integration == "flask_sqlalchemy":
        tables = {table: bind for bind, table in MODEL_TABLES.items()}
        app, alembic = make_fsa(urls, CONFIG["binds"], tables, context=context)
    else:
        app, alembic = make_app(urls, models, config=_copy(CONFIG), context=context)

    fix_rev_ids(alembic, monkeypatch)

    with app.app_context():
        assert list(alembic.migration_contexts) == list(BINDS)
        made = {
            "analytics": only(alembic.revision("create event", bind="analytics")),
            "default": only(alembic.revision("create post")),
            "auth": only(alembic.revision("create account", bind="auth")),
        }
        assert {name: rev.revision for name, rev in made.items()} == {
            "analytics": REV_IDS[0],
            "default": REV_IDS[1],
            "auth": REV_IDS[2],
        }
        assert alembic.pending() == {name: [made[name].revision] for name in BINDS}
        alembic.upgrade()
        assert alembic.pending() == {name: [] for name in BINDS}
        assert alembic.needs_upgrade() is False
        assert alembic.needs_revision() is False

    for name, rev in made.items():
        path = Path(rev.path)
        assert path.parent == bind_dir(tmp_path, name)
        source = path.read_text()

        for other, other_table in MODEL_TABLES.items():
            assert (f"op.create_table('{other_table}'" in source) is (other == name)

        assert rev.down_revision is None
        assert rev.branch_labels == {name}

    assert applied == [made[name].revision for name in BINDS]
    assert all_tables(urls) == {
        "default": ["alembic_version", "post"],
        "auth": ["account", "alembic_version"],
        "analytics": ["alembic_version", "event"],
    }
    assert all_rows(urls) == {name: [made[name].revision] for name in BINDS}


def test_upgrade_one_bind(three: Three, history: dict[str, list[str]]) -> None:
    """upgrade(bind=...) runs only that bind's revisions, on it only; the
    others are not touched. Several binds run in dependency order, whatever
    order they are asked in.
    """
    alembic, urls = three.alembic, three.urls
    alembic.upgrade(bind="auth")
    assert three.applied == [("a1", "up"), ("a2", "up")]
    assert all_tables(urls) == {
        "default": [],
        "auth": UPGRADED_TABLES["auth"],
        "analytics": [],
    }
    assert all_rows(urls) == {"default": [], "auth": ["a2"], "analytics": []}
    three.applied.clear()
    alembic.upgrade(bind=["analytics", "default"])
    assert three.applied == [("d1", "up"), ("d2", "up"), ("n1", "up"), ("n2", "up")]
    assert all_tables(urls) == UPGRADED_TABLES
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a2"], "analytics": ["n2"]}


def test_upgrade_to_revision_goes_to_its_bind(
    three: Three, history: dict[str, list[str]]
) -> None:
    """A revision id or ``branch@head`` is reached on the bind it belongs to,
    without naming the bind; the other binds are left alone.
    """
    alembic, urls = three.alembic, three.urls
    alembic.upgrade("n1")
    assert all_rows(urls) == {"default": [], "auth": [], "analytics": ["n1"]}
    alembic.upgrade("auth@head")
    assert all_rows(urls) == {"default": [], "auth": ["a2"], "analytics": ["n1"]}
    alembic.upgrade("d1")
    assert all_rows(urls) == {"default": ["d1"], "auth": ["a2"], "analytics": ["n1"]}
    alembic.upgrade("+1", bind="analytics")
    assert all_rows(urls) == {"default": ["d1"], "auth": ["a2"], "analytics": ["n2"]}
    alembic.upgrade()
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a2"], "analytics": ["n2"]}
    assert three.applied == [
        ("n1", "up"),
        ("a1", "up"),
        ("a2", "up"),
        ("d1", "up"),
        ("n2", "up"),
        ("d2", "up"),
    ]


@pytest.mark.parametrize("bind", ["default", "auth"])
def test_upgrade_relative_step_from_base(
    three: Three, history: dict[str, list[str]], bind: str
) -> None:
    """upgrade("+1", bind=...) on a bind that has applied nothing yet runs its
    first revision, as it does once the bind has applied one.
    """
    three.alembic.upgrade("+1", bind=bind)
    assert version_rows(three.urls[bind]) == [history[bind][0]]


def test_upgrade_relative_step_needs_one_bind(
    three: Three, history: dict[str, list[str]]
) -> None:
    """A step count differs from bind to bind, so it needs exactly one bind;
    nothing runs anywhere otherwise.
    """
    for bind, names in (
        (None, "default, auth, analytics"),
        (["analytics", "auth"], "auth, analytics"),
    ):
        with pytest.raises(RevisionError) as info:
            three.alembic.upgrade("+1", bind=bind)

        assert str(info.value) == (
            "A number of revisions to upgrade differs from bind to bind. Name"
            f" the bind to upgrade: --bind NAME (the binds are {names})."
        )

    assert all_tables(three.urls) == {name: [] for name in BINDS}


def test_upgrade_revision_of_excluded_bind(
    three: Three, history: dict[str, list[str]]
) -> None:
    """A revision of a bind that ``bind=`` leaves out is an error."""
    with pytest.raises(RevisionError) as info:
        three.alembic.upgrade("a2", bind="default")

    assert str(info.value) == (
        "'a2' belongs to bind 'auth', which this upgrade does not include. Add"
        " --bind auth, or leave out --bind."
    )
    assert all_tables(three.urls) == {name: [] for name in BINDS}


# Downgrade


@pytest.fixture
def upgraded(three: Three, history: dict[str, list[str]]) -> Three:
    """The three binds with their whole history applied."""
    three.alembic.upgrade()
    three.applied.clear()
    return three


def test_downgrade_one_bind(upgraded: Three) -> None:
    """downgrade(bind=...) steps one bind down, leaving the others alone."""
    alembic, urls = upgraded.alembic, upgraded.urls
    alembic.downgrade(bind="auth")
    assert upgraded.applied == [("a2", "down")]
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a1"], "analytics": ["n2"]}
    assert all_tables(urls) == {
        **UPGRADED_TABLES,
        "auth": ["account", "alembic_version"],
    }
    alembic.downgrade("base", bind="analytics")
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a1"], "analytics": []}
    assert table_names(urls["analytics"]) == ["alembic_version"]
    alembic.downgrade("d1")
    assert all_rows(urls) == {"default": ["d1"], "auth": ["a1"], "analytics": []}
    assert table_names(urls["default"]) == ["alembic_version", "post"]
    assert upgraded.applied == [
        ("a2", "down"),
        ("n2", "down"),
        ("n1", "down"),
        ("d2", "down"),
    ]


def test_downgrade_base_runs_binds_in_reverse(upgraded: Three) -> None:
    """downgrade("base") takes every bind to its base, the last bind first."""
    upgraded.alembic.downgrade("base")
    assert upgraded.applied == [
        ("n2", "down"),
        ("n1", "down"),
        ("a2", "down"),
        ("a1", "down"),
        ("d2", "down"),
        ("d1", "down"),
    ]
    assert all_rows(upgraded.urls) == {name: [] for name in BINDS}
    assert all_tables(upgraded.urls) == {name: ["alembic_version"] for name in BINDS}


def test_downgrade_needs_one_bind(upgraded: Three) -> None:
    """downgrade() steps down one revision, which needs a single bind; a
    revision of a bind left out by ``bind=`` is an error. Nothing runs.
    """
    with pytest.raises(RevisionError) as info:
        upgraded.alembic.downgrade()

    assert str(info.value) == (
        "A number of revisions to downgrade differs from bind to bind. Name"
        " the bind to downgrade: --bind NAME (the binds are default, auth, analytics)."
    )

    with pytest.raises(RevisionError) as info:
        upgraded.alembic.downgrade("a1", bind=["default", "analytics"])

    assert str(info.value) == (
        "'a1' belongs to bind 'auth', which this downgrade does not include. Add"
        " --bind auth, or leave out --bind."
    )
    assert upgraded.applied == []
    assert all_rows(upgraded.urls) == {
        "default": ["d2"],
        "auth": ["a2"],
        "analytics": ["n2"],
    }


# A failing revision


def write_failing_history(root: Path, secret_url: str) -> Path:
    """Write a history whose third ``auth`` revision, ``a3``, creates a table
    and then fails with an error that repeats a URL and its password. Return
    the path of ``a3``.
    """
    write_history(
        root,
        {
            "default": [("d1", "post")],
            "auth": [("a1", "account"), ("a2", "login")],
            "analytics": [("n1", "event")],
        },
    )
    return write_revision(
        bind_dir(root, "auth"),
        "a3",
        "a2",
        "add audit",
        f"{create_table('audit')}\n"
        f"raise RuntimeError('audit store refused: ' + {secret_url!r})",
        "op.drop_table('audit')",
    )


#: Each backend in the middle once, and in each other position once.
FAILURE_LAYOUTS = [
    pytest.param(
        {"default": "sqlite", "auth": "postgresql", "analytics": "mariadb"},
        id="middle-postgresql",
    ),
    pytest.param(
        {"default": "mariadb", "auth": "sqlite", "analytics": "postgresql"},
        id="middle-sqlite",
    ),
    pytest.param(
        {"default": "postgresql", "auth": "mariadb", "analytics": "sqlite"},
        id="middle-mariadb",
    ),
]


@pytest.mark.parametrize("layout", FAILURE_LAYOUTS)
def test_failure_in_middle_bind(
    make_three: MakeThree,
    urls: dict[str, str],
    layout: dict[str, str],
    tmp_path: Path,
) -> None:
    """A revision failing on the middle bind raises MigrationError: the first
    bind is done and committed; the failed bind is rolled back to where it
    started on PostgreSQL and SQLite, and keeps the revisions before the
    failed one on MariaDB, which commits each statement; the last bind is not
    started. The message says all of this, without the password.
    """
    pg_url = next(url for url in urls.values() if url.startswith("postgresql"))
    path = write_failing_history(tmp_path, pg_url)
    three = make_three()
    transactional = layout["auth"] != "mariadb"

    with three.app.app_context():
        three.alembic.upgrade("a1")

        with pytest.raises(MigrationError) as info:
            three.alembic.upgrade()

    error = info.value
    assert isinstance(error.__cause__, RuntimeError)
    assert PASSWORD in str(error.__cause__)
    masked = sa.make_url(pg_url).render_as_string(hide_password=True)
    assert (
        error.operation,
        error.bind,
        error.revision,
        error.doc,
        error.path,
        error.reason,
        error.partial,
    ) == (
        "upgrade",
        "auth",
        "a3",
        "add audit",
        str(path),
        f"RuntimeError: audit store refused: {masked}",
        not transactional,
    )
    shown_url = sa.make_url(three.urls["auth"]).render_as_string(hide_password=True)
    assert (error.dialect, error.url) == (
        "mysql" if layout["auth"] == "mariadb" else layout["auth"],
        shown_url,
    )
    auth_now = ("a1",) if transactional else ("a2",)
    assert error.outcomes == [
        BindOutcome("default", "done", (), ("d1",)),
        BindOutcome("auth", "failed", ("a1",), auth_now),
        BindOutcome("analytics", "not started", (), ()),
    ]

    if transactional:
        auth_line = "failed, rolled back to a1, where it started"
    else:
        auth_line = (
            "failed, at a2: the revisions before a3 were applied and kept (it"
            " started at a1); a3 may be partly applied, since this database"
            " commits each DDL statement by itself: check the database"
        )

    assert str(error) == (
        f"""Upgrade failed on bind 'auth' at revision a3 "add audit" ({path}):\n"""
        f"  RuntimeError: audit store refused: {masked}\n"
        f"  Database: {error.dialect}, {shown_url}\n"
        "Where each bind is now:\n"
        "  default    done, at d1\n"
        f"  auth       {auth_line}\n"
        "  analytics  not started, at <base>\n"
        "Fix the cause, then run 'flask db upgrade' again: binds that are done"
        " have nothing left to run."
    )
    assert PASSWORD not in str(error)
    assert PASSWORD not in repr(error.outcomes)

    auth_tables = ["account", "alembic_version"]

    if not transactional:
        auth_tables += ["audit", "login"]

    assert all_tables(urls) == {
        "default": ["alembic_version", "post"],
        "auth": auth_tables,
        "analytics": [],
    }
    assert all_rows(urls) == {
        "default": ["d1"],
        "auth": list(auth_now),
        "analytics": [],
    }


def test_failure_with_transaction_per_migration(
    make_three: MakeThree, urls: dict[str, str], tmp_path: Path
) -> None:
    """With ``transaction_per_migration`` in its context, a PostgreSQL bind
    keeps the revisions that completed before the failed one, which itself is
    rolled back whole.
    """
    path = write_failing_history(tmp_path, urls["auth"])
    config = _copy(CONFIG)
    config["binds"]["auth"] = {"context": {"transaction_per_migration": True}}
    three = make_three(config)

    with three.app.app_context():
        with pytest.raises(MigrationError) as info:
            three.alembic.upgrade()

    error = info.value
    assert (error.bind, error.revision, error.path, error.partial) == (
        "auth",
        "a3",
        str(path),
        False,
    )
    assert error.outcomes == [
        BindOutcome("default", "done", (), ("d1",)),
        BindOutcome("auth", "failed", (), ("a2",)),
        BindOutcome("analytics", "not started", (), ()),
    ]
    assert (
        "  auth       failed, at a2: the revisions before a3 were applied and kept"
        " (it started at <base>)\n" in str(error)
    )
    assert PASSWORD not in str(error)
    assert table_names(urls["auth"]) == ["account", "alembic_version", "login"]
    assert all_rows(urls) == {"default": ["d1"], "auth": ["a2"], "analytics": []}


def test_failure_while_downgrading(
    make_three: MakeThree, urls: dict[str, str], tmp_path: Path
) -> None:
    """A downgrade runs the binds last first, and its failure report lists
    them in that order: the bind after the failed one is done, the one before
    it not started.
    """
    write_history(
        tmp_path,
        {"default": [("d1", "post")], "analytics": [("n1", "event")]},
    )
    write_revision(
        bind_dir(tmp_path, "auth"),
        "a1",
        None,
        "create account",
        create_table("account"),
        "op.drop_table('account')\nraise RuntimeError('keep the accounts')",
        "auth",
    )
    three = make_three()

    with three.app.app_context():
        three.alembic.upgrade()

        with pytest.raises(MigrationError) as info:
            three.alembic.downgrade("base")

    error = info.value
    assert (error.operation, error.bind, error.revision, error.partial) == (
        "downgrade",
        "auth",
        "a1",
        False,
    )
    assert error.outcomes == [
        BindOutcome("analytics", "done", ("n1",), ()),
        BindOutcome("auth", "failed", ("a1",), ("a1",)),
        BindOutcome("default", "not started", ("d1",), ("d1",)),
    ]
    assert str(error).splitlines()[0] == (
        "Downgrade failed on bind 'auth' at revision a1 \"create account\""
        f" ({bind_dir(tmp_path, 'auth') / 'a1_create_account.py'}):"
    )
    assert str(error).splitlines()[-1] == (
        "Fix the cause, then run 'flask db downgrade' again: binds that are done"
        " have nothing left to run."
    )
    assert all_rows(urls) == {"default": ["d1"], "auth": ["a1"], "analytics": []}
    assert all_tables(urls) == {
        "default": ["alembic_version", "post"],
        "auth": ["account", "alembic_version"],
        "analytics": ["alembic_version"],
    }


# Adding a bind to an app


@pytest.mark.parametrize("labelled", [False, True], ids=["unlabelled", "labelled"])
def test_add_bind_later(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    models: dict[str, sa.MetaData],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    labelled: bool,
) -> None:
    """An app with one database and its history, made by hand without a
    label or by revision() with the ``default`` label, declares a second bind:
    its existing files are not changed, revision(bind=...) starts the new
    bind's history in its own directory, and upgrade() runs it on the new
    database only. A fresh install from empty databases then gets both.
    """
    urls = {"default": make_url(on="postgresql"), "auth": make_url(on="mariadb")}
    app, alembic = make_app({"default": urls["default"]}, models["default"])
    fix_rev_ids(alembic, monkeypatch)

    with app.app_context():
        if labelled:
            first = only(alembic.revision("create post")).revision
        else:
            write_revision(
                tmp_path / "migrations",
                "d1",
                None,
                "create post",
                "op.create_table('post', sa.Column('id', sa.Integer, primary_key=True),"
                " sa.Column('name', sa.String(80)))",
                "op.drop_table('post')",
            )
            first = "d1"

        alembic.upgrade()

    before = files(tmp_path)
    assert all_rows(urls) == {"default": [first], "auth": []}
    # The second bind comes with its own models and engine.
    app, alembic = make_app(
        urls,
        {"default": models["default"], "auth": models["auth"]},
        config={"binds": {"auth": {}}},
    )
    fix_rev_ids(alembic, monkeypatch, ["1795400100", "1795400101"])
    assert files(tmp_path) == before

    with app.app_context():
        assert alembic.pending() == {"default": [], "auth": []}
        assert {k: described(v) for k, v in alembic.diffs().items()} == {
            "default": [],
            "auth": [("add_table", "account")],
        }
        rev = only(alembic.revision("create account", bind="auth"))
        assert alembic.pending() == {"default": [], "auth": [rev.revision]}
        alembic.upgrade()
        assert alembic.needs_revision() is False

    assert rev.revision == "1795400100"
    path = Path(rev.path)
    assert (
        path == tmp_path / "migrations" / "auth" / f"{rev.revision}_create_account.py"
    )
    source = path.read_text()
    assert "down_revision: Union[str, Sequence[str], None] = None" in source
    assert "branch_labels: Union[str, Sequence[str], None] = ('auth',)" in source
    assert "op.create_table('account'" in source
    assert files(tmp_path) == {
        **before,
        f"auth/{path.name}": path.read_bytes(),
    }
    assert all_rows(urls) == {"default": [first], "auth": [rev.revision]}
    assert table_names(urls["auth"]) == ["account", "alembic_version"]
    assert table_names(urls["default"]) == ["alembic_version", "post"]

    with app.app_context():
        # The default bind's history goes on where it was.
        more = only(alembic.revision("more posts", empty=True))
        assert ids(alembic.heads(bind="default")) == [more.revision]

    assert more.down_revision == first
    assert Path(more.path).parent == tmp_path / "migrations"

    fresh = {"default": make_url(on="sqlite"), "auth": make_url(on="postgresql")}
    app, alembic = make_app(
        fresh,
        {"default": models["default"], "auth": models["auth"]},
        config={"binds": {"auth": {}}},
    )

    with app.app_context():
        alembic.upgrade()
        assert alembic.needs_revision() is False

    assert all_rows(fresh) == {"default": [more.revision], "auth": [rev.revision]}
    assert all_tables(fresh) == {
        "default": ["alembic_version", "post"],
        "auth": ["account", "alembic_version"],
    }


# Comparing the models


@pytest.fixture
def generated(three: Three) -> dict[str, Script]:
    """The three binds, each with a revision generated from its models and
    applied: the revision of each bind.
    """
    revs = {
        name: only(three.alembic.revision(f"init {name}", bind=name)) for name in BINDS
    }
    three.alembic.upgrade()
    return revs


def test_diffs_drift_in_one_bind(three: Three, generated: dict[str, Script]) -> None:
    """A model change in one bind shows in that bind's diffs only."""
    alembic = three.alembic
    assert alembic.diffs() == {name: [] for name in BINDS}
    assert alembic.needs_revision() is False
    table(three.models["analytics"], "visit")
    assert {name: described(diffs) for name, diffs in alembic.diffs().items()} == {
        "default": [],
        "auth": [],
        "analytics": [("add_table", "visit")],
    }
    assert list(alembic.diffs(bind="auth")) == ["auth"]
    assert alembic.diffs(bind=["auth", "default"]) == {"default": [], "auth": []}
    assert described(alembic.diffs(bind="analytics")["analytics"]) == [
        ("add_table", "visit")
    ]
    assert described(alembic.compare_metadata()) == [("add_table", "visit")]
    assert alembic.needs_revision() is True
    assert alembic.needs_revision(bind="analytics") is True
    assert alembic.needs_revision(bind=["default", "auth"]) is False


def test_diffs_with_one_bind_behind(three: Three, generated: dict[str, Script]) -> None:
    """A bind that is behind cannot be compared, and says so; the others can."""
    alembic = three.alembic
    alembic.downgrade("base", bind="auth")

    with pytest.raises(NotUpToDateError) as info:
        alembic.diffs()

    assert (info.value.name, info.value.pending) == (
        "auth",
        [generated["auth"].revision],
    )

    with pytest.raises(NotUpToDateError, match="'auth'"):
        alembic.needs_revision()

    assert alembic.diffs(bind=["default", "analytics"]) == {
        "default": [],
        "analytics": [],
    }
    assert alembic.needs_revision(bind="analytics") is False


def test_revision_needs_only_its_bind_up_to_date(
    three: Three, generated: dict[str, Script]
) -> None:
    """revision(bind=...) compares that bind only: another bind being behind
    does not stop it, and the change of another bind is not in it.
    """
    alembic = three.alembic
    alembic.downgrade("base", bind="default")
    table(three.models["default"], "tag")
    table(three.models["auth"], "login")
    rev = only(alembic.revision("add login", bind="auth"))
    source = Path(rev.path).read_text()
    assert "op.create_table('login'" in source
    assert "'tag'" not in source
    assert rev.down_revision == generated["auth"].revision
    assert rev.branch_labels == {"auth"}
    assert alembic.pending() == {
        "default": [generated["default"].revision],
        "auth": [rev.revision],
        "analytics": [],
    }

    with pytest.raises(NotUpToDateError, match="'default'"):
        alembic.revision("add tag")


# Version tables and context options


def test_version_tables_per_bind(
    make_three: MakeThree, urls: dict[str, str], tmp_path: Path
) -> None:
    """Each bind records its revisions in its own version table, set in
    ALEMBIC_CONTEXT, in the bind, or in the bind's context, in a PostgreSQL
    schema too; a bind's context options apply to it alone. Batch mode is on
    for the SQLite bind only, unless a context sets it.
    """
    execute(urls["auth"], "CREATE SCHEMA meta")
    write_history(tmp_path)
    config = {
        "binds": {
            "analytics": {
                "depends_on": ["auth"],
                "context": {
                    "version_table": "analytics_versions",
                    "render_as_batch": True,
                },
            },
            "auth": {
                "version_table": "auth_versions",
                "version_table_schema": "meta",
                "context": {"compare_type": False},
            },
        }
    }
    three = make_three(config, context={"version_table": "app_versions"})

    with three.app.app_context():
        opts = {
            name: context.opts
            for name, context in three.alembic.migration_contexts.items()
        }
        three.alembic.upgrade()

    assert {
        name: (
            o["version_table"],
            o.get("version_table_schema"),
            o.get("render_as_batch"),
            o.get("compare_type"),
            o.get("compare_server_default"),
            len(o["on_version_apply"]),
        )
        for name, o in opts.items()
    } == {
        "default": ("app_versions", None, True, True, True, 1),
        "auth": ("auth_versions", "meta", False, False, True, 1),
        "analytics": ("analytics_versions", None, True, True, True, 1),
    }
    assert version_rows(urls["default"], "app_versions") == ["d2"]
    assert rows_in(urls["auth"], "auth_versions", "meta") == ["a2"]
    assert version_rows(urls["analytics"], "analytics_versions") == ["n2"]
    assert all_tables(urls) == {
        "default": ["app_versions", "post", "tag"],
        "auth": ["account", "login"],
        "analytics": ["analytics_versions", "event", "visit"],
    }


def test_bind_context_option_renders_its_revisions(make_three: MakeThree) -> None:
    """``render_as_batch`` in one bind's context makes that bind's revisions
    use batch operations, and no other bind's.
    """
    config = _copy(CONFIG)
    config["binds"]["analytics"]["context"] = {"render_as_batch": True}
    three = make_three(config)

    with three.app.app_context():
        for name in BINDS:
            three.alembic.revision(f"init {name}", bind=name)

        three.alembic.upgrade()

        for name in ("auth", "analytics"):
            model = three.models[name].tables[MODEL_TABLES[name]]
            model.append_column(sa.Column("email", sa.String(120)))

        auth = only(three.alembic.revision("add email", bind="auth"))
        analytics = only(three.alembic.revision("add email", bind="analytics"))

    auth_source = Path(auth.path).read_text()
    analytics_source = Path(analytics.path).read_text()
    assert "op.add_column('account'" in auth_source
    assert "batch_alter_table" not in auth_source
    assert "with op.batch_alter_table('event'" in analytics_source
    assert "batch_op.add_column(" in analytics_source


# Where the binds stand


@pytest.fixture
def auth_upgraded(three: Three, history: dict[str, list[str]]) -> Three:
    """The three binds with the hand-written history, only ``auth`` upgraded."""
    three.alembic.upgrade(bind="auth")
    return three


def test_pending_and_current(auth_upgraded: Three) -> None:
    """pending, needs_upgrade, current and current_by_database report each
    bind against its own heads, for all binds or those asked for.
    """
    alembic = auth_upgraded.alembic
    assert alembic.pending() == {
        "default": ["d1", "d2"],
        "auth": [],
        "analytics": ["n1", "n2"],
    }
    assert alembic.pending(bind="auth") == {"auth": []}
    assert alembic.pending(bind=["analytics", "auth"]) == {
        "auth": [],
        "analytics": ["n1", "n2"],
    }
    assert alembic.needs_upgrade() is True
    assert alembic.needs_upgrade(bind="auth") is False
    assert alembic.needs_upgrade(bind=["auth", "default"]) is True
    assert ids(alembic.current()) == ["a2"]
    assert alembic.current(bind="default") == ()
    assert ids(alembic.current(bind="auth")) == ["a2"]
    assert ids(alembic.current(branch="auth")) == ["a2"]
    assert alembic.current(branch="analytics") == ()
    assert {
        name: ids(revs) for name, revs in alembic.current_by_database().items()
    } == {"default": [], "auth": ["a2"], "analytics": []}
    assert {
        name: ids(revs)
        for name, revs in alembic.current_by_database(bind=["analytics"]).items()
    } == {"analytics": []}
    assert {
        name: ids(revs)
        for name, revs in alembic.current_by_database(branch="auth").items()
    } == {"auth": ["a2"]}
    alembic.upgrade("n1")
    assert alembic.pending() == {
        "default": ["d1", "d2"],
        "auth": [],
        "analytics": ["n2"],
    }
    assert ids(alembic.current()) == ["a2", "n1"]


def test_heads_and_log(auth_upgraded: Three) -> None:
    """heads and log list the revisions of every bind, or of those asked for."""
    alembic = auth_upgraded.alembic
    assert sorted(ids(alembic.heads())) == ["a2", "d2", "n2"]
    assert ids(alembic.heads(bind="auth")) == ["a2"]
    assert sorted(ids(alembic.heads(bind=["default", "analytics"]))) == ["d2", "n2"]
    assert ids(alembic.heads(branch="analytics")) == ["n2"]
    assert ids(alembic.heads(branch="default", bind="default")) == ["d2"]
    assert alembic.heads(branch="auth", bind="default") == ()
    assert sorted(ids(alembic.log())) == ["a1", "a2", "d1", "d2", "n1", "n2"]
    assert ids(alembic.log(bind="auth")) == ["a2", "a1"]
    assert ids(alembic.log(bind="default")) == ["d2", "d1"]
    assert sorted(ids(alembic.log(bind=["default", "analytics"]))) == [
        "d1",
        "d2",
        "n1",
        "n2",
    ]
    assert ids(alembic.log(branch="analytics")) == ["n2", "n1"]
    assert ids(alembic.log("n1", "n2", bind="analytics")) == ["n2", "n1"]


def test_status(auth_upgraded: Three, tmp_path: Path) -> None:
    """status has a row for each bind's branch, about that bind's database."""
    alembic = auth_upgraded.alembic
    migrations = str(tmp_path / "migrations")
    rows = {
        "default": BranchStatus(
            "default", "default", migrations, ("d2",), (), ("d1", "d2")
        ),
        "auth": BranchStatus(
            "auth", "auth", str(tmp_path / "migrations" / "auth"), ("a2",), ("a2",), ()
        ),
        "analytics": BranchStatus(
            "analytics",
            "analytics",
            str(tmp_path / "migrations" / "analytics"),
            ("n2",),
            (),
            ("n1", "n2"),
        ),
    }
    assert alembic.status() == [rows[name] for name in BINDS]
    assert alembic.status(bind="auth") == [rows["auth"]]
    assert alembic.status(bind=["analytics", "default"]) == [
        rows["default"],
        rows["analytics"],
    ]
    assert alembic.status(branch="analytics") == [rows["analytics"]]

    for call in (
        lambda: alembic.status(branch="analytics", bind="auth"),
        lambda: alembic.current(branch="analytics", bind=["default", "auth"]),
    ):
        with pytest.raises(RevisionError) as info:
            call()

        assert str(info.value) == (
            "Branch 'analytics' runs on bind 'analytics', which --bind leaves out."
        )

    assert [row.up_to_date for row in alembic.status()] == [False, True, False]


# Named branches on a bind


def test_named_branch_on_bind(
    make_three: MakeThree, urls: dict[str, str], tmp_path: Path
) -> None:
    """A branch declared with ``bind`` gets its revisions from that bind's
    models and runs on it; a branch depending on a branch of another bind
    makes its bind run after that one.
    """
    config = {
        "binds": {"auth": {}, "analytics": {}},
        "branches": {"reports": {"bind": "default", "depends_on": ["analytics"]}},
    }
    three = make_three(config)
    alembic = three.alembic

    with three.app.app_context():
        assert list(alembic.registry.binds) == ["auth", "analytics", "default"]
        assert list(alembic.migration_contexts) == ["auth", "analytics", "default"]
        analytics = only(alembic.revision("init analytics", bind="analytics"))
        reports = only(alembic.revision("init reports", branch="reports"))
        auth = only(alembic.revision("init auth", bind="auth"))
        alembic.upgrade()
        assert alembic.needs_revision() is False
        assert ids(alembic.heads(bind="default")) == [reports.revision]
        assert [row.branch for row in alembic.status(bind="default")] == [
            "default",
            "reports",
        ]

    assert Path(reports.path).parent == tmp_path / "migrations" / "reports"
    assert "op.create_table('post'" in Path(reports.path).read_text()
    # Not a dependency between revisions: the other bind's revision is not
    # in this bind's version table.
    assert reports.dependencies is None
    assert three.applied == [
        (auth.revision, "up"),
        (analytics.revision, "up"),
        (reports.revision, "up"),
    ]
    assert all_rows(urls) == {
        "default": [reports.revision],
        "auth": [auth.revision],
        "analytics": [analytics.revision],
    }


# Mistakes


@pytest.mark.parametrize("integration", ["flask_sqlalchemy_lite", "sqlalchemy"])
def test_bind_without_engine_or_metadata(
    make_app: AppFactory, urls: dict[str, str], models: dict[str, sa.MetaData]
) -> None:
    """A bind with no engine, or no metadata, is named in a TargetError before
    anything runs.
    """
    app, alembic = make_app(
        {"default": urls["default"], "analytics": urls["analytics"]},
        {"default": models["default"], "auth": models["auth"]},
        config=_copy(CONFIG),
    )

    with app.app_context():
        with pytest.raises(TargetError) as info:
            alembic.upgrade()

    assert str(info.value) == (
        "No engine for bind 'auth' (the engines are 'default', 'analytics')."
        " Configure it in Flask-SQLAlchemy(-Lite) under the bind's name, or"
        " pass it in 'engines' when creating the Alembic extension. No metadata"
        " for bind 'analytics'. With Flask-SQLAlchemy, give its models"
        " __bind_key__; otherwise pass it in 'metadatas' when creating the"
        " Alembic extension."
    )
    assert all_tables(urls) == {name: [] for name in BINDS}


def test_models_of_undeclared_bind(make_fsa: MakeFsa, tmp_path: Path) -> None:
    """Flask-SQLAlchemy models whose ``__bind_key__`` is not a declared bind
    would never be migrated: a TargetError names the key and the tables. A
    configured bind key without models is left alone.
    """
    urls = {
        name: f"sqlite:///{tmp_path / name}.sqlite"
        for name in ("default", "auth", "reports", "replica")
    }
    tables = {"post": "default", "account": "auth", "report": "reports"}
    app, alembic = make_fsa(urls, {"auth": {}}, {**tables, "chart": "reports"})

    with app.app_context():
        with pytest.raises(TargetError) as info:
            alembic.pending()

    assert str(info.value) == (
        "Models with __bind_key__ 'reports' (tables: chart, report) belong to"
        " no bind, so no revision would ever create them. Declare each in"
        " ALEMBIC['binds']."
    )
    app, alembic = make_fsa(urls, {"auth": {}, "reports": {}}, tables)

    with app.app_context():
        assert alembic.pending() == {"default": [], "auth": [], "reports": []}
        assert list(alembic.migration_contexts) == ["default", "auth", "reports"]


def test_mixing_shared_history_and_binds(tmp_path: Path) -> None:
    """Databases given to Alembic() that are not declared binds would be a
    shared history inside per-bind ones: init_app raises ConfigError, before
    the migrations directory is made.
    """
    app = Flask("test_app", root_path=str(tmp_path))
    app.config["ALEMBIC"] = {"binds": {"auth": {}}}
    engine = sa.create_engine("sqlite://")

    try:
        with pytest.raises(ConfigError) as info:
            Alembic(
                app,
                metadatas={"default": sa.MetaData(), "reports": sa.MetaData()},
                engines={"default": engine, "auth": engine, "other": engine},
            )
    finally:
        engine.dispose()

    why = (
        " which is not a declared bind. With ALEMBIC['binds'] each database has"
        " its own history and must be declared there; to keep one shared"
        " history for every database, remove ALEMBIC['binds'] instead"
    )
    assert info.value.problems == [
        ("ALEMBIC.binds", f"Alembic(metadatas=...) names 'reports',{why}"),
        ("ALEMBIC.binds", f"Alembic(engines=...) names 'other',{why}"),
    ]
    assert str(info.value).startswith("The Alembic configuration has 2 problems:\n")
    assert "alembic" not in app.extensions
    assert not (tmp_path / "migrations").exists()


@pytest.mark.parametrize("on", ["sqlite", "postgresql", "mariadb"])
def test_binds_sharing_a_version_table(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    models: dict[str, sa.MetaData],
    on: str,
) -> None:
    """Two binds on one database would read each other's revisions from one
    version table: a TargetError says how to separate them, without the
    password. With a version table each, they share the database.
    """
    url = with_password(make_url(on=on))
    urls = {"default": url, "auth": url}
    metadatas = {"default": models["default"], "auth": models["auth"]}
    app, alembic = make_app(urls, metadatas, config={"binds": {"auth": {}}})

    with app.app_context():
        with pytest.raises(TargetError) as info:
            alembic.pending()

    shown = sa.make_url(url).render_as_string(hide_password=True)
    assert str(info.value) == (
        "Binds 'default' and 'auth' would both record their revisions in"
        f" alembic_version of {shown}. Give one its own version table:"
        " ALEMBIC['binds']['auth']['version_table']."
    )
    assert PASSWORD not in str(info.value)
    app, alembic = make_app(
        urls, metadatas, config={"binds": {"auth": {"version_table": "auth_version"}}}
    )
    write_history(
        Path(app.root_path),
        {"default": [("d1", "post")], "auth": [("a1", "account")]},
    )

    with app.app_context():
        alembic.upgrade()

    assert table_names(url) == ["account", "alembic_version", "auth_version", "post"]
    assert version_rows(url) == ["d1"]
    assert version_rows(url, "auth_version") == ["a1"]


def test_unknown_bind(three: Three, history: dict[str, list[str]]) -> None:
    """An unknown bind name raises UnknownBindError, a KeyError, suggesting a
    close name and listing the binds.
    """
    alembic = three.alembic
    calls: list[cabc.Callable[[], object]] = [
        lambda: alembic.upgrade(bind="auht"),
        lambda: alembic.downgrade(bind=["default", "auht"]),
        lambda: alembic.stamp(bind="auht"),
        lambda: alembic.pending(bind="auht"),
        lambda: alembic.diffs(bind="auht"),
        lambda: alembic.heads(bind="auht"),
        lambda: alembic.status(bind="auht"),
        lambda: alembic.revision("x", bind="auht"),
    ]

    for call in calls:
        with pytest.raises(UnknownBindError) as info:
            call()

        assert isinstance(info.value, KeyError)
        assert str(info.value) == (
            "Unknown bind 'auht'. Did you mean 'auth'? The binds are: default,"
            " auth, analytics."
        )
        assert (info.value.name, info.value.known) == ("auht", list(BINDS))

    with pytest.raises(UnknownBindError) as info:
        alembic.current(bind="nothing")

    assert str(info.value) == (
        "Unknown bind 'nothing'. The binds are: default, auth, analytics."
    )
    assert all_tables(three.urls) == {name: [] for name in BINDS}
    assert not (Path(three.app.root_path) / "migrations" / "auht").exists()


def test_revision_with_shared_history_template(
    make_three: MakeThree, tmp_path: Path
) -> None:
    """A migrations directory that still has the multidb template of a shared
    history makes revision() raise ConfigError saying how to replace it, and
    writes nothing.
    """
    three = make_three(_copy(CONFIG))
    template = tmp_path / "migrations" / "script.py.mako"
    template.write_text("def upgrade(engine_name):\n    pass\n")
    before = files(tmp_path)

    with three.app.app_context():
        with pytest.raises(ConfigError) as info:
            three.alembic.revision("x", bind="auth")

    assert info.value.problems == [
        (
            "ALEMBIC.binds",
            f"{template} is the template of a shared history, whose revisions"
            " run on every database; with per-bind histories each revision runs"
            " on one bind. Delete the file and run 'flask db mkdir' to get the"
            " single-database template",
        )
    ]
    assert files(tmp_path) == before


def test_revision_branch_of_another_bind(make_three: MakeThree, tmp_path: Path) -> None:
    """revision(bind=...) with a branch of another bind raises RevisionError
    and writes nothing; without ``bind`` the branch's own bind is used.
    """
    config = _copy(CONFIG)
    config["branches"] = {"reports": {"bind": "analytics"}}
    three = make_three(config)

    with three.app.app_context():
        for branch in ("reports", "analytics"):
            with pytest.raises(RevisionError) as info:
                three.alembic.revision("x", branch=branch, bind="auth")

            assert str(info.value) == (
                f"Branch '{branch}' runs on bind 'analytics', not 'auth'. Leave"
                " out --bind, or pick a branch of bind 'auth'."
            )

        assert files(tmp_path) == {"script.py.mako": files(tmp_path)["script.py.mako"]}
        rev = only(three.alembic.revision("init reports", branch="reports"))

    assert rev.branch_labels == {"reports"}
    assert "op.create_table('event'" in Path(rev.path).read_text()


def test_revision_bind_in_shared_history(
    make_app: AppFactory, urls: dict[str, str], models: dict[str, sa.MetaData]
) -> None:
    """Databases that share one history have no revisions of their own:
    revision(bind=...) for some of them raises RevisionError.
    """
    app, alembic = make_app(urls, models)

    with app.app_context():
        with pytest.raises(RevisionError) as info:
            alembic.revision("x", bind="auth")

        assert alembic.log() == []

    assert str(info.value) == (
        "The databases share one history, so a revision covers all of them;"
        " leave out --bind. To give each database its own history, declare"
        " ALEMBIC['binds']."
    )


def test_merge_across_binds(three: Three, tmp_path: Path) -> None:
    """Revisions of different binds cannot be merged; two heads of one bind
    are, the merge going into that bind's directory.
    """
    write_history(tmp_path)
    write_revision(
        bind_dir(tmp_path, "auth"), "a3", "a1", "create role", create_table("role")
    )
    before = files(tmp_path)

    with pytest.raises(RevisionError) as info:
        three.alembic.merge(["d2", "a2"])

    assert str(info.value) == (
        "The revisions to merge run on different binds (auth, default); each"
        " bind has its own history. Name the heads of one bind: flask db heads"
        " --bind NAME, then flask db merge REV REV."
    )
    assert files(tmp_path) == before
    assert sorted(ids(three.alembic.heads(bind="auth"))) == ["a2", "a3"]
    merged = three.alembic.merge(["a2", "a3"])
    assert merged is not None
    assert Path(merged.path).parent == bind_dir(tmp_path, "auth")
    assert ids(three.alembic.heads(bind="auth")) == [merged.revision]
    three.alembic.upgrade(bind="auth")
    assert version_rows(three.urls["auth"]) == [merged.revision]


def test_stamp(three: Three, history: dict[str, list[str]]) -> None:
    """stamp() records each bind's own heads in its own version table without
    running anything; a revision id or ``base`` with ``bind`` moves one bind.
    """
    alembic, urls = three.alembic, three.urls
    alembic.stamp()
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a2"], "analytics": ["n2"]}
    assert all_tables(urls) == {name: ["alembic_version"] for name in BINDS}
    alembic.stamp("a1")
    alembic.stamp("base", bind="analytics")
    assert all_rows(urls) == {"default": ["d2"], "auth": ["a1"], "analytics": []}
    assert all_tables(urls) == {name: ["alembic_version"] for name in BINDS}


# Two binds in one database


@pytest.mark.parametrize("on", ["sqlite", "postgresql"])
def test_two_binds_in_one_database_autogenerate(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    models: dict[str, sa.MetaData],
    monkeypatch: pytest.MonkeyPatch,
    on: str,
) -> None:
    """A revision generated for one of two binds that share a database, with
    a version table each, does not touch the other bind's version table.
    """
    url = make_url(on=on)
    app, alembic = make_app(
        {"default": url, "auth": url},
        {"default": models["default"], "auth": models["auth"]},
        config={"binds": {"auth": {"version_table": "auth_version"}}},
    )
    fix_rev_ids(alembic, monkeypatch)

    with app.app_context():
        default = only(alembic.revision("create post"))
        alembic.upgrade()
        auth = only(alembic.revision("create account", bind="auth"))
        alembic.upgrade()
        assert alembic.pending() == {"default": [], "auth": []}

    text = Path(auth.path).read_text()
    assert "alembic_version" not in text
    assert "'post'" not in text
    assert version_rows(url) == [default.revision]
    assert version_rows(url, "auth_version") == [auth.revision]


def test_branch_depending_on_its_binds_branch(
    make_app: AppFactory, make_url: cabc.Callable[..., str]
) -> None:
    """A named branch that depends on the branch of its own bind gets an
    Alembic dependency, and upgrading the bind reaches both heads without
    Alembic calling them overlapping.
    """
    urls = {"default": make_url(on="sqlite"), "auth": make_url(on="sqlite")}
    app, alembic = make_app(
        urls,
        {"default": sa.MetaData(), "auth": sa.MetaData()},
        config={
            "binds": {"auth": {}},
            "branches": {"sessions": {"bind": "auth", "depends_on": ["auth"]}},
        },
    )

    with app.app_context():
        users = only(alembic.revision("users", empty=True, bind="auth"))
        sessions = only(alembic.revision("sessions", empty=True, branch="sessions"))
        assert sessions.dependencies == users.revision
        assert alembic.pending() == {
            "default": [],
            "auth": [users.revision, sessions.revision],
        }
        alembic.upgrade()
        assert alembic.needs_upgrade() is False

    assert version_rows(urls["auth"]) == [sessions.revision]
    assert version_rows(urls["default"]) == []


def test_two_binds_in_one_sqlite_file_read_then_upgrade(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    tmp_path: Path,
) -> None:
    """``if alembic.needs_upgrade(): alembic.upgrade()`` works for two binds
    in one SQLite file, each with its own version table.
    """
    # Fail in a fifth of a second rather than after SQLite's default 5 s.
    url = make_url(on="sqlite") + "?timeout=0.2"
    app, alembic = make_app(
        {"default": url, "auth": url},
        {"default": sa.MetaData(), "auth": sa.MetaData()},
        config={"binds": {"auth": {"version_table": "auth_version"}}},
    )
    write_history(tmp_path, {"default": [("d1", "post")], "auth": [("a1", "account")]})

    with app.app_context():
        assert alembic.needs_upgrade() is True
        alembic.upgrade()

    assert version_rows(url) == ["d1"]
    assert version_rows(url, "auth_version") == ["a1"]


# SQLite in a transaction


@pytest.mark.parametrize("transactional", [True, False])
def test_sqlite_failed_revision_is_rolled_back(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    tmp_path: Path,
    transactional: bool,
) -> None:
    """With a single SQLite database, a revision that fails after creating a
    table leaves no table behind, since flask_alembic makes the driver run it
    in a transaction; ``transactional_ddl: False`` keeps the driver's own
    behaviour, which commits each statement.
    """
    url = make_url(on="sqlite")
    context = None if transactional else {"transactional_ddl": False}
    app, alembic = make_app({"default": url}, sa.MetaData(), context=context)
    write_revision(
        tmp_path / "migrations",
        "f1",
        None,
        "create widget",
        f"{create_table('widget')}\nraise RuntimeError('boom')",
    )

    with app.app_context():
        with pytest.raises(MigrationError) as info:
            alembic.upgrade()

    error = info.value
    assert (error.bind, error.revision, error.reason, error.partial) == (
        "default",
        "f1",
        "RuntimeError: boom",
        not transactional,
    )
    assert isinstance(error.__cause__, RuntimeError)

    if transactional:
        assert table_names(url) == []
    else:
        assert table_names(url) == ["alembic_version", "widget"]

    assert version_rows(url) == []
