"""Offline SQL (``Alembic.sql``), plans (``Alembic.plan``) and
``stamp(purge=True)`` through the Python API.

The history is written by hand so the SQL is known: ``default`` has ``d1``
(creates ``post``) then ``d2`` (creates ``tag``); with per-bind histories,
``auth`` has ``a1`` (creates ``account``, labelled ``auth``) then ``a2``
(creates ``login``) in ``migrations/auth/``.
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
from flask_alembic import BindPlan
from flask_alembic import FlaskAlembicError
from flask_alembic import HistoryError
from flask_alembic import RevisionError

from .conftest import AppFactory
from .conftest import INTEGRATIONS
from .conftest import table_names
from .conftest import version_rows

#: URLs of servers that are not there: rendering SQL must not need them.
UNREACHABLE = {
    "postgresql": "postgresql+psycopg2://u:secret@127.0.0.1:1/nope",
    "mariadb": "mysql+pymysql://u:secret@127.0.0.1:1/nope",
}

#: Each bind's revisions, oldest first: (revision id, table it creates).
HISTORY = {
    "default": [("d1", "post"), ("d2", "tag")],
    "auth": [("a1", "account"), ("a2", "login")],
}

#: What ``sql("upgrade")`` renders for :data:`HISTORY`'s default bind on
#: SQLite, from base.
SQLITE_UPGRADE = """\
BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, \n\
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> d1

CREATE TABLE post (
    id INTEGER NOT NULL, \n\
    PRIMARY KEY (id)
);

INSERT INTO alembic_version (version_num) VALUES ('d1') RETURNING version_num;

-- Running upgrade d1 -> d2

CREATE TABLE tag (
    id INTEGER NOT NULL, \n\
    PRIMARY KEY (id)
);

UPDATE alembic_version SET version_num='d2' WHERE alembic_version.version_num = 'd1';

COMMIT;

"""

#: The first line of each statement of the same upgrade, on each backend.
#: PostgreSQL has transactional DDL, so its script is one transaction as
#: SQLite's is; MariaDB commits each DDL statement, so it has none.
UPGRADE_HEADS = [
    "CREATE TABLE alembic_version (",
    "-- Running upgrade  -> d1",
    "CREATE TABLE post (",
    "INSERT INTO alembic_version (version_num) VALUES ('d1');",
    "-- Running upgrade d1 -> d2",
    "CREATE TABLE tag (",
    "UPDATE alembic_version SET version_num='d2'"
    " WHERE alembic_version.version_num = 'd1';",
]
TRANSACTIONAL = {"sqlite": True, "postgresql": True, "mariadb": False}


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines, unless a test parametrizes it."""
    return t.cast(str, request.param)


def write_revision(
    directory: Path, rev: str, down: str | None, table: str, label: str | None = None
) -> Path:
    """Write a revision that creates a table, and drops it on downgrade."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{rev}_create_{table}.py"
    labels = (label,) if label else None
    path.write_text(
        f'"""create {table}"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        f"    op.create_table({table!r}, sa.Column('id', sa.Integer,"
        " primary_key=True))\n\n\n"
        "def downgrade():\n"
        f"    op.drop_table({table!r})\n"
    )
    return path


def write_history(root: Path, binds: cabc.Iterable[str] = ("default",)) -> None:
    """Write :data:`HISTORY` of the given binds under ``root/migrations``."""
    for bind in binds:
        directory = root / "migrations"

        if bind != "default":
            directory = directory / bind

        down = None

        for rev, table in HISTORY[bind]:
            label = bind if down is None and bind != "default" else None
            write_revision(directory, rev, down, table, label)
            down = rev


def statements(text: str) -> list[str]:
    """The first line of each statement of a script, without the
    ``RETURNING`` clause SQLAlchemy adds to an ``INSERT`` on some dialects.
    """
    found = []

    for chunk in text.split("\n\n"):
        if chunk.strip():
            line = chunk.strip().splitlines()[0]

            if " RETURNING " in line:
                line = line.split(" RETURNING ")[0] + ";"

            found.append(line)

    return found


def body(text: str, backend: str) -> list[str]:
    """:func:`statements`, without the ``BEGIN;`` and ``COMMIT;`` a backend
    with transactional DDL wraps them in, which must be there.
    """
    found = statements(text)

    if TRANSACTIONAL[backend]:
        assert found[0] == "BEGIN;"
        assert found[-1] == "COMMIT;"
        return found[1:-1]

    assert "BEGIN;" not in found
    assert "COMMIT;" not in found
    return found


def ids(revisions: cabc.Iterable[Script]) -> list[str]:
    """The ids of revisions, in order."""
    return [rev.revision for rev in revisions]


def execute(url: str, *sql: str) -> None:
    """Run statements on a database and commit them."""
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            for statement in sql:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def offline_url(backend: str, tmp_path: Path) -> str:
    """A URL on the backend whose server is not there (an SQLite file that
    does not exist yet).
    """
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'never.sqlite'}"

    return UNREACHABLE[backend]


