"""``flask db merge [REVISIONS]... [-m] [-l]...``."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from .conftest import fails
from .conftest import invoke
from .conftest import lines
from .conftest import no_database
from .conftest import Reopen

pytestmark = no_database


def make_two_heads(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """Write a history with two heads."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "second", "--empty")
    invoke(runner, "revision", "side", "--empty", "-p", rev_ids[0], "--splice")


def test_merge_heads(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """Without arguments, the heads are merged into one."""
    make_two_heads(runner, rev_ids)
    result = invoke(runner, "merge")
    path = tmp_path / "migrations" / f"{rev_ids[3]}_merge_heads.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    assert invoke(reopen(), "heads").output == (
        f"{rev_ids[1]}, {rev_ids[2]} -> {rev_ids[3]} (default) (head)"
        " (mergepoint), merge heads\n"
    )


def test_message_and_label(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``-m`` sets the message and ``-l`` adds labels."""
    make_two_heads(runner, rev_ids)
    invoke(runner, "merge", "-m", "join them", "-l", "joined")
    source = (tmp_path / "migrations" / f"{rev_ids[3]}_join_them.py").read_text()
    assert "branch_labels: Union[str, Sequence[str], None] = ('joined',)" in source
    out = invoke(reopen(), "show", "joined@head").output.splitlines()
    assert out[0] == f"Rev: {rev_ids[3]} (head) (mergepoint)"


def test_merge_named_revisions(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """The named revisions become the parents of the merge revision."""
    make_two_heads(runner, rev_ids)
    result = invoke(runner, "merge", rev_ids[1], rev_ids[2], "--message", "both")
    path = tmp_path / "migrations" / f"{rev_ids[3]}_both.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    source = path.read_text()
    assert (
        "down_revision: Union[str, Sequence[str], None] ="
        f" ('{rev_ids[1]}', '{rev_ids[2]}')"
    ) in source


def test_merge_unknown(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """An unknown revision is one error line and nothing is written."""
    make_two_heads(runner, rev_ids)
    assert fails(runner, "merge", rev_ids[1], "nosuch") == (
        "Error: Can't locate revision identified by 'nosuch'. Run 'flask db"
        " log' to list the revisions."
    )
    assert len(list((tmp_path / "migrations").glob("*.py"))) == 3
