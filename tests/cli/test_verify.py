"""``flask db verify [--no-database]``, and how the other commands refuse a
broken history.

The histories are written by hand into ``tmp_path``, the app's root, so the
paths in messages are relative to it.
"""

from __future__ import annotations

import collections.abc as cabc
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import table_names
from ..conftest import version_rows
from ..test_verify import bad_file
from ..test_verify import revision_file
from ..test_verify import shown
from ..test_verify import unreachable_url
from .conftest import execute
from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen

#: The last line of every report of a broken history.
FIX = "Fix them, then run 'flask db verify' to check."

UNLOADABLE = (
    "migrations/0004_bad.py: cannot be loaded: SyntaxError on line 3: invalid syntax"
)
DUPLICATE = (
    "revision id '0002' is defined by 2 files: migrations/0002_second.py,"
    " migrations/0003_copy.py. Give all but one a new id."
)
MISSING_DOWN = (
    "migrations/0003_b.py: down_revision '0009' of revision '0003' names no"
    " revision. Restore the revision it names, or correct the reference."
)
MISSING_DEPENDS = (
    "migrations/0003_b.py: depends_on '0777' of revision '0003' names no"
    " revision. Restore the revision it names, or correct the reference."
)
CYCLE = (
    "revisions 0001 -> 0002 -> 0001 form a cycle through their down_revision and"
    " depends_on (migrations/0001_first.py, migrations/0002_second.py). Break it"
    " by correcting one of them."
)
TWO_HEADS = (
    "branch 'default' has 2 heads: 0002, 0005 (migrations/0002_second.py,"
    " migrations/0005_x.py). Join them with 'flask db merge 0002 0005'."
)
UNOWNED = (
    "migrations/old/0000_old.py: a revision file in a directory no branch owns,"
    " so it never runs. Declare the directory as a branch's path in"
    " ALEMBIC['branches'], or move the file."
)


def unknown_id(url: str) -> str:
    """The problem of a database stamped with ``dead``."""
    return (
        f"bind 'default' ({shown(url)}) is at revision 'dead', which no file"
        " defines. Restore the file, or record the revision the database is"
        " really at with 'flask db stamp --purge REVISION --bind default'."
    )


def no_version_table(url: str) -> str:
    """The problem of a database with tables ``item`` and ``other`` and no
    version table.
    """
    return (
        f"bind 'default' ({shown(url)}) has 2 tables (item, other) but no"
        " version table 'alembic_version', so every revision would run again."
        " If the tables match a revision, record it with 'flask db stamp"
        " REVISION --bind default'."
    )


def chain(root: Path) -> None:
    """``0001``, and ``0002`` on top of it, each creating a table."""
    revision_file(
        root,
        "migrations/0001_first.py",
        "0001",
        upgrade="op.create_table('one', sa.Column('id', sa.Integer, primary_key=True))",
        downgrade="op.drop_table('one')",
    )
    revision_file(
        root,
        "migrations/0002_second.py",
        "0002",
        "0001",
        upgrade="op.create_table('two', sa.Column('id', sa.Integer, primary_key=True))",
        downgrade="op.drop_table('two')",
    )


def syntax_error(root: Path) -> None:
    """A file with a syntax error on line 3."""
    bad_file(root, "migrations/0004_bad.py")


def duplicate(root: Path) -> None:
    """A second file with the id ``0002``."""
    revision_file(root, "migrations/0003_copy.py", "0002", "0001")


def missing_down(root: Path) -> None:
    """A revision whose ``down_revision`` names no revision."""
    revision_file(root, "migrations/0003_b.py", "0003", "0009")


def missing_depends(root: Path) -> None:
    """A revision whose ``depends_on`` names no revision."""
    revision_file(root, "migrations/0003_b.py", "0003", "0002", depends_on="0777")


def cycle(root: Path) -> None:
    """``0001`` and ``0002`` each revising the other."""
    revision_file(root, "migrations/0001_first.py", "0001", "0002")
    revision_file(root, "migrations/0002_second.py", "0002", "0001")


def two_heads(root: Path) -> None:
    """A second head, on top of ``0001``."""
    revision_file(root, "migrations/0005_x.py", "0005", "0001")


def unowned(root: Path) -> None:
    """A revision file in ``migrations/old/``, which no branch owns."""
    revision_file(root, "migrations/old/0000_old.py", "0000")


#: (what breaks the history of :func:`chain`, the line verify prints).
STRUCTURAL: list[tuple[cabc.Callable[[Path], None], str]] = [
    (syntax_error, UNLOADABLE),
    (duplicate, DUPLICATE),
    (missing_down, MISSING_DOWN),
    (missing_depends, MISSING_DEPENDS),
    (cycle, CYCLE),
]
#: (what breaks it, the line), for what only verify and upgrade refuse.
LOADABLE: list[tuple[cabc.Callable[[Path], None], str]] = [
    (two_heads, TWO_HEADS),
    (unowned, UNOWNED),
]