@pytest.fixture
def offline(
    make_app: AppFactory, offline_url: str, tmp_path: Path
) -> cabc.Iterator[Alembic]:
    """The default bind's history, on a database that cannot be reached,
    in an app context.
    """
    write_history(tmp_path)
    app, alembic = make_app({"default": offline_url}, sa.MetaData())

    with app.app_context():
        yield alembic


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sql_upgrade_sqlite_text(offline: Alembic, tmp_path: Path) -> None:
    """On SQLite, the whole upgrade from base is one transaction creating the
    version table, then each revision's DDL and version row in order.
    """
    assert offline.sql("upgrade") == {"default": SQLITE_UPGRADE}
    assert not (tmp_path / "never.sqlite").exists()


def test_sql_upgrade_unreachable(offline: Alembic, backend: str) -> None:
    """Each backend's dialect renders the upgrade with no server there: the
    version table, each revision's DDL and its version row, in order.
    """
    result = offline.sql("upgrade")
    assert list(result) == ["default"]
    assert body(result["default"], backend) == UPGRADE_HEADS
    assert "secret" not in result["default"]


def test_sql_start_target(offline: Alembic, backend: str) -> None:
    """``START:TARGET`` renders only the steps after START, with no version
    table creation.
    """
    assert body(offline.sql("upgrade", "d1:d2")["default"], backend) == [
        "-- Running upgrade d1 -> d2",
        "CREATE TABLE tag (",
        "UPDATE alembic_version SET version_num='d2'"
        " WHERE alembic_version.version_num = 'd1';",
    ]
    head = UPGRADE_HEADS[:4]
    assert body(offline.sql("upgrade", "d1")["default"], backend) == head


def test_sql_stamp(offline: Alembic, backend: str) -> None:
    """Stamp renders only version table statements, no revision's DDL."""
    assert body(offline.sql("stamp")["default"], backend) == [
        "CREATE TABLE alembic_version (",
        "-- Running stamp_revision  -> d2",
        "INSERT INTO alembic_version (version_num) VALUES ('d2');",
    ]
    assert body(offline.sql("stamp", "d1:d2")["default"], backend) == [
        "-- Running stamp_revision d1 -> d2",
        "UPDATE alembic_version SET version_num='d2'"
        " WHERE alembic_version.version_num = 'd1';",
    ]


