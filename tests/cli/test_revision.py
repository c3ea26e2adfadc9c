"""``flask db revision MESSAGE [--empty] [-b] [-p]... [--splice] [-d]... [-l]...
[--path]``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import version_rows
from .conftest import fails
from .conftest import fix_rev_ids
from .conftest import invoke
from .conftest import lines
from .conftest import no_database
from .conftest import Reopen


def test_autogenerate(
    runner: FlaskCliRunner,
    metadata: sa.MetaData,
    url: str,
    tmp_path: Path,
    rev_ids: tuple[str, ...],
) -> None:
    """A revision compares the models with the database and writes the
    operations that make them match.
    """
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    result = invoke(runner, "revision", "init users")
    path = tmp_path / "migrations" / f"{rev_ids[0]}_init_users.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    source = path.read_text()
    assert f"revision: str = '{rev_ids[0]}'" in source
    assert "down_revision: Union[str, Sequence[str], None] = None" in source
    assert "branch_labels: Union[str, Sequence[str], None] = ('default',)" in source
    assert "op.create_table('user'" in source
    assert "op.drop_table('user')" in source
    # Autogenerate only reads the database.
    assert version_rows(url) == []


@no_database
def test_empty(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``--empty`` writes a revision without operations."""
    result = invoke(runner, "revision", "nothing yet", "--empty")
    path = tmp_path / "migrations" / f"{rev_ids[0]}_nothing_yet.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    source = path.read_text()
    assert "op." not in source
    assert source.count("    pass\n") == 2


@no_database
def test_next_revision_follows_head(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """A second revision's parent is the head of the default branch."""
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "second", "--empty")
    result = invoke(reopen(), "heads")
    assert result.output == f"{rev_ids[0]} -> {rev_ids[1]} (default) (head), second\n"


@no_database
def test_new_revision_inherits_label_in_same_process(
    runner: FlaskCliRunner, rev_ids: tuple[str, ...]
) -> None:
    """A revision made by this process shows its branch's label like one
    read from its file.
    """
    invoke(runner, "revision", "init users", "--empty")
    invoke(runner, "revision", "second", "--empty")
    result = invoke(runner, "heads")
    assert result.output == f"{rev_ids[0]} -> {rev_ids[1]} (default) (head), second\n"


