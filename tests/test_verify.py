"""``Alembic.verify()``: what is wrong with a revision history and with each
database's record of it, as :class:`~flask_alembic.Problem` data.

Each test writes a small history by hand into ``tmp_path``, the app's root,
so paths in problems are relative to it. The checks of the history alone run
once, on SQLite; the checks of a database run on every backend.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import Problem

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: For tests that only read files: run them once, on SQLite.
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines: verify does not depend on where they come
    from.
    """
    return t.cast(str, request.param)


def revision_file(
    root: Path,
    path: str,
    revision: str,
    down_revision: str | tuple[str, ...] | None = None,
    *,
    depends_on: str | tuple[str, ...] | None = None,
    branch_labels: tuple[str, ...] | None = None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    doc: str | None = None,
) -> Path:
    """Write a revision file, as ``flask db revision`` would, and return its
    path.

    :param path: Relative to ``root``, such as ``migrations/0001_first.py``.
    :param upgrade: The body of ``upgrade()``, one statement per line.
    """
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)

    def body(code: str) -> str:
        return "\n".join(f"    {line}" for line in code.splitlines())

    file.write_text(
        f'"""{doc or file.stem}"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "\n"
        f"revision = {revision!r}\n"
        f"down_revision = {down_revision!r}\n"
        f"branch_labels = {branch_labels!r}\n"
        f"depends_on = {depends_on!r}\n"
        "\n"
        "\n"
        "def upgrade():\n"
        f"{body(upgrade)}\n"
        "\n"
        "\n"
        "def downgrade():\n"
        f"{body(downgrade)}\n"
    )
    return file


def bad_file(root: Path, path: str) -> Path:
    """Write a file with a syntax error on line 3."""
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text('"""bad"""\nrevision = "0004"\ndef upgrade(:\n    pass\n')
    return file


def shown(url: str) -> str:
    """A URL as problems show it, with its password masked."""
    return sa.make_url(url).render_as_string(hide_password=True)


def execute(url: str, *statements: str) -> None:
    """Run statements on a database and commit them."""
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def unreachable_url(backend: str, tmp_path: Path) -> str:
    """A URL of the backend that cannot be connected to: nothing listens on
    port 1, and a SQLite file cannot be made in a missing directory.
    """
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'missing' / 'dir' / 'db.sqlite'}"

    if backend == "postgresql":
        return "postgresql+psycopg2://postgres@127.0.0.1:1/fa_nowhere"

    return "mysql+pymysql://root@127.0.0.1:1/fa_nowhere"


def verify(app: Flask, database: bool = True) -> list[Problem]:
    """Run verify in a new app context, as a new process would."""
    with app.app_context():
        return t.cast(Alembic, app.extensions["alembic"]).verify(database=database)


def upgrade(app: Flask) -> None:
    """Upgrade every database of the app to its heads."""
    with app.app_context():
        t.cast(Alembic, app.extensions["alembic"]).upgrade()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The app's root, which holds ``migrations/``."""
    return tmp_path


@pytest.fixture
def one(make_app: AppFactory, url: str) -> Flask:
    """An app with one database and no models."""
    return make_app({"default": url}, sa.MetaData())[0]


def chain(root: Path) -> None:
    """Write ``0001`` and ``0002`` on top of it, a history with no problem."""
    revision_file(root, "migrations/0001_first.py", "0001")
    revision_file(root, "migrations/0002_second.py", "0002", "0001")


def test_clean_history(one: Flask, root: Path, url: str) -> None:
    """A history with no problem, before and after it is applied, has none."""
    chain(root)
    assert verify(one) == []
    upgrade(one)
    assert version_rows(url) == ["0002"]
    assert verify(one) == []


@only_sqlite
def test_empty_history(one: Flask) -> None:
    """No revisions at all is not a problem."""
    assert verify(one) == []


@only_sqlite
def test_unloadable_syntax_error(one: Flask, root: Path) -> None:
    """A file with a syntax error is reported with its line, and the other
    files still load.
    """
    chain(root)
    bad_file(root, "migrations/0004_bad.py")
    assert verify(one) == [
        Problem(
            "unloadable",
            "migrations/0004_bad.py: cannot be loaded: SyntaxError on line 3:"
            " invalid syntax",
            ("migrations/0004_bad.py",),
        )
    ]


