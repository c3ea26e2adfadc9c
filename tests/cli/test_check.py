"""``flask db check``."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from .conftest import execute
from .conftest import fails
from .conftest import invoke
from .conftest import TwoDatabases


def test_no_changes(
    runner: FlaskCliRunner, metadata: sa.MetaData, rev_ids: tuple[str, ...]
) -> None:
    """A database that matches the models passes the check."""
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    invoke(runner, "upgrade")
    result = invoke(runner, "check")
    assert result.stdout == "No changes detected.\n"


def test_no_changes_empty(runner: FlaskCliRunner) -> None:
    """Empty models and an empty database with no history pass the check."""
    result = invoke(runner, "check")
    assert result.stdout == "No changes detected.\n"


def test_changes(runner: FlaskCliRunner, metadata: sa.MetaData) -> None:
    """Models the database lacks fail the check, saying what differs."""
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    result = invoke(runner, "check", code=1)
    assert result.stdout == "Changes detected.\n  added table 'user'\n"


def test_changed_column(
    runner: FlaskCliRunner, metadata: sa.MetaData, rev_ids: tuple[str, ...]
) -> None:
    """A column added to a model after its revision is described."""
    user = sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    invoke(runner, "upgrade")
    user.append_column(sa.Column("name", sa.String(20)))
    result = invoke(runner, "check", code=1)
    assert result.stdout == "Changes detected.\n  added column 'user.name'\n"


def test_improvement_7_behind(
    runner: FlaskCliRunner, metadata: sa.MetaData, rev_ids: tuple[str, ...]
) -> None:
    """A database that is only behind is not reported as changed: one error
    line names the pending revisions and the fix.
    """
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    invoke(runner, "revision", "two", "--empty")
    assert fails(runner, "check") == (
        "Error: Database 'default' is not up to date: 2 pending revisions"
        f" ({rev_ids[0]}, {rev_ids[1]}). Run 'flask db upgrade' first."
    )


def test_improvement_2_several_databases(two_databases: TwoDatabases) -> None:
    """With several databases, the differences are listed per database."""
    result = invoke(two_databases.runner, "check", code=1)
    assert result.stdout.splitlines() == [
        "Changes detected.",
        "  default:",
        "    added table 'user'",
        "  other:",
        "    added table 'log'",
    ]


def test_improvement_2_one_database_differs(two_databases: TwoDatabases) -> None:
    """Only the databases that differ are listed; matching ones pass."""
    runner = two_databases.runner
    invoke(runner, "revision", "init")
    invoke(runner, "upgrade")
    assert invoke(runner, "check").stdout == "No changes detected.\n"
    sa.Table(
        "event",
        two_databases.metadatas["other"],
        sa.Column("id", sa.Integer, primary_key=True),
    )
    result = invoke(runner, "check", code=1)
    assert result.stdout.splitlines() == [
        "Changes detected.",
        "  other:",
        "    added table 'event'",
    ]


def test_improvement_2_behind_database(two_databases: TwoDatabases) -> None:
    """With several databases, the one that is behind is named, even when
    ``default`` is up to date.
    """
    runner = two_databases.runner
    invoke(runner, "revision", "init")
    invoke(runner, "upgrade")
    execute(two_databases.urls["other"], "DELETE FROM alembic_version")
    assert fails(runner, "check") == (
        "Error: Database 'other' is not up to date: 1 pending revision"
        " (1795310540). Run 'flask db upgrade' first."
    )
