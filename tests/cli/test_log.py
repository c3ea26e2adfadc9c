"""``flask db log [--start] [--end] [-v]``."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner

from .conftest import fails
from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen


def make_history(runner: FlaskCliRunner) -> None:
    """Write three empty revisions."""
    for message in ("one", "two", "three"):
        invoke(runner, "revision", message, "--empty")


def lines_for(rev_ids: tuple[str, ...]) -> list[str]:
    """The log lines of :func:`make_history`'s revisions, newest first."""
    return [
        f"{rev_ids[1]} -> {rev_ids[2]} (default) (head), three",
        f"{rev_ids[0]} -> {rev_ids[1]} (default), two",
        f"<base> -> {rev_ids[0]} (default), one",
    ]


@no_database
def test_log(runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]) -> None:
    """Every revision is shown, newest first."""
    make_history(runner)
    assert invoke(reopen(), "log").output.splitlines() == lines_for(rev_ids)


@no_database
def test_log_empty(runner: FlaskCliRunner) -> None:
    """Without revisions the log is empty."""
    assert invoke(runner, "log").output == ""


@no_database
def test_start_end(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """``--start`` and ``--end`` limit the range, both included."""
    make_history(runner)
    fresh = reopen()
    expected = lines_for(rev_ids)
    result = invoke(fresh, "log", "--start", rev_ids[1])
    assert result.output.splitlines() == expected[:2]
    result = invoke(fresh, "log", "--end", rev_ids[1])
    assert result.output.splitlines() == expected[1:]
    result = invoke(fresh, "log", "--start", rev_ids[1], "--end", rev_ids[1])
    assert result.output.splitlines() == expected[1:2]


@no_database
def test_verbose(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """``-v`` shows each revision's details."""
    make_history(runner)
    out = invoke(runner, "log", "-v").output.splitlines()
    assert [line for line in out if line.startswith("Rev: ")] == [
        f"Rev: {rev_ids[2]} (head)",
        f"Rev: {rev_ids[1]}",
        f"Rev: {rev_ids[0]}",
    ]
    assert f"Parent: {rev_ids[1]}" in out


def test_start_current(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """``--start current`` shows from the revision the database is at."""
    make_history(runner)
    invoke(runner, "upgrade", rev_ids[1])
    result = invoke(reopen(), "log", "--start", "current")
    assert result.stdout.splitlines() == lines_for(rev_ids)[:2]


@no_database
@pytest.mark.parametrize("option", ["--start", "--end"])
def test_unknown_revision(
    runner: FlaskCliRunner, rev_ids: tuple[str, ...], option: str
) -> None:
    """An unknown bound is one error line."""
    make_history(runner)
    assert fails(runner, "log", option, "nosuch") == (
        "Error: Can't locate revision identified by 'nosuch'. Run 'flask db"
        " log' to list the revisions."
    )