@only_sqlite
def test_unloadable_import_error(one: Flask, root: Path) -> None:
    """A file that raises while it is imported is reported with the
    exception's type and first line.
    """
    chain(root)
    (root / "migrations" / "0003_raises.py").write_text(
        'revision = "0003"\ndown_revision = "0002"\n'
        'raise RuntimeError("boom\\nsecond line")\n'
    )
    assert verify(one) == [
        Problem(
            "unloadable",
            "migrations/0003_raises.py: cannot be loaded: RuntimeError: boom",
            ("migrations/0003_raises.py",),
        )
    ]


@only_sqlite
def test_duplicate_id(one: Flask, root: Path) -> None:
    """Two files with one id are reported once, naming both files."""
    chain(root)
    revision_file(root, "migrations/0003_copy.py", "0002", "0001")
    assert verify(one) == [
        Problem(
            "duplicate-id",
            "revision id '0002' is defined by 2 files: migrations/0002_second.py,"
            " migrations/0003_copy.py. Give all but one a new id.",
            ("migrations/0002_second.py", "migrations/0003_copy.py"),
            ("0002",),
        )
    ]


@only_sqlite
def test_missing_down_revision(one: Flask, root: Path) -> None:
    """A ``down_revision`` that names no revision is reported with the file,
    the revision and the reference.
    """
    chain(root)
    revision_file(root, "migrations/0003_b.py", "0003", "0009")
    assert verify(one) == [
        Problem(
            "missing-revision",
            "migrations/0003_b.py: down_revision '0009' of revision '0003' names"
            " no revision. Restore the revision it names, or correct the"
            " reference.",
            ("migrations/0003_b.py",),
            ("0003", "0009"),
        )
    ]


@only_sqlite
def test_missing_depends_on(one: Flask, root: Path) -> None:
    """A ``depends_on`` that names no revision is reported the same way."""
    chain(root)
    revision_file(root, "migrations/0003_b.py", "0003", "0002", depends_on="0777")
    assert verify(one) == [
        Problem(
            "missing-revision",
            "migrations/0003_b.py: depends_on '0777' of revision '0003' names"
            " no revision. Restore the revision it names, or correct the"
            " reference.",
            ("migrations/0003_b.py",),
            ("0003", "0777"),
        )
    ]


@only_sqlite
def test_cycle(one: Flask, root: Path) -> None:
    """Revisions whose references go round in a circle are one problem
    naming each member and its file.
    """
    revision_file(root, "migrations/0001_first.py", "0001", "0002")
    revision_file(root, "migrations/0002_second.py", "0002", "0001")
    assert verify(one) == [
        Problem(
            "cycle",
            "revisions 0001 -> 0002 -> 0001 form a cycle through their"
            " down_revision and depends_on (migrations/0001_first.py,"
            " migrations/0002_second.py). Break it by correcting one of them.",
            ("migrations/0001_first.py", "migrations/0002_second.py"),
            ("0001", "0002"),
        )
    ]


@only_sqlite
def test_cycle_through_depends_on(one: Flask, root: Path) -> None:
    """A cycle closed by ``depends_on`` is found too; revisions outside it
    are not named.
    """
    revision_file(root, "migrations/0001_first.py", "0001")
    revision_file(root, "migrations/0002_second.py", "0002", "0001", depends_on="0003")
    revision_file(root, "migrations/0003_third.py", "0003", "0002")
    (problem,) = verify(one)
    assert problem.kind == "cycle"
    assert sorted(problem.revisions) == ["0002", "0003"]
    assert sorted(problem.paths) == [
        "migrations/0002_second.py",
        "migrations/0003_third.py",
    ]


@only_sqlite
def test_several_problems(one: Flask, root: Path) -> None:
    """Every structural problem is reported, not only the first."""
    chain(root)
    bad_file(root, "migrations/0004_bad.py")
    revision_file(root, "migrations/0005_b.py", "0005", "0009")
    revision_file(root, "migrations/0006_copy.py", "0001")
    assert sorted(p.kind for p in verify(one)) == [
        "duplicate-id",
        "missing-revision",
        "unloadable",
    ]


