"""``flask db show REVISIONS...``."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from .conftest import fails
from .conftest import invoke
from .conftest import no_database

pytestmark = no_database


def test_show(runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]) -> None:
    """A revision is shown with its details and docstring."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "two", "--empty")
    out = invoke(runner, "show", rev_ids[1]).output.splitlines()
    assert out[:7] == [
        f"Rev: {rev_ids[1]} (head)",
        f"Parent: {rev_ids[0]}",
        "Branch names: default",
        f"Path: {tmp_path / 'migrations' / f'{rev_ids[1]}_two.py'}",
        "",
        "    two",
        "    ",
    ]
    assert out[7:9] == [
        f"    Revision ID: {rev_ids[1]}",
        f"    Revises: {rev_ids[0]}",
    ]
    assert out[9].startswith("    Create Date: ")


def test_show_several(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """Several revisions, by id, label or symbol, are shown in order."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "revision", "two", "--empty")
    out = invoke(runner, "show", "head", "default").output.splitlines()
    assert [line for line in out if line.startswith("Rev: ")] == [
        f"Rev: {rev_ids[1]} (head)",
        f"Rev: {rev_ids[0]}",
    ]


def test_show_nothing(runner: FlaskCliRunner) -> None:
    """Without arguments nothing is shown."""
    assert invoke(runner, "show").output == ""


def test_show_unknown(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """An unknown revision is one error line that suggests close ids."""
    invoke(runner, "revision", "one", "--empty")
    assert fails(runner, "show", "1795310541") == (
        "Error: Can't locate revision identified by '1795310541'. Did you mean"
        f" '{rev_ids[0]}'? Run 'flask db log' to list the revisions."
    )
