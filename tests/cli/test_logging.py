"""Alembic's progress lines while ``flask db`` commands run.

The library adds no log handlers. A command shows Alembic's INFO lines on
stderr for as long as it runs, unless a handler of the application already
prints them to the terminal.
"""

from __future__ import annotations

import collections.abc as cabc
import logging
import re
import sys

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from .conftest import invoke

PLUGIN = "setting up autogenerate plugin"


def handlers() -> list[logging.Handler]:
    """The handlers on the ``alembic`` logger: Alembic's own NullHandler."""
    return list(logging.getLogger("alembic").handlers)


@pytest.fixture(params=[logging.INFO, logging.WARNING], ids=["info", "warning"])
def terminal_logging(
    request: pytest.FixtureRequest,
) -> cabc.Iterator[logging.Handler]:
    """Configure logging as an application might: a handler printing to the
    terminal's stderr on the root logger, at INFO or, as
    ``logging.basicConfig()`` leaves it, at WARNING.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("app %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(request.param)

    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_improvement_9_progress_shown(
    runner: FlaskCliRunner,
    metadata: sa.MetaData,
    rev_ids: tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without logging of the application's own, progress lines are shown
    on stderr, the autogenerate plugin lines are not, and no handler or level
    is left on the ``alembic`` loggers.
    """
    # pytest's capture handler on the root logger does not print to the
    # terminal, so it must not hide the progress lines.
    caplog.set_level(logging.INFO)
    alembic_handlers = handlers()
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    result = invoke(runner, "revision", "init users")
    assert (
        "INFO  [alembic.autogenerate.compare.tables] Detected added table 'user'"
        in result.stderr.splitlines()
    )
    assert PLUGIN not in result.output
    assert not any(PLUGIN in r.getMessage() for r in caplog.records)
    assert logging.getLogger("alembic.runtime.plugins").level == logging.NOTSET
    result = invoke(runner, "upgrade")
    progress, summary = result.stderr.splitlines()[-2:]
    assert progress == (
        f"INFO  [alembic.runtime.migration] Running upgrade  -> {rev_ids[0]},"
        " init users"
    )
    assert re.fullmatch(r"Bind 'default': 1 revision applied in \d+\.\d\d s\.", summary)
    assert result.stdout == ""
    assert handlers() == alembic_handlers


def test_improvement_9_no_logging_configured(
    runner: FlaskCliRunner, rev_ids: tuple[str, ...]
) -> None:
    """With the ``alembic`` logger untouched, its level is set only while the
    command runs.
    """
    invoke(runner, "revision", "one", "--empty")
    alembic_handlers = handlers()
    result = invoke(runner, "upgrade")
    assert (
        f"INFO  [alembic.runtime.migration] Running upgrade  -> {rev_ids[0]}, one"
        in result.stderr.splitlines()
    )
    assert logging.getLogger("alembic").level == logging.NOTSET
    assert handlers() == alembic_handlers


def test_improvement_9_app_logging_not_duplicated(
    runner: FlaskCliRunner,
    rev_ids: tuple[str, ...],
    terminal_logging: logging.Handler,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """When the application's logging already prints to the terminal, each
    progress line is printed once, by the application.
    """
    invoke(runner, "revision", "one", "--empty")
    capfd.readouterr()
    alembic_handlers = handlers()
    result = invoke(runner, "upgrade")
    printed = capfd.readouterr().err.splitlines()
    line = f"Running upgrade  -> {rev_ids[0]}, one"
    assert f"app alembic.runtime.migration: {line}" in printed
    assert [x for x in printed + result.output.splitlines() if line in x] == [
        f"app alembic.runtime.migration: {line}"
    ]
    assert handlers() == alembic_handlers
