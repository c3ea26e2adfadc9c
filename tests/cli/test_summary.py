"""The summary ``upgrade``, ``downgrade`` and ``stamp`` print on stderr after
a successful run: one line per bind, after Alembic's progress lines.

The history is the hand-written one of ``tests/test_offline.py``: ``d1``
(creates ``post``) then ``d2`` (creates ``tag``) in ``migrations/``, and with
per-bind histories ``a1`` then ``a2`` in ``migrations/auth/``.
"""

from __future__ import annotations

import collections.abc as cabc
import re
from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import version_rows
from ..test_offline import write_history
from ..test_offline import write_revision
from .conftest import invoke
from .conftest import TwoDatabases

#: A time as the summary shows it.
SECONDS = r"\d+\.\d\d s"


def summary(runner: FlaskCliRunner, *args: str) -> list[str]:
    """Run a command that must succeed and print nothing on stdout; return
    the lines it printed on stderr after the last progress line.
    """
    result = invoke(runner, *args)
    assert result.stdout == ""
    stderr = result.stderr.splitlines()
    last = max(
        (i for i, line in enumerate(stderr) if line.startswith("INFO  [")), default=-1
    )
    return stderr[last + 1 :]


def matches(lines: list[str], patterns: list[str]) -> bool:
    """Whether each line matches its pattern, whole."""
    return len(lines) == len(patterns) and all(
        re.fullmatch(pattern, line)
        for pattern, line in zip(patterns, lines, strict=True)
    )


def test_upgrade(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """After the revisions have run, one line gives how many ran and how
    long they took; with nothing to run it says where the database is.
    """
    write_history(tmp_path)
    result = invoke(runner, "upgrade")
    stderr = result.stderr.splitlines()
    assert (
        stderr[-2]
        == "INFO  [alembic.runtime.migration] Running upgrade d1 -> d2, create tag"
    )
    assert re.fullmatch(
        rf"Bind 'default': 2 revisions applied in {SECONDS}\.", stderr[-1]
    ), stderr[-1]
    assert summary(runner, "upgrade") == ["Bind 'default': at d2, nothing to upgrade."]
    assert version_rows(url) == ["d2"]


def test_upgrade_one(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """One revision is counted in the singular."""
    write_history(tmp_path)
    lines = summary(runner, "upgrade", "+1")
    assert matches(lines, [rf"Bind 'default': 1 revision applied in {SECONDS}\."]), (
        lines
    )


def test_downgrade(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """A downgrade counts the revisions it downgraded."""
    write_history(tmp_path)
    invoke(runner, "upgrade")
    lines = summary(runner, "downgrade")
    assert matches(lines, [rf"Bind 'default': 1 revision downgraded in {SECONDS}\."]), (
        lines
    )
    assert version_rows(url) == ["d1"]
    lines = summary(runner, "downgrade", "base")
    assert matches(lines, [rf"Bind 'default': 1 revision downgraded in {SECONDS}\."]), (
        lines
    )
    assert summary(runner, "downgrade", "base") == [
        "Bind 'default': at <base>, nothing to downgrade."
    ]
    assert version_rows(url) == []


def test_stamp(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """A stamp says where it left the database."""
    write_history(tmp_path)
    assert summary(runner, "stamp", "d1") == ["Bind 'default': stamped at d1."]
    assert summary(runner, "stamp") == ["Bind 'default': stamped at d2."]
    assert summary(runner, "stamp", "base") == ["Bind 'default': stamped at <base>."]
    assert version_rows(url) == []


def test_failure_has_no_summary(
    runner: FlaskCliRunner, tmp_path: Path, url: str
) -> None:
    """A failed run prints its report, and no summary."""
    write_history(tmp_path)
    # A revision whose table already exists fails when it runs.
    write_revision(tmp_path / "migrations", "d3", "d2", "post")
    invoke(runner, "upgrade", "d2")
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1, result.output
    assert "Upgrade failed on bind 'default' at revision d3" in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("Bind")]
    assert version_rows(url) == ["d2"]


def test_per_bind(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> None:
    """With per-bind histories each bind that ran has a line, in the order
    they ran, downgrades in reverse order.
    """
    write_history(tmp_path, ("default", "auth"))
    urls = {"default": make_url(on="sqlite"), "auth": make_url()}
    app, _ = make_app(
        urls, {name: sa.MetaData() for name in urls}, config={"binds": {"auth": {}}}
    )
    runner = app.test_cli_runner()
    # A revision moves the bind it belongs to only.
    lines = summary(runner, "upgrade", "a1")
    assert matches(lines, [rf"Bind 'auth': 1 revision applied in {SECONDS}\."]), lines
    lines = summary(runner, "upgrade")
    assert matches(
        lines,
        [
            rf"Bind 'default': 2 revisions applied in {SECONDS}\.",
            rf"Bind 'auth': 1 revision applied in {SECONDS}\.",
        ],
    ), lines
    assert summary(runner, "upgrade") == [
        "Bind 'default': at d2, nothing to upgrade.",
        "Bind 'auth': at a2, nothing to upgrade.",
    ]
    lines = summary(runner, "downgrade", "base")
    assert matches(
        lines,
        [
            rf"Bind 'auth': 2 revisions downgraded in {SECONDS}\.",
            rf"Bind 'default': 2 revisions downgraded in {SECONDS}\.",
        ],
    ), lines
    assert summary(runner, "stamp", "--bind", "auth") == ["Bind 'auth': stamped at a2."]
    assert version_rows(urls["auth"]) == ["a2"]
    assert version_rows(urls["default"]) == []


def test_shared_history(two_databases: TwoDatabases) -> None:
    """In a shared history, each database has a line."""
    runner = two_databases.runner
    invoke(runner, "revision", "init")
    lines = summary(runner, "upgrade")
    assert matches(
        lines,
        [
            rf"Bind 'default': 1 revision applied in {SECONDS}\.",
            rf"Bind 'other': 1 revision applied in {SECONDS}\.",
        ],
    ), lines