@only_sqlite
def test_two_heads(one: Flask, root: Path) -> None:
    """A branch with two heads names them, their files and the merge that
    joins them.
    """
    chain(root)
    revision_file(root, "migrations/0005_x.py", "0005", "0001")
    assert verify(one) == [
        Problem(
            "multiple-heads",
            "branch 'default' has 2 heads: 0002, 0005 (migrations/0002_second.py,"
            " migrations/0005_x.py). Join them with 'flask db merge 0002 0005'.",
            ("migrations/0002_second.py", "migrations/0005_x.py"),
            ("0002", "0005"),
        )
    ]


@only_sqlite
def test_two_heads_in_declared_branch(
    make_app: AppFactory, url: str, root: Path
) -> None:
    """A declared branch with two heads is reported under its own name, and
    the default branch with one head is not.
    """
    app = make_app(
        {"default": url},
        sa.MetaData(),
        config={"branches": {"users": {"path": "users/migrations"}}},
    )[0]
    chain(root)
    revision_file(
        root, "users/migrations/0010_users.py", "0010", branch_labels=("users",)
    )
    revision_file(root, "users/migrations/0011_a.py", "0011", "0010")
    revision_file(root, "users/migrations/0012_b.py", "0012", "0010")
    assert verify(app) == [
        Problem(
            "multiple-heads",
            "branch 'users' has 2 heads: 0011, 0012 (users/migrations/0011_a.py,"
            " users/migrations/0012_b.py). Join them with 'flask db merge 0011"
            " 0012'.",
            ("users/migrations/0011_a.py", "users/migrations/0012_b.py"),
            ("0011", "0012"),
        )
    ]


@only_sqlite
def test_unowned_file(one: Flask, root: Path) -> None:
    """A revision file in a directory that is not a version location is
    reported; other Python files there are not.
    """
    chain(root)
    revision_file(root, "migrations/old/0000_old.py", "0000")
    (root / "migrations" / "old" / "helpers.py").write_text("X = 1\n")
    assert verify(one) == [
        Problem(
            "unowned-file",
            "migrations/old/0000_old.py: a revision file in a directory no"
            " branch owns, so it never runs. Declare the directory as a"
            " branch's path in ALEMBIC['branches'], or move the file.",
            ("migrations/old/0000_old.py",),
        )
    ]


@only_sqlite
def test_unowned_file_declared(make_app: AppFactory, url: str, root: Path) -> None:
    """Once its directory is a declared branch's path, the file is no longer
    a problem.
    """
    app = make_app(
        {"default": url},
        sa.MetaData(),
        config={"branches": {"old": {"path": "migrations/old"}}},
    )[0]
    chain(root)
    revision_file(root, "migrations/old/0000_old.py", "0000", branch_labels=("old",))
    assert verify(app) == []


def test_unknown_revision_in_database(one: Flask, root: Path, url: str) -> None:
    """A database stamped with an id that no file defines is reported with
    its bind, URL and the id; the known id beside it is not.
    """
    chain(root)
    upgrade(one)
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    assert verify(one) == [
        Problem(
            "unknown-revision-in-database",
            f"bind 'default' ({shown(url)}) is at revision 'dead', which no file"
            " defines. Restore the file, or record the revision the database is"
            " really at with 'flask db stamp --purge REVISION --bind default'.",
            revisions=("dead",),
            bind="default",
        )
    ]
    assert verify(one, database=False) == []


def test_no_version_table(one: Flask, root: Path, url: str) -> None:
    """A database with tables but no version table is reported with its
    tables; an empty one is not.
    """
    chain(root)
    assert verify(one) == []
    execute(
        url,
        "CREATE TABLE other (id INTEGER PRIMARY KEY)",
        "CREATE TABLE item (id INTEGER PRIMARY KEY)",
    )
    assert verify(one) == [
        Problem(
            "no-version-table",
            f"bind 'default' ({shown(url)}) has 2 tables (item, other) but no"
            " version table 'alembic_version', so every revision would run"
            " again. If the tables match a revision, record it with 'flask db"
            " stamp REVISION --bind default'.",
            bind="default",
        )
    ]
    assert verify(one, database=False) == []