def test_sql_downgrade(offline: Alembic, backend: str) -> None:
    """Downgrade renders each revision's downgrade from START, down to base
    with the version row deleted.
    """
    assert body(offline.sql("downgrade", "d2:d1")["default"], backend) == [
        "-- Running downgrade d2 -> d1",
        "DROP TABLE tag;",
        "UPDATE alembic_version SET version_num='d1'"
        " WHERE alembic_version.version_num = 'd2';",
    ]
    assert body(offline.sql("downgrade", "d2:base")["default"], backend) == [
        "-- Running downgrade d2 -> d1",
        "DROP TABLE tag;",
        "UPDATE alembic_version SET version_num='d1'"
        " WHERE alembic_version.version_num = 'd2';",
        "-- Running downgrade d1 ->",
        "DROP TABLE post;",
        "DELETE FROM alembic_version WHERE alembic_version.version_num = 'd1';",
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("target", ["d1", "base", "-1"])
def test_sql_downgrade_needs_start(offline: Alembic, target: str) -> None:
    """An offline downgrade reads no database, so it needs START."""
    with pytest.raises(RevisionError) as info:
        offline.sql("downgrade", target)

    assert str(info.value) == (
        "Offline downgrade needs the revision to start from, as START:TARGET"
        " (such as 'heads:-1'), since no database is read."
    )


@pytest.mark.parametrize("integration", INTEGRATIONS, indirect=True)
def test_sql_leaves_database_alone(
    make_app: AppFactory, url: str, tmp_path: Path
) -> None:
    """Rendering every operation's SQL creates nothing in a real database."""
    write_history(tmp_path)
    app, alembic = make_app({"default": url}, sa.MetaData())

    with app.app_context():
        assert "CREATE TABLE post" in alembic.sql("upgrade")["default"]
        assert "DROP TABLE tag" in alembic.sql("downgrade", "d2:base")["default"]
        assert "d2" in alembic.sql("stamp")["default"]

    assert table_names(url) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sql_two_heads(offline: Alembic, tmp_path: Path) -> None:
    """An upgrade of a branch with two heads refuses, naming both heads, as
    the online upgrade does.
    """
    write_revision(tmp_path / "migrations", "d3", "d1", "side")

    with pytest.raises(HistoryError) as info:
        offline.sql("upgrade")

    assert str(info.value).splitlines() == [
        "The revision history has 1 problem:",
        "  branch 'default' has 2 heads: d2, d3 (migrations/d2_create_tag.py,"
        " migrations/d3_create_side.py). Join them with 'flask db merge d2 d3'.",
        "Fix them, then run 'flask db verify' to check.",
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sql_unknown_operation(offline: Alembic) -> None:
    """An operation other than upgrade, downgrade and stamp is refused."""
    with pytest.raises(ValueError, match="Unknown operation 'merge'"):
        offline.sql("merge")


def test_sql_version_table(
    make_app: AppFactory, offline_url: str, backend: str, tmp_path: Path
) -> None:
    """``ALEMBIC_CONTEXT['version_table']`` names the version table in the
    SQL, as it does online.
    """
    write_history(tmp_path)
    app, alembic = make_app(
        {"default": offline_url},
        sa.MetaData(),
        context={"version_table": "my_versions"},
    )

    with app.app_context():
        text = alembic.sql("upgrade")["default"]

    assert body(text, backend) == [
        head.replace("alembic_version", "my_versions") for head in UPGRADE_HEADS
    ]
    assert "alembic_version" not in text


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sql_version_table_schema(
    make_app: AppFactory, url: str, tmp_path: Path
) -> None:
    """``version_table_schema`` puts the version table in that schema in the
    SQL, and the database is left as it was.
    """
    execute(url, "CREATE SCHEMA audit")
    write_history(tmp_path)
    app, alembic = make_app(
        {"default": url},
        sa.MetaData(),
        context={"version_table": "my_versions", "version_table_schema": "audit"},
    )

    with app.app_context():
        text = alembic.sql("upgrade")["default"]

    assert body(text, "postgresql") == [
        "CREATE TABLE audit.my_versions (",
        "-- Running upgrade  -> d1",
        "CREATE TABLE post (",
        "INSERT INTO audit.my_versions (version_num) VALUES ('d1');",
        "-- Running upgrade d1 -> d2",
        "CREATE TABLE tag (",
        "UPDATE audit.my_versions SET version_num='d2'"
        " WHERE audit.my_versions.version_num = 'd1';",
    ]
    engine = sa.create_engine(url)

    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names(schema="audit") == []
    finally:
        engine.dispose()

    assert table_names(url) == []


@dataclasses.dataclass
class TwoBinds:
    """An app with per-bind histories: ``default`` on SQLite and ``auth`` on
    the test's backend, each with :data:`HISTORY` written.
    """

    app: Flask
    alembic: Alembic
    urls: dict[str, str]


@pytest.fixture
def make_two(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> cabc.Callable[..., TwoBinds]:
    """Make the two binds: ``make_two(auth={...}, context=None)``, where
    ``auth`` is the bind's settings in ``ALEMBIC["binds"]``.
    """
    write_history(tmp_path, ("default", "auth"))
    urls = {"default": make_url(on="sqlite"), "auth": make_url()}

    def make(
        auth: dict[str, t.Any] | None = None, context: dict[str, t.Any] | None = None
    ) -> TwoBinds:
        metadatas = {name: sa.MetaData() for name in urls}
        app, alembic = make_app(
            urls,
            metadatas,
            config={"binds": {"auth": dict(auth or {})}},
            context=context,
        )
        return TwoBinds(app, alembic, urls)

    return make


@pytest.fixture
def two(make_two: cabc.Callable[..., TwoBinds]) -> cabc.Iterator[TwoBinds]:
    """The two binds with default settings, in an app context."""
    made = make_two()

    with made.app.app_context():
        yield made


def auth_upgrade(table: str = "alembic_version") -> list[str]:
    """The statements of auth's whole upgrade."""
    return [
        f"CREATE TABLE {table} (",
        "-- Running upgrade  -> a1",
        "CREATE TABLE account (",
        f"INSERT INTO {table} (version_num) VALUES ('a1');",
        "-- Running upgrade a1 -> a2",
        "CREATE TABLE login (",
        f"UPDATE {table} SET version_num='a2' WHERE {table}.version_num = 'a1';",
    ]


def test_sql_per_bind(two: TwoBinds, backend: str) -> None:
    """Per-bind histories render one script per database, in the order they
    run, each with its own revisions only; nothing is created.
    """
    result = two.alembic.sql("upgrade")
    assert list(result) == ["default", "auth"]
    assert result["default"] == SQLITE_UPGRADE
    assert body(result["auth"], backend) == auth_upgrade()
    assert two.alembic.sql("upgrade", bind="auth") == {"auth": result["auth"]}
    assert two.alembic.sql("upgrade", bind="default") == {"default": result["default"]}
    assert table_names(two.urls["default"]) == []
    assert table_names(two.urls["auth"]) == []


def test_sql_per_bind_start(two: TwoBinds, backend: str) -> None:
    """A START revision belongs to one bind, so only that bind is rendered,
    and only with the steps after START.
    """
    for bind in (None, "auth", ["default", "auth"]):
        result = two.alembic.sql("upgrade", "a1:heads", bind=bind)
        assert list(result) == ["auth"]
        assert body(result["auth"], backend) == auth_upgrade()[4:]

    result = two.alembic.sql("downgrade", "a2:base")
    assert list(result) == ["auth"]
    assert body(result["auth"], backend) == [
        "-- Running downgrade a2 -> a1",
        "DROP TABLE login;",
        "UPDATE alembic_version SET version_num='a1'"
        " WHERE alembic_version.version_num = 'a2';",
        "-- Running downgrade a1 ->",
        "DROP TABLE account;",
        "DELETE FROM alembic_version WHERE alembic_version.version_num = 'a1';",
    ]


def test_sql_per_bind_start_other_bind(two: TwoBinds) -> None:
    """A START of a bind not asked for is refused, naming its bind."""
    with pytest.raises(RevisionError) as info:
        two.alembic.sql("upgrade", "a1:heads", bind="default")

    assert str(info.value) == (
        "The start revision 'a1' belongs to bind 'auth', which was not asked"
        " for. Add --bind auth, or start from a revision of the binds asked for."
    )


@pytest.mark.parametrize(
    "auth",
    [
        {"context": {"version_table": "auth_versions"}},
        {"version_table": "auth_versions"},
    ],
    ids=["context", "setting"],
)
def test_sql_per_bind_options(
    make_two: cabc.Callable[..., TwoBinds], auth: dict[str, t.Any], backend: str
) -> None:
    """A bind's own version table applies to its script only."""
    made = make_two(auth)

    with made.app.app_context():
        result = made.alembic.sql("upgrade")

    assert result["default"] == SQLITE_UPGRADE
    assert body(result["auth"], backend) == auth_upgrade("auth_versions")
    assert "alembic_version" not in result["auth"]


def test_sql_per_bind_context_over_global(
    make_two: cabc.Callable[..., TwoBinds], backend: str
) -> None:
    """``ALEMBIC_CONTEXT`` applies to every bind unless the bind's own
    ``context`` overrides it.
    """
    made = make_two(
        {"context": {"version_table": "auth_versions"}},
        context={"version_table": "my_versions"},
    )

    with made.app.app_context():
        result = made.alembic.sql("upgrade")

    assert body(result["default"], "sqlite") == [
        head.replace("alembic_version", "my_versions") for head in UPGRADE_HEADS
    ]
    assert body(result["auth"], backend) == auth_upgrade("auth_versions")


def plans(alembic: Alembic, *args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    """A plan as plain data: ``{bind: (operation, current, revision ids)}``."""
    result: dict[str, BindPlan] = alembic.plan(*args, **kwargs)

    for name, plan in result.items():
        assert plan.bind == name

    return {
        name: (plan.operation, plan.current, ids(plan.revisions))
        for name, plan in result.items()
    }


@pytest.fixture
def single(make_app: AppFactory, url: str, tmp_path: Path) -> cabc.Iterator[Alembic]:
    """The default bind's history on a real database, in an app context."""
    write_history(tmp_path)
    app, alembic = make_app({"default": url}, sa.MetaData())

    with app.app_context():
        yield alembic


def test_plan_upgrade(single: Alembic, url: str) -> None:
    """The upgrade plan lists what would run from where the database is,
    and runs none of it.
    """
    assert plans(single) == {"default": ("upgrade", (), ["d1", "d2"])}
    assert plans(single, "upgrade", "d1") == {"default": ("upgrade", (), ["d1"])}
    assert table_names(url) == []
    single.upgrade("d1")
    assert plans(single) == {"default": ("upgrade", ("d1",), ["d2"])}
    assert version_rows(url) == ["d1"]
    assert table_names(url) == ["alembic_version", "post"]
    single.upgrade()
    assert plans(single) == {"default": ("upgrade", ("d2",), [])}
    assert version_rows(url) == ["d2"]


def test_plan_revisions_are_scripts(single: Alembic, tmp_path: Path) -> None:
    """A plan's revisions are the revision scripts, with their files."""
    plan = single.plan()["default"]
    assert isinstance(plan, BindPlan)
    assert [Path(rev.path) for rev in plan.revisions] == [
        tmp_path / "migrations" / "d1_create_post.py",
        tmp_path / "migrations" / "d2_create_tag.py",
    ]
    assert [rev.doc for rev in plan.revisions] == ["create post", "create tag"]


def test_plan_downgrade(single: Alembic, url: str) -> None:
    """The downgrade plan is one step by default, newest first down to a
    target, and runs nothing.
    """
    single.upgrade()
    assert plans(single, "downgrade") == {"default": ("downgrade", ("d2",), ["d2"])}
    assert plans(single, "downgrade", "base") == {
        "default": ("downgrade", ("d2",), ["d2", "d1"])
    }
    assert plans(single, "downgrade", "d1") == {
        "default": ("downgrade", ("d2",), ["d2"])
    }
    assert version_rows(url) == ["d2"]
    assert table_names(url) == ["alembic_version", "post", "tag"]


def test_plan_downgrade_at_base(single: Alembic, url: str) -> None:
    """A database at base has no step to go down, as for ``downgrade``."""
    with pytest.raises(RevisionError) as info:
        single.plan("downgrade")

    assert str(info.value) == (
        "Relative revision -1 didn't produce 1 migrations: there are fewer"
        " revisions in that direction. Run 'flask db log' to list them."
    )
    assert plans(single, "downgrade", "base") == {"default": ("downgrade", (), [])}
    assert table_names(url) == []


def test_plan_unknown_operation(single: Alembic) -> None:
    """A plan is of an upgrade or a downgrade only."""
    with pytest.raises(ValueError, match="Unknown operation 'stamp'"):
        single.plan("stamp")


def test_plan_per_bind(two: TwoBinds) -> None:
    """Per-bind plans have one entry per database, in the order they run,
    each with its own revisions; a plan runs nothing.
    """
    assert plans(two.alembic) == {
        "default": ("upgrade", (), ["d1", "d2"]),
        "auth": ("upgrade", (), ["a1", "a2"]),
    }
    two.alembic.upgrade("a1")
    assert plans(two.alembic) == {
        "default": ("upgrade", (), ["d1", "d2"]),
        "auth": ("upgrade", ("a1",), ["a2"]),
    }
    assert plans(two.alembic, bind="auth") == {"auth": ("upgrade", ("a1",), ["a2"])}
    assert version_rows(two.urls["default"]) == []
    assert version_rows(two.urls["auth"]) == ["a1"]
    two.alembic.upgrade()
    assert plans(two.alembic) == {
        "default": ("upgrade", ("d2",), []),
        "auth": ("upgrade", ("a2",), []),
    }
    assert plans(two.alembic, "downgrade", bind="auth") == {
        "auth": ("downgrade", ("a2",), ["a2"])
    }
    assert list(two.alembic.plan("downgrade", "base")) == ["auth", "default"]
    assert version_rows(two.urls["default"]) == ["d2"]
    assert version_rows(two.urls["auth"]) == ["a2"]


def test_stamp_purge(single: Alembic, url: str) -> None:
    """``stamp(purge=True)`` replaces every row of the version table, even
    one no file defines, with the target.
    """
    single.upgrade()
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    single.stamp("d1", purge=True)
    assert version_rows(url) == ["d1"]
    assert table_names(url) == ["alembic_version", "post", "tag"]


def test_stamp_unknown_row_without_purge(single: Alembic, url: str) -> None:
    """Without purge, stamp refuses a version table holding a revision no
    file defines, and changes nothing.
    """
    single.upgrade()
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")

    with pytest.raises(FlaskAlembicError, match="'dead'"):
        single.stamp("d1")

    assert version_rows(url) == ["d2", "dead"]


def test_stamp_purge_per_bind(two: TwoBinds) -> None:
    """``stamp(purge=True, bind=...)`` repairs that bind's version table
    only.
    """
    two.alembic.upgrade()
    execute(two.urls["auth"], "INSERT INTO alembic_version VALUES ('dead')")
    execute(two.urls["default"], "INSERT INTO alembic_version VALUES ('gone')")
    two.alembic.stamp("a1", bind="auth", purge=True)
    assert version_rows(two.urls["auth"]) == ["a1"]
    assert version_rows(two.urls["default"]) == ["d2", "gone"]