def ids(cases: list[tuple[cabc.Callable[[Path], None], str]]) -> list[str]:
    """Test ids: the names of the functions that break the history."""
    return [f.__name__ for f, _ in cases]


def refused(runner: FlaskCliRunner, *args: str) -> list[str]:
    """Run a command that must fail with an error block on stderr, exit 1,
    print nothing on stdout and show no traceback; return the block's lines,
    without progress lines.
    """
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return [line for line in result.stderr.splitlines() if not line.startswith("INFO")]


def verified(runner: FlaskCliRunner, *args: str, code: int) -> list[str]:
    """Run verify, check its exit code and that it shows no traceback, and
    return its lines.
    """
    result: Result = invoke(runner, "verify", *args, code=code)
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if "INFO" not in line] == []
    return result.stdout.splitlines()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The app's root, which holds ``migrations/``."""
    return tmp_path


def test_clean(runner: FlaskCliRunner, root: Path, url: str) -> None:
    """A history and database without problems: one line, exit 0, before
    and after the upgrade.
    """
    chain(root)
    assert verified(runner, code=0) == ["No problems found."]
    invoke(runner, "upgrade")
    assert version_rows(url) == ["0002"]
    assert verified(runner, code=0) == ["No problems found."]
    assert verified(runner, "--no-database", code=0) == ["No problems found."]


@no_database
@pytest.mark.parametrize(
    ("breaks", "line"), STRUCTURAL + LOADABLE, ids=ids(STRUCTURAL + LOADABLE)
)
def test_history_problem(
    runner: FlaskCliRunner,
    root: Path,
    breaks: cabc.Callable[[Path], None],
    line: str,
) -> None:
    """Each problem of the history is one line, then the count, exit 1."""
    chain(root)
    breaks(root)
    assert verified(runner, code=1) == [line, "1 problem found."]


@no_database
def test_several_problems(runner: FlaskCliRunner, root: Path) -> None:
    """Every problem is listed, then how many there are."""
    chain(root)
    syntax_error(root)
    duplicate(root)
    unowned(root)
    assert verified(runner, code=1) == [
        UNLOADABLE,
        DUPLICATE,
        UNOWNED,
        "3 problems found.",
    ]


@no_database
def test_two_heads_in_declared_branch(
    make_app: AppFactory, root: Path, url: str
) -> None:
    """A declared branch with two heads is reported under its name; the
    default branch beside it, with one head, is not.
    """
    runner = make_app(
        {"default": url},
        sa.MetaData(),
        config={"branches": {"users": {"path": "users/migrations"}}},
    )[0].test_cli_runner()
    chain(root)
    revision_file(
        root, "users/migrations/0010_users.py", "0010", branch_labels=("users",)
    )
    revision_file(root, "users/migrations/0011_a.py", "0011", "0010")
    revision_file(root, "users/migrations/0012_b.py", "0012", "0010")
    assert verified(runner, code=1) == [
        "branch 'users' has 2 heads: 0011, 0012 (users/migrations/0011_a.py,"
        " users/migrations/0012_b.py). Join them with 'flask db merge 0011"
        " 0012'.",
        "1 problem found.",
    ]


def test_unknown_revision_in_database(
    runner: FlaskCliRunner, root: Path, url: str
) -> None:
    """A database stamped with an id no file defines is one line naming the
    bind, URL and id; ``--no-database`` does not look.
    """
    chain(root)
    invoke(runner, "upgrade")
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    assert verified(runner, code=1) == [unknown_id(url), "1 problem found."]
    assert verified(runner, "--no-database", code=0) == ["No problems found."]


def test_no_version_table(runner: FlaskCliRunner, root: Path, url: str) -> None:
    """A database with tables and no version table is one line naming them;
    ``--no-database`` does not look.
    """
    chain(root)
    execute(url, "CREATE TABLE other (id INTEGER PRIMARY KEY)")
    execute(url, "CREATE TABLE item (id INTEGER PRIMARY KEY)")
    assert verified(runner, code=1) == [no_version_table(url), "1 problem found."]
    assert verified(runner, "--no-database", code=0) == ["No problems found."]


def test_other_bind_in_same_database(
    make_app: AppFactory, root: Path, url: str
) -> None:
    """Two binds in one database: the tables and version table of one are
    not reported as the other's, before and after each is upgraded.
    """
    metadatas = {"default": sa.MetaData(), "auth": sa.MetaData()}
    sa.Table("one", metadatas["default"], sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "account", metadatas["auth"], sa.Column("id", sa.Integer, primary_key=True)
    )
    chain(root)
    revision_file(
        root,
        "migrations/auth/0100_account.py",
        "0100",
        branch_labels=("auth",),
        upgrade="op.create_table('account', sa.Column('id', sa.Integer,"
        " primary_key=True))",
        downgrade="op.drop_table('account')",
    )

    def runner() -> FlaskCliRunner:
        app = make_app(
            {"default": url, "auth": url},
            metadatas,
            config={"binds": {"auth": {"version_table": "auth_version"}}},
        )[0]
        return app.test_cli_runner()

    invoke(runner(), "upgrade", "--bind", "auth")
    assert table_names(url) == ["account", "auth_version"]
    assert verified(runner(), code=0) == ["No problems found."]
    invoke(runner(), "upgrade", "--bind", "default")
    assert version_rows(url) == ["0002"]
    assert verified(runner(), code=0) == ["No problems found."]


