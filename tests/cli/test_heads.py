"""``flask db heads [--resolve-dependencies] [-v]``."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen

pytestmark = no_database


def test_no_revisions(runner: FlaskCliRunner) -> None:
    """Without revisions there are no heads."""
    assert invoke(runner, "heads").output == ""


def test_one_head(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """The head of a linear history is shown in one line."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "two", "--empty")
    assert invoke(reopen(), "heads").output == (
        f"{rev_ids[0]} -> {rev_ids[1]} (default) (head), two\n"
    )


def test_two_branches(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """Each independent branch has its own head."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "users", "--empty", "-b", "users")
    assert invoke(reopen(), "heads").output.splitlines() == [
        f"<base> -> {rev_ids[0]} (default) (head), init users",
        f"<base> -> {rev_ids[1]} (users) (head), users",
    ]


def test_verbose(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``-v`` shows each head's details."""
    invoke(runner, "revision", "init users", "--empty")
    out = invoke(runner, "heads", "-v").output.splitlines()
    assert out[:6] == [
        f"Rev: {rev_ids[0]} (head)",
        "Parent: <base>",
        "Branch names: default",
        f"Path: {tmp_path / 'migrations' / f'{rev_ids[0]}_init_users.py'}",
        "",
        "    init users",
    ]
    assert invoke(runner, "heads", "--verbose").output == "\n".join(out) + "\n"


def test_resolve_dependencies(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """A head another revision depends on is an effective head, which
    ``--resolve-dependencies`` leaves out.
    """
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "users", "--empty", "-b", "users")
    invoke(runner, "revision", "needs users", "--empty", "-d", rev_ids[1])
    fresh = reopen()
    needs = f"{rev_ids[0]} ({rev_ids[1]}) -> {rev_ids[2]} (default) (head), needs users"
    assert invoke(fresh, "heads").output.splitlines() == [
        f"<base> -> {rev_ids[1]} (users) (effective head), users",
        needs,
    ]
    assert invoke(fresh, "heads", "--resolve-dependencies").output == needs + "\n"