@only_sqlite
def test_no_version_table_one_table(one: Flask, root: Path, url: str) -> None:
    """One table without a version table is counted in the singular."""
    chain(root)
    execute(url, "CREATE TABLE item (id INTEGER PRIMARY KEY)")
    (problem,) = verify(one)
    assert f"bind 'default' ({shown(url)}) has 1 table (item) but no" in (
        problem.message
    )


def test_no_version_table_other_bind_same_database(
    make_app: AppFactory, url: str, root: Path
) -> None:
    """With two binds in one database, the tables of the other bind's models
    and its version table do not count as this bind's; only a table no bind
    owns is reported, once, for each bind that lacks a version table.
    """
    metadatas = {"default": sa.MetaData(), "auth": sa.MetaData()}
    sa.Table(
        "post", metadatas["default"], sa.Column("id", sa.Integer, primary_key=True)
    )
    sa.Table(
        "account", metadatas["auth"], sa.Column("id", sa.Integer, primary_key=True)
    )
    app = make_app(
        {"default": url, "auth": url},
        metadatas,
        config={"binds": {"auth": {"version_table": "auth_version"}}},
    )[0]
    revision_file(
        root,
        "migrations/auth/0100_account.py",
        "0100",
        branch_labels=("auth",),
        upgrade="op.create_table('account', sa.Column('id', sa.Integer,"
        " primary_key=True))",
        downgrade="op.drop_table('account')",
    )

    with app.app_context():
        t.cast(Alembic, app.extensions["alembic"]).upgrade(bind="auth")

    assert table_names(url) == ["account", "auth_version"]
    assert version_rows(url, "auth_version") == ["0100"]
    assert verify(app) == []

    execute(url, "CREATE TABLE stray (id INTEGER PRIMARY KEY)")
    execute(url, "CREATE TABLE legacy (id INTEGER PRIMARY KEY)")
    assert verify(app) == [
        Problem(
            "no-version-table",
            f"bind 'default' ({shown(url)}) has 2 tables (legacy, stray) but no"
            " version table 'alembic_version', so every revision would run"
            " again. If the tables match a revision, record it with 'flask db"
            " stamp REVISION --bind default'.",
            bind="default",
        )
    ]


def test_unreachable(
    make_app: AppFactory, root: Path, backend: str, tmp_path: Path
) -> None:
    """A database that cannot be connected to is a problem naming it, not an
    exception; without the database checks there is nothing to report.
    """
    url = unreachable_url(backend, tmp_path)
    app = make_app({"default": url}, sa.MetaData())[0]
    chain(root)
    (problem,) = verify(app)
    assert problem.kind == "unreachable"
    assert problem.bind == "default"
    assert problem.message.startswith(f"Could not use database 'default' ({url}): ")
    assert verify(app, database=False) == []


@only_sqlite
def test_unreachable_with_broken_history(
    make_app: AppFactory, root: Path, tmp_path: Path
) -> None:
    """A history that does not load and a database that cannot be reached
    are both reported.
    """
    app = make_app({"default": unreachable_url("sqlite", tmp_path)}, sa.MetaData())[0]
    chain(root)
    bad_file(root, "migrations/0004_bad.py")
    assert [p.kind for p in verify(app)] == ["unloadable", "unreachable"]
    assert [p.kind for p in verify(app, database=False)] == ["unloadable"]


def test_broken_history_checks_database(
    make_app: AppFactory, one: Flask, root: Path, url: str
) -> None:
    """With a file that does not load, a database stamped with the id of a
    file that does load is fine, and one stamped with an unknown id is still
    reported.
    """
    chain(root)
    upgrade(one)
    bad_file(root, "migrations/0004_bad.py")
    # A new app reads the files again, as the next process would.
    app = make_app({"default": url}, sa.MetaData())[0]
    assert [p.kind for p in verify(app)] == ["unloadable"]
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    assert [(p.kind, p.revisions) for p in verify(app)] == [
        ("unloadable", ()),
        ("unknown-revision-in-database", ("dead",)),
    ]


def test_verify_does_not_write(one: Flask, root: Path, url: str) -> None:
    """Verify reads: an empty database stays without a version table."""
    chain(root)
    assert verify(one) == []
    assert table_names(url) == []