def test_unreachable(
    make_app: AppFactory, root: Path, backend: str, tmp_path: Path
) -> None:
    """A database that cannot be reached is a problem line, exit 1;
    ``--no-database`` checks the history only and succeeds.
    """
    url = unreachable_url(backend, tmp_path)
    runner = make_app({"default": url}, sa.MetaData())[0].test_cli_runner()
    chain(root)
    out = verified(runner, code=1)
    assert len(out) == 2, out
    assert out[0].startswith(f"Could not use database 'default' ({url}): ")
    assert out[1] == "1 problem found."
    assert verified(runner, "--no-database", code=0) == ["No problems found."]


@no_database
@pytest.mark.parametrize("command", [["log"], ["heads"], ["upgrade"]])
@pytest.mark.parametrize(("breaks", "line"), STRUCTURAL, ids=ids(STRUCTURAL))
def test_commands_refuse_broken_history(
    runner: FlaskCliRunner,
    root: Path,
    url: str,
    command: list[str],
    breaks: cabc.Callable[[Path], None],
    line: str,
) -> None:
    """A history that cannot be loaded makes the commands that read it print
    the problem block and exit 1, without a traceback, and nothing runs.
    """
    chain(root)
    breaks(root)
    assert refused(runner, *command) == [
        "Error: The revision history has 1 problem:",
        f"  {line}",
        FIX,
    ]
    assert table_names(url) == []


@no_database
def test_commands_refuse_several(runner: FlaskCliRunner, root: Path) -> None:
    """The block lists every problem that keeps the history from loading."""
    chain(root)
    syntax_error(root)
    duplicate(root)
    assert refused(runner, "log") == [
        "Error: The revision history has 2 problems:",
        f"  {UNLOADABLE}",
        f"  {DUPLICATE}",
        FIX,
    ]


@pytest.mark.parametrize(("breaks", "line"), LOADABLE, ids=ids(LOADABLE))
def test_upgrade_refuses(
    runner: FlaskCliRunner,
    reopen: Reopen,
    root: Path,
    url: str,
    breaks: cabc.Callable[[Path], None],
    line: str,
) -> None:
    """Upgrade refuses a branch with two heads and a file that would never
    run, and writes nothing; the read-only commands still work.
    """
    revision_file(root, "migrations/0001_first.py", "0001")
    invoke(runner, "upgrade")
    assert version_rows(url) == ["0001"]
    chain(root)
    breaks(root)
    assert refused(reopen(), "upgrade") == [
        "Error: The revision history has 1 problem:",
        f"  {line}",
        FIX,
    ]
    assert version_rows(url) == ["0001"]
    assert table_names(url) == ["alembic_version"]
    invoke(reopen(), "log")


def test_upgrade_refuses_unknown_revision_in_database(
    runner: FlaskCliRunner, reopen: Reopen, root: Path, url: str
) -> None:
    """Upgrade refuses a database stamped with an id no file defines, and
    leaves its version rows and tables as they were.
    """
    revision_file(
        root,
        "migrations/0001_first.py",
        "0001",
        upgrade="op.create_table('one', sa.Column('id', sa.Integer, primary_key=True))",
    )
    invoke(runner, "upgrade")
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    revision_file(
        root,
        "migrations/0002_second.py",
        "0002",
        "0001",
        upgrade="op.create_table('two', sa.Column('id', sa.Integer, primary_key=True))",
    )
    assert refused(reopen(), "upgrade") == [
        "Error: The revision history has 1 problem:",
        f"  {unknown_id(url)}",
        FIX,
    ]
    assert version_rows(url) == ["0001", "dead"]
    assert table_names(url) == ["alembic_version", "one"]


def test_upgrade_refuses_no_version_table(
    runner: FlaskCliRunner, root: Path, url: str
) -> None:
    """Upgrade refuses a database with tables and no version table, and
    creates neither the version table nor the revision's tables.
    """
    chain(root)
    execute(url, "CREATE TABLE other (id INTEGER PRIMARY KEY)")
    execute(url, "CREATE TABLE item (id INTEGER PRIMARY KEY)")
    assert refused(runner, "upgrade") == [
        "Error: The revision history has 1 problem:",
        f"  {no_version_table(url)}",
        FIX,
    ]
    assert table_names(url) == ["item", "other"]
