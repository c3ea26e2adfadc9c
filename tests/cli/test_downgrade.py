"""``flask db downgrade [TARGET]``."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import table_names
from ..conftest import version_rows
from .conftest import fails
from .conftest import invoke
from .conftest import progress


def make_history(runner: FlaskCliRunner) -> None:
    """Write three empty revisions and upgrade to the last."""
    for message in ("one", "two", "three"):
        invoke(runner, "revision", message, "--empty")

    invoke(runner, "upgrade")


def test_downgrade_one_step(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """Without a target, downgrade undoes the last revision."""
    make_history(runner)
    result = invoke(runner, "downgrade")
    assert progress(result.output) == [
        f"Running downgrade {rev_ids[2]} -> {rev_ids[1]}, three"
    ]
    assert result.stdout == ""
    assert version_rows(url) == [rev_ids[1]]


def test_downgrade_base(
    runner: FlaskCliRunner, metadata: sa.MetaData, url: str, rev_ids: tuple[str, ...]
) -> None:
    """``base`` undoes every revision, dropping their tables."""
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    invoke(runner, "upgrade")
    assert "user" in table_names(url)
    result = invoke(runner, "downgrade", "base")
    assert progress(result.output) == [
        f"Running downgrade {rev_ids[0]} -> , init users"
    ]
    assert version_rows(url) == []
    assert table_names(url) == ["alembic_version"]


def test_improvement_4_downgrade_numeric_revision_id(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """A numeric revision id is a revision to go down to, not a step count
    (Flask-Alembic 3.3 made it ``-1795310540`` steps).
    """
    make_history(runner)
    result = invoke(runner, "downgrade", rev_ids[0])
    assert progress(result.output) == [
        f"Running downgrade {rev_ids[2]} -> {rev_ids[1]}, three",
        f"Running downgrade {rev_ids[1]} -> {rev_ids[0]}, two",
    ]
    assert version_rows(url) == [rev_ids[0]]


def test_improvement_4_downgrade_number_of_steps(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """A number that is not a revision id is a count of steps down."""
    make_history(runner)
    invoke(runner, "downgrade", "2")
    assert version_rows(url) == [rev_ids[0]]


def test_downgrade_signed_steps(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """A signed step count, after ``--``, goes down too."""
    make_history(runner)
    invoke(runner, "downgrade", "--", "-2")
    assert version_rows(url) == [rev_ids[0]]


def test_downgrade_unknown_revision(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """An unknown target is one error line and nothing runs."""
    make_history(runner)
    assert fails(runner, "downgrade", "nosuch") == (
        "Error: Can't locate revision identified by 'nosuch'. Run 'flask db"
        " log' to list the revisions."
    )
    assert version_rows(url) == [rev_ids[2]]


def test_downgrade_too_far(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """More steps than there are revisions is one error line and nothing
    runs.
    """
    make_history(runner)
    error = fails(runner, "downgrade", "5")
    assert error == (
        "Error: Relative revision -5 didn't produce 5 migrations: there are fewer"
        " revisions in that direction. Run 'flask db log' to list them."
    )
    assert version_rows(url) == [rev_ids[2]]
