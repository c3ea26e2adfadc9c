"""What a user sees when a revision fails: the report of
:class:`~flask_alembic.MigrationError` on stderr after ``Error:``, exit 1, no
traceback unless ``-v``, no password and no bound parameter values.

The histories are written by hand. Commands run in the app's root, so the
revision's path in a report is relative to it. The PostgreSQL URL carries a
password (the local server trusts its clients), which must never be shown.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from flask_alembic import Alembic
from flask_alembic import BindOutcome
from flask_alembic import MigrationError
from flask_alembic import TargetError

from ..conftest import AppFactory
from ..conftest import table_names
from ..conftest import version_rows
from ..test_verify import revision_file
from ..test_verify import shown
from ..test_verify import unreachable_url
from .conftest import fails
from .conftest import invoke

#: The password put into a PostgreSQL URL.
PASSWORD = "pw-0f-the-test"

#: A value bound to the failing statement, which the report must not show.
VALUE = "SECRETVALUE"

CREATE_ITEM = (
    "op.create_table('item', sa.Column('id', sa.Integer, primary_key=True),"
    " sa.Column('name', sa.String(50)),"
    " sa.CheckConstraint('length(name) < 5', name='short_name'))"
)
INSERT = (
    "op.execute(sa.text('INSERT INTO item (name) VALUES (:v)')"
    f".bindparams(v={VALUE!r}))"
)


@pytest.fixture
def db_url(make_url: cabc.Callable[..., str], backend: str) -> str:
    """A fresh database; on PostgreSQL its URL has a password."""
    url = sa.make_url(make_url())

    if backend == "postgresql" and url.password is None:
        url = url.set(password=PASSWORD)

    return url.render_as_string(hide_password=False)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's root, holding ``migrations/``, and the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def open_app(make_app: AppFactory, db_url: str) -> cabc.Callable[[], Flask]:
    """Make a new app on the database, which reads the files again."""
    return lambda: make_app({"default": db_url}, sa.MetaData())[0]


def history(root: Path) -> None:
    """``0001`` creates ``item`` with a check on its names; ``0002`` creates
    ``other``, then inserts a name the check refuses.
    """
    revision_file(
        root,
        "migrations/0001_items.py",
        "0001",
        upgrade=CREATE_ITEM,
        downgrade="op.drop_table('item')",
        doc="create items",
    )
    revision_file(
        root,
        "migrations/0002_bad_name.py",
        "0002",
        "0001",
        upgrade="op.create_table('other', sa.Column('id', sa.Integer,"
        f" primary_key=True))\n{INSERT}",
        downgrade="op.drop_table('other')",
        doc="add a bad name",
    )


def reason(backend: str, url: str) -> str:
    """The reason line of the report of ``0002``."""
    if backend == "sqlite":
        return (
            "  IntegrityError: CHECK constraint failed: short_name"
            " [SQL: INSERT INTO item (name) VALUES (?)]"
        )

    if backend == "postgresql":
        return (
            '  CheckViolation: new row for relation "item" violates check'
            ' constraint "short_name" [SQL: INSERT INTO item (name) VALUES (%(v)s)]'
        )

    database = sa.make_url(url).database
    return (
        f"  OperationalError: (4025, 'CONSTRAINT `short_name` failed for"
        f" `{database}`.`item`') [SQL: INSERT INTO item (name) VALUES (%(v)s)]"
    )


def dialect(backend: str) -> str:
    return "mysql" if backend == "mariadb" else backend


def report(backend: str, url: str) -> list[str]:
    """The report of ``0002`` failing on a database at ``0001``."""
    if backend == "mariadb":
        now = (
            "failed, still at 0001; 0002 may be partly applied, since this"
            " database commits each DDL statement by itself: check the database"
        )
    else:
        now = "failed, rolled back to 0001, where it started"

    return [
        "Error: Upgrade failed on bind 'default' at revision 0002 \"add a bad"
        ' name" (migrations/0002_bad_name.py):',
        reason(backend, url),
        f"  Database: {dialect(backend)}, {shown(url)}",
        "Where each bind is now:",
        f"  default  {now}",
        "Fix the cause, then run 'flask db upgrade' again.",
    ]


def failed(runner: FlaskCliRunner, *args: str) -> Result:
    """Run a command that must fail with exit 1 and print nothing on
    stdout; check that no password appears anywhere.
    """
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert PASSWORD not in result.output
    return result


def error_block(result: Result) -> list[str]:
    """The lines of stderr from the ``Error:`` line on."""
    err = result.stderr.splitlines()
    starts = [i for i, line in enumerate(err) if line.startswith("Error: ")]
    assert len(starts) == 1, result.stderr
    return err[starts[0] :]


def test_report(
    root: Path, open_app: cabc.Callable[[], Flask], db_url: str, backend: str
) -> None:
    """A revision that fails with a database error prints the report: the
    bind, revision, message and file; the driver's message and the statement,
    without the bound value; the database; where the bind is; the fix. No
    traceback, exit 1, nothing changed on transactional databases.
    """
    history(root)
    invoke(open_app().test_cli_runner(), "upgrade", "0001")
    result = failed(open_app().test_cli_runner(), "upgrade")
    assert "Traceback" not in result.output
    assert VALUE not in result.output
    assert error_block(result) == report(backend, db_url)
    assert version_rows(db_url) == ["0001"]

    if backend == "mariadb":
        # Its DDL commits itself: the table of the failed revision stays.
        assert table_names(db_url) == ["alembic_version", "item", "other"]
    else:
        assert table_names(db_url) == ["alembic_version", "item"]


def test_report_verbose(
    root: Path, open_app: cabc.Callable[[], Flask], db_url: str, backend: str
) -> None:
    """``-v`` prints the traceback with its causes before the same report,
    still without the password.
    """
    history(root)
    invoke(open_app().test_cli_runner(), "upgrade", "0001")
    result = failed(open_app().test_cli_runner(), "upgrade", "-v")
    assert "Traceback (most recent call last)" in result.stderr
    assert "The above exception was the direct cause" in result.stderr
    assert error_block(result) == report(backend, db_url)
    # The traceback comes first.
    assert result.stderr.index("Traceback") < result.stderr.index("Error: Upgrade")


def test_first_revision_fails(
    root: Path, open_app: cabc.Callable[[], Flask], db_url: str, backend: str
) -> None:
    """When the revisions run in one go, a transactional database is rolled
    back to where it started, base, with no table of either revision left;
    MariaDB keeps the revisions before the failed one.
    """
    history(root)
    result = failed(open_app().test_cli_runner(), "upgrade")
    block = error_block(result)

    if backend == "mariadb":
        assert block[4] == (
            "  default  failed, at 0001: the revisions before 0002 were applied"
            " and kept (it started at <base>); 0002 may be partly applied, since"
            " this database commits each DDL statement by itself: check the"
            " database"
        )
        assert version_rows(db_url) == ["0001"]
    else:
        assert block[4] == "  default  failed, rolled back to <base>, where it started"
        assert version_rows(db_url) == []
        assert table_names(db_url) == []


def test_migration_error_attributes(
    root: Path, open_app: cabc.Callable[[], Flask], db_url: str, backend: str
) -> None:
    """The API raises MigrationError carrying what the report shows, with
    the database error as its cause.
    """
    history(root)
    invoke(open_app().test_cli_runner(), "upgrade", "0001")
    app = open_app()

    with app.app_context():
        alembic = t.cast(Alembic, app.extensions["alembic"])

        with pytest.raises(MigrationError) as info:
            alembic.upgrade()

    e = info.value
    assert e.operation == "upgrade"
    assert e.bind == "default"
    assert e.dialect == dialect(backend)
    assert e.url == shown(db_url)
    assert e.revision == "0002"
    assert e.doc == "add a bad name"
    assert e.path == "migrations/0002_bad_name.py"
    assert e.reason == reason(backend, db_url).strip()
    assert e.partial is (backend == "mariadb")
    assert e.outcomes == [BindOutcome("default", "failed", ("0001",), ("0001",))]
    assert isinstance(e.__cause__, sa.exc.DBAPIError)
    assert str(e).splitlines() == [
        line.removeprefix("Error: ") for line in report(backend, db_url)
    ]
    assert PASSWORD not in str(e)


def test_downgrade_report(
    root: Path, open_app: cabc.Callable[[], Flask], db_url: str, backend: str
) -> None:
    """A failed downgrade says so, and names the revision being undone."""
    revision_file(
        root,
        "migrations/0001_items.py",
        "0001",
        upgrade=CREATE_ITEM,
        downgrade="op.drop_table('nosuch')",
        doc="create items",
    )
    invoke(open_app().test_cli_runner(), "upgrade")
    result = failed(open_app().test_cli_runner(), "downgrade")
    assert "Traceback" not in result.output
    block = error_block(result)
    assert block[0] == (
        "Error: Downgrade failed on bind 'default' at revision 0001"
        ' "create items" (migrations/0001_items.py):'
    )
    assert block[1].endswith(" [SQL: DROP TABLE nosuch]"), block[1]
    assert block[2] == f"  Database: {dialect(backend)}, {shown(db_url)}"
    assert block[3] == "Where each bind is now:"
    assert block[4].startswith("  default  failed, ")
    assert block[-1] == "Fix the cause, then run 'flask db downgrade' again."
    assert version_rows(db_url) == ["0001"]
    assert table_names(db_url) == ["alembic_version", "item"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True, ids=["three-backends"])
def test_unreachable_bind_before_any_ddl(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    root: Path,
    tmp_path: Path,
) -> None:
    """Every bind an upgrade targets is connected to before any revision
    runs: the second bind being unreachable fails the upgrade naming it, and
    the first bind is left untouched, on each backend.
    """
    for first in ("sqlite", "postgresql", "mariadb"):
        url = make_url(on=first)
        dead = unreachable_url("postgresql", tmp_path)
        sub = root / first
        revision_file(
            sub,
            "migrations/0001_one.py",
            "0001",
            upgrade="op.create_table('one', sa.Column('id', sa.Integer,"
            " primary_key=True))",
        )
        revision_file(
            sub,
            "migrations/auth/0100_account.py",
            "0100",
            branch_labels=("auth",),
            upgrade="op.create_table('account', sa.Column('id', sa.Integer,"
            " primary_key=True))",
        )
        app = make_app(
            {"default": url, "auth": dead},
            {"default": sa.MetaData(), "auth": sa.MetaData()},
            config={"binds": {"auth": {}}},
            root_path=sub,
        )[0]
        assert fails(app.test_cli_runner(), "upgrade") == (
            f"Error: Could not use database 'auth' ({dead}): connection to server"
            ' at "127.0.0.1", port 1 failed: Connection refused. Check that the'
            " server is running and that the URL and credentials are right."
        )
        assert table_names(url) == []


def test_shared_history_same_database(
    make_app: AppFactory, root: Path, db_url: str
) -> None:
    """Two names of a shared history on one database and version table are
    refused with a TargetError before anything runs, without the password.
    """
    app = make_app(
        {"default": db_url, "other": db_url},
        {"default": sa.MetaData(), "other": sa.MetaData()},
    )[0]
    message = (
        "Databases 'default' and 'other' would both record their revisions in"
        f" alembic_version of {shown(db_url)}. In a shared history each name"
        " needs a database of its own."
    )
    assert fails(app.test_cli_runner(), "upgrade", hidden=PASSWORD) == (
        f"Error: {message}"
    )

    with app.app_context():
        alembic = t.cast(Alembic, app.extensions["alembic"])

        with pytest.raises(TargetError) as info:
            alembic.upgrade()

    assert str(info.value) == message
    assert table_names(db_url) == []
