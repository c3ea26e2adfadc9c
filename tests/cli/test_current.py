"""``flask db current [--check-heads] [-v]``."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from ..conftest import version_rows
from .conftest import execute
from .conftest import invoke
from .conftest import TwoDatabases


def test_current_empty(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """A database with no revision applied shows nothing."""
    invoke(runner, "revision", "one", "--empty")
    result = invoke(runner, "current")
    assert result.stdout == ""


def test_current(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """The revision the database is at is shown in one line."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "two", "--empty")
    invoke(runner, "upgrade", rev_ids[0])
    result = invoke(runner, "current")
    assert result.stdout == f"<base> -> {rev_ids[0]} (default), init users\n"


def test_current_verbose(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``-v`` shows the revision's details and its docstring."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "upgrade")
    result = invoke(runner, "current", "-v")
    path = tmp_path / "migrations" / f"{rev_ids[0]}_init_users.py"
    out = result.stdout.splitlines()
    assert out[:7] == [
        f"Rev: {rev_ids[0]} (head)",
        "Parent: <base>",
        "Branch names: default",
        f"Path: {path}",
        "",
        "    init users",
        "    ",
    ]
    assert f"    Revision ID: {rev_ids[0]}" in out
    assert invoke(runner, "current", "--verbose").stdout == result.stdout


def test_check_heads_behind(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """``--check-heads`` exits 1 with one line when a head is not applied."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "revision", "two", "--empty")
    invoke(runner, "upgrade", rev_ids[0])
    result = invoke(runner, "current", "--check-heads", code=1)
    assert result.stdout == "Database is not on all head revisions\n"
    assert version_rows(url) == [rev_ids[0]]


def test_check_heads_at_head(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """``--check-heads`` at head exits 0 and shows the current revision."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "upgrade")
    result = invoke(runner, "current", "--check-heads")
    assert result.stdout == f"<base> -> {rev_ids[0]} (default) (head), one\n"


def test_check_heads_with_dependency(
    runner: FlaskCliRunner, rev_ids: tuple[str, ...]
) -> None:
    """A head that another branch depends on need not be in the version table
    for ``--check-heads`` to pass.
    """
    invoke(runner, "revision", "a", "--empty", "-b", "a")
    invoke(runner, "revision", "b", "--empty", "-b", "b", "-d", rev_ids[0])
    invoke(runner, "upgrade")
    result = invoke(runner, "current", "--check-heads")
    assert result.stdout == f"<base> ({rev_ids[0]}) -> {rev_ids[1]} (b) (head), b\n"


def test_current_two_databases(two_databases: TwoDatabases) -> None:
    """With several databases, each line names its database."""
    runner = two_databases.runner
    invoke(runner, "revision", "init", "--empty")
    result = invoke(runner, "current")
    assert result.stdout == ""
    invoke(runner, "upgrade")
    result = invoke(runner, "current")
    assert result.stdout.splitlines() == [
        "default: <base> -> 1795310540 (default) (head), init",
        "other: <base> -> 1795310540 (default) (head), init",
    ]


def test_improvement_3_check_heads_every_database(
    two_databases: TwoDatabases,
) -> None:
    """``--check-heads`` fails when any database is behind, not only
    ``default``, and names it.
    """
    runner = two_databases.runner
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "upgrade")
    invoke(runner, "current", "--check-heads")
    execute(two_databases.urls["other"], "DELETE FROM alembic_version")
    result = invoke(runner, "current", "--check-heads", code=1)
    assert result.stdout == "Database 'other' is not on all head revisions\n"
    assert version_rows(two_databases.urls["default"]) == ["1795310540"]