@no_database
def test_branch(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``--branch`` starts a new independent branch from base, labelled with
    its name, and continues it afterwards.
    """
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "users one", "--empty", "-b", "users")
    invoke(runner, "revision", "users two", "--empty", "--branch", "users")
    source = (tmp_path / "migrations" / f"{rev_ids[1]}_users_one.py").read_text()
    assert "branch_labels: Union[str, Sequence[str], None] = ('users',)" in source
    result = invoke(reopen(), "heads")
    assert result.output.splitlines() == [
        f"<base> -> {rev_ids[0]} (default) (head), init",
        f"{rev_ids[1]} -> {rev_ids[2]} (users) (head), users two",
    ]


@no_database
def test_parent_not_a_head(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """A parent that is not a head is refused without ``--splice``, and
    nothing is written.
    """
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "second", "--empty")
    error = fails(runner, "revision", "side", "--empty", "-p", rev_ids[0])
    assert error == (
        f"Error: Revision {rev_ids[0]} is not a head revision; please specify"
        " --splice to create a new branch from this revision"
    )
    assert len(list((tmp_path / "migrations").glob("*.py"))) == 2


@no_database
def test_splice(
    runner: FlaskCliRunner, reopen: Reopen, rev_ids: tuple[str, ...]
) -> None:
    """``--splice`` makes a second head from a parent that is not a head."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "second", "--empty")
    invoke(runner, "revision", "side", "--empty", "--parent", rev_ids[0], "--splice")
    result = invoke(reopen(), "heads")
    assert result.output.splitlines() == [
        f"{rev_ids[0]} -> {rev_ids[1]} (default) (head), second",
        f"{rev_ids[0]} -> {rev_ids[2]} (default) (head), side",
    ]


@no_database
def test_parents(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """Several ``--parent`` options make a revision that merges them."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "users", "--empty", "-b", "users")
    invoke(runner, "revision", "both", "--empty", "-p", rev_ids[0], "-p", rev_ids[1])
    result = invoke(reopen(), "heads")
    assert result.output == (
        f"{rev_ids[0]}, {rev_ids[1]} -> {rev_ids[2]} (default, users) (head)"
        " (mergepoint), both\n"
    ) or result.output == (
        f"{rev_ids[0]}, {rev_ids[1]} -> {rev_ids[2]} (users, default) (head)"
        " (mergepoint), both\n"
    )


@no_database
def test_depend(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``--depend`` records a dependency without making it a parent."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "users", "--empty", "-b", "users")
    invoke(runner, "revision", "needs users", "--empty", "-d", rev_ids[1])
    source = (tmp_path / "migrations" / f"{rev_ids[2]}_needs_users.py").read_text()
    assert f"down_revision: Union[str, Sequence[str], None] = '{rev_ids[0]}'" in source
    assert f"depends_on: Union[str, Sequence[str], None] = '{rev_ids[1]}'" in source
    result = invoke(reopen(), "heads")
    assert result.output.splitlines() == [
        f"<base> -> {rev_ids[1]} (users) (effective head), users",
        f"{rev_ids[0]} ({rev_ids[1]}) -> {rev_ids[2]} (default) (head), needs users",
    ]


@no_database
def test_label(
    runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``--label`` adds branch labels that name the revision."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "second", "--empty", "-l", "extra", "--label", "more")
    source = (tmp_path / "migrations" / f"{rev_ids[1]}_second.py").read_text()
    assert (
        "branch_labels: Union[str, Sequence[str], None] = ('extra', 'more')"
    ) in source
    result = invoke(reopen(), "show", "extra@head")
    assert result.output.splitlines()[0] == f"Rev: {rev_ids[1]} (head)"


@no_database
def test_path(
    make_app: AppFactory,
    url: str,
    metadata: sa.MetaData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--path`` writes the revision into another version location."""
    other = tmp_path / "other"
    app, alembic = make_app(
        {"default": url}, metadata, config={"version_locations": [str(other)]}
    )
    rev_ids = fix_rev_ids(alembic, monkeypatch)
    runner = app.test_cli_runner()
    result = invoke(runner, "revision", "init", "--empty", "--path", str(other))
    path = other / f"{rev_ids[0]}_init.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    assert path.exists()
    assert not list((tmp_path / "migrations").glob("*.py"))


@no_database
def test_path_not_a_version_location(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A ``--path`` outside the version locations is an error and writes
    nothing.
    """
    other = tmp_path / "other"
    error = fails(runner, "revision", "init", "--empty", "--path", str(other))
    assert error == (
        "Error: The path 'other' is not a version location, so a revision"
        " there would never run. Use one of: migrations; or declare the"
        " directory as a branch's path in ALEMBIC['branches']."
    )
    assert not other.exists()


@no_database
def test_multiple_heads(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """With two heads, a revision must name its parent; the error says how."""
    invoke(runner, "revision", "init", "--empty")
    invoke(runner, "revision", "second", "--empty")
    invoke(runner, "revision", "side", "--empty", "-p", rev_ids[0], "--splice")
    error = fails(runner, "revision", "next", "--empty")
    assert error in (
        f"Error: Branch 'default' has several heads ({a}, {b}), so the parent"
        " of the new revision is ambiguous. Pass one with '--parent', or run"
        " 'flask db merge' to join them first."
        for a, b in [(rev_ids[1], rev_ids[2]), (rev_ids[2], rev_ids[1])]
    )
    invoke(runner, "revision", "next", "--empty", "--parent", rev_ids[2])


def test_not_up_to_date(
    runner: FlaskCliRunner,
    metadata: sa.MetaData,
    url: str,
    tmp_path: Path,
    rev_ids: tuple[str, ...],
) -> None:
    """Autogenerating against a database that is behind is refused, naming
    the pending revision, and writes nothing.
    """
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    error = fails(runner, "revision", "again")
    assert error == (
        f"Error: Database 'default' is not up to date: 1 pending revision"
        f" ({rev_ids[0]}). Run 'flask db upgrade' first."
    )
    assert [p.name for p in (tmp_path / "migrations").glob("*.py")] == [
        f"{rev_ids[0]}_init_users.py"
    ]
    assert version_rows(url) == []
