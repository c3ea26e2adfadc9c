"""Fixtures and helpers for the ``flask db`` command tests.

Most CLI tests only need one way of finding engines, so ``integration`` is
plain SQLAlchemy here; tests about engine discovery parametrize it again.
Each command runs in its own app context, as it does from a terminal.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from flask_alembic import Alembic

from ..conftest import AppFactory

#: Makes a runner for a new app on the test's database and migrations.
Reopen = cabc.Callable[[], FlaskCliRunner]

#: The ids :func:`fix_rev_ids` hands out, in order.
REV_IDS = ("1795310540", "1795310600", "1795310700", "1795310800", "1795310900")


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines, unless a test parametrizes it."""
    return t.cast(str, request.param)


@pytest.fixture
def ext(app: Flask) -> Alembic:
    """The app's extension, without pushing an app context."""
    return t.cast(Alembic, app.extensions["alembic"])


@pytest.fixture
def rev_ids(ext: Alembic, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    """New revisions get the ids of :data:`REV_IDS`, in order."""
    return fix_rev_ids(ext, monkeypatch)


@pytest.fixture
def reopen(make_app: AppFactory, url: str, metadata: sa.MetaData) -> Reopen:
    """Make a runner for a new app on the same database and migrations, which
    reads the revision files again, as the next ``flask`` process would.
    """

    def reopen() -> FlaskCliRunner:
        return make_app({"default": url}, metadata)[0].test_cli_runner()

    return reopen


def fix_rev_ids(
    alembic: Alembic, monkeypatch: pytest.MonkeyPatch, ids: cabc.Iterable[str] = REV_IDS
) -> tuple[str, ...]:
    """Make new revisions get the given ids, in order."""
    ids = tuple(ids)
    it = iter(ids)
    monkeypatch.setattr(alembic, "rev_id", lambda: next(it))
    return ids


def invoke(runner: FlaskCliRunner, *args: str, code: int = 0) -> Result:
    """Run ``flask db <args>`` and check its exit code."""
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == code, result.output
    return result


def lines(text: str) -> list[str]:
    """The lines of a command's output, without progress lines."""
    return [line for line in text.splitlines() if not line.startswith("INFO  [")]


def fails(runner: FlaskCliRunner, *args: str, hidden: str | None = None) -> str:
    """Run a command that must fail with one ``Error:`` line and no
    traceback, and where ``hidden`` appears nowhere; return that line.
    """
    result = runner.invoke(args=["db", *args])
    assert hidden is None or hidden not in result.output
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("Error: "), result.output
    return errors[0]


#: For tests that never connect to a database: run them once, on SQLite.
no_database = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def execute(url: str, sql: str) -> None:
    """Run one statement on a database and commit it."""
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def progress(output: str) -> list[str]:
    """Alembic's progress messages in a command's output, without the
    per-connection ones.
    """
    prefix = "INFO  [alembic.runtime.migration] "
    return [
        line.removeprefix(prefix)
        for line in output.splitlines()
        if line.startswith(prefix)
        and not line.startswith((f"{prefix}Context impl", f"{prefix}Will assume"))
    ]


@pytest.fixture
def two_databases(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> TwoDatabases:
    """An app with a shared history over two databases, ``default`` with a
    ``user`` table and ``other`` with a ``log`` table in their models.
    """
    urls = {"default": make_url(), "other": make_url()}
    metadatas = {"default": sa.MetaData(), "other": sa.MetaData()}
    sa.Table(
        "user", metadatas["default"], sa.Column("id", sa.Integer, primary_key=True)
    )
    sa.Table("log", metadatas["other"], sa.Column("id", sa.Integer, primary_key=True))
    app, alembic = make_app(urls, metadatas)
    fix_rev_ids(alembic, monkeypatch)
    return TwoDatabases(app.test_cli_runner(), urls, metadatas)


@dataclasses.dataclass
class TwoDatabases:
    """What :func:`two_databases` made."""

    runner: FlaskCliRunner
    urls: dict[str, str]
    metadatas: dict[str, sa.MetaData]
