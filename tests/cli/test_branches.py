"""``flask db branches [-v]``."""

from __future__ import annotations

from flask.testing import FlaskCliRunner

from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen

pytestmark = no_database


def test_no_branch_points(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """A linear history has no branch points."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "revision", "two", "--empty")
    assert invoke(runner, "branches").output == ""


def make_branch_point(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """Write a revision with two children."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "second", "--empty")
    invoke(runner, "revision", "side", "--empty", "-p", rev_ids[0], "--splice")


def test_branch_point(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """A branch point is shown with an indented line per child."""
    make_branch_point(runner, rev_ids)
    out = invoke(reopen(), "branches").output.splitlines()
    assert out[0] == f"<base> -> {rev_ids[0]} (default) (branchpoint), init users"
    assert sorted(out[1:]) == [
        f"    -> {rev_ids[0]} -> {rev_ids[1]} (default) (head), second",
        f"    -> {rev_ids[0]} -> {rev_ids[2]} (default) (head), side",
    ]


def test_verbose(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """``-v`` shows the branch point's details; children stay one line."""
    make_branch_point(runner, rev_ids)
    out = invoke(reopen(), "branches", "-v").output.splitlines()
    assert out[0] == f"Rev: {rev_ids[0]} (branchpoint)"
    assert out[1] == "Parent: <base>"
    assert out[2] in (
        f"Branches into: {rev_ids[1]}, {rev_ids[2]}",
        f"Branches into: {rev_ids[2]}, {rev_ids[1]}",
    )
    assert sorted(out[-2:]) == [
        f"    -> {rev_ids[0]} -> {rev_ids[1]} (default) (head), second",
        f"    -> {rev_ids[0]} -> {rev_ids[2]} (default) (head), side",
    ]
