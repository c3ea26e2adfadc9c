"""``upgrade/downgrade/stamp --sql``, ``upgrade/downgrade --plan`` and
``stamp --purge``.

The history is the hand-written one of ``tests/test_offline.py``: ``d1``
(creates ``post``) then ``d2`` (creates ``tag``) in ``migrations/``, and with
per-bind histories ``a1`` then ``a2`` in ``migrations/auth/``.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from flask_alembic import Alembic

from ..conftest import AppFactory
from ..conftest import table_names
from ..conftest import version_rows
from ..test_offline import SQLITE_UPGRADE
from ..test_offline import write_history
from ..test_offline import write_revision
from .conftest import execute
from .conftest import fails
from .conftest import invoke
from .conftest import lines
from .conftest import no_database


def usage_error(runner: FlaskCliRunner, *args: str) -> str:
    """Run a command that must be refused as a usage error (exit 2, no
    traceback) and return its ``Error:`` line.
    """
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr.splitlines()[-1]


def sql(app: Flask, *args: t.Any, **kwargs: t.Any) -> dict[str, str]:
    """What ``Alembic.sql`` returns, in an app context of its own."""
    with app.app_context():
        alembic: Alembic = app.extensions["alembic"]
        return alembic.sql(*args, **kwargs)


@no_database
def test_upgrade_sql_sqlite(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``upgrade --sql`` prints the whole upgrade's SQL on stdout and creates
    no database.
    """
    write_history(tmp_path)
    result = invoke(runner, "upgrade", "--sql")
    assert result.stdout == SQLITE_UPGRADE
    assert not Path(sa.make_url(url).database or "").exists()


@no_database
def test_upgrade_sql_start(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """``upgrade --sql START:TARGET`` prints only the steps after START."""
    write_history(tmp_path)
    result = invoke(runner, "upgrade", "--sql", "d1:d2")
    assert result.stdout == (
        "BEGIN;\n\n"
        "-- Running upgrade d1 -> d2\n\n"
        "CREATE TABLE tag (\n"
        "    id INTEGER NOT NULL, \n"
        "    PRIMARY KEY (id)\n"
        ");\n\n"
        "UPDATE alembic_version SET version_num='d2'"
        " WHERE alembic_version.version_num = 'd1';\n\n"
        "COMMIT;\n\n"
    )


@no_database
def test_stamp_and_downgrade_sql(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """``stamp --sql`` prints only version table statements;
    ``downgrade --sql START:TARGET`` prints the revisions' downgrades.
    """
    write_history(tmp_path)
    result = invoke(runner, "stamp", "--sql", "d1:d2")
    assert result.stdout == (
        "BEGIN;\n\n"
        "-- Running stamp_revision d1 -> d2\n\n"
        "UPDATE alembic_version SET version_num='d2'"
        " WHERE alembic_version.version_num = 'd1';\n\n"
        "COMMIT;\n\n"
    )
    result = invoke(runner, "downgrade", "--sql", "d2:d1")
    assert result.stdout == (
        "BEGIN;\n\n"
        "-- Running downgrade d2 -> d1\n\n"
        "DROP TABLE tag;\n\n"
        "UPDATE alembic_version SET version_num='d1'"
        " WHERE alembic_version.version_num = 'd2';\n\n"
        "COMMIT;\n\n"
    )


def test_sql_same_as_api(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path, url: str
) -> None:
    """On each backend, ``--sql`` prints what ``Alembic.sql`` returns and
    leaves the database without any table.
    """
    write_history(tmp_path)

    for operation, target in (
        ("upgrade", "heads"),
        ("stamp", "heads"),
        ("downgrade", "d2:base"),
    ):
        result = invoke(runner, operation, "--sql", target)
        assert result.stdout == sql(app, operation, target)["default"]
        assert "Running" in result.stdout

    assert table_names(url) == []


@no_database
def test_sql_output_dir_single(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    """``--output-dir`` writes ``default.sql`` there, creating the
    directory, and says so.
    """
    write_history(tmp_path)
    out = tmp_path / "out" / "sql"
    result = invoke(runner, "upgrade", "--sql", "--output-dir", str(out))
    assert lines(result.stdout) == [f"Wrote {out / 'default.sql'}"]
    assert sorted(os.listdir(out)) == ["default.sql"]
    assert (out / "default.sql").read_text() == SQLITE_UPGRADE


@pytest.mark.parametrize(
    "args",
    [
        ("upgrade", "--output-dir", "out"),
        ("downgrade", "--output-dir", "out"),
        ("upgrade", "--plan", "--output-dir", "out"),
    ],
)
def test_output_dir_needs_sql(
    runner: FlaskCliRunner, tmp_path: Path, url: str, args: tuple[str, ...]
) -> None:
    """``--output-dir`` without ``--sql`` is a usage error; nothing runs
    and nothing is written.
    """
    write_history(tmp_path)
    assert usage_error(runner, *args) == "Error: --output-dir needs --sql."
    assert not (tmp_path / "out").exists()
    assert version_rows(url) == []
    assert table_names(url) == []


@pytest.mark.parametrize("operation", ["upgrade", "downgrade"])
def test_sql_with_plan(
    runner: FlaskCliRunner, tmp_path: Path, url: str, operation: str
) -> None:
    """``--sql`` and ``--plan`` together are a usage error."""
    write_history(tmp_path)
    assert usage_error(runner, operation, "--sql", "--plan", "d2:d1") == (
        "Error: --sql and --plan cannot be used together."
    )
    assert table_names(url) == []


def test_stamp_purge_sql(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``stamp --purge --sql`` is a usage error, and nothing is stamped."""
    write_history(tmp_path)
    assert usage_error(runner, "stamp", "--purge", "--sql", "d1") == (
        "Error: --purge cannot be used with --sql."
    )
    assert table_names(url) == []


def test_downgrade_sql_needs_start(
    runner: FlaskCliRunner, tmp_path: Path, url: str
) -> None:
    """``downgrade --sql`` needs START:TARGET: with no target it is a usage
    error, with a target only it is one error line.
    """
    write_history(tmp_path)
    assert usage_error(runner, "downgrade", "--sql") == (
        "Error: Offline downgrade needs START:TARGET, such as 'heads:-1'."
    )
    assert fails(runner, "downgrade", "--sql", "d1") == (
        "Error: Offline downgrade needs the revision to start from, as"
        " START:TARGET (such as 'heads:-1'), since no database is read."
    )
    assert table_names(url) == []


@no_database
def test_upgrade_sql_two_heads(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """``upgrade --sql`` refuses a branch with two heads, as the online
    upgrade does, and prints no SQL.
    """
    write_history(tmp_path)
    write_revision(tmp_path / "migrations", "d3", "d1", "side")
    result = runner.invoke(args=["db", "upgrade", "--sql"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert lines(result.stderr) == [
        "Error: The revision history has 1 problem:",
        "  branch 'default' has 2 heads: d2, d3 (migrations/d2_create_tag.py,"
        " migrations/d3_create_side.py). Join them with 'flask db merge d2 d3'.",
        "Fix them, then run 'flask db verify' to check.",
    ]


#: ``upgrade --plan`` on a fresh database.
PLAN_FRESH = [
    "default: at <base>, 2 revisions to upgrade",
    "  d1  create post  migrations/d1_create_post.py",
    "  d2  create tag   migrations/d2_create_tag.py",
]


def test_upgrade_plan(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``upgrade --plan`` lists the revisions that would run from where the
    database is, and runs none of them.
    """
    write_history(tmp_path)
    result = invoke(runner, "upgrade", "--plan")
    assert lines(result.stdout) == PLAN_FRESH
    assert table_names(url) == []
    assert lines(invoke(runner, "upgrade", "--plan", "d1").stdout) == [
        "default: at <base>, 1 revision to upgrade",
        "  d1  create post  migrations/d1_create_post.py",
    ]
    invoke(runner, "upgrade", "d1")
    assert lines(invoke(runner, "upgrade", "--plan").stdout) == [
        "default: at d1, 1 revision to upgrade",
        "  d2  create tag  migrations/d2_create_tag.py",
    ]
    assert version_rows(url) == ["d1"]
    assert table_names(url) == ["alembic_version", "post"]
    invoke(runner, "upgrade")
    assert lines(invoke(runner, "upgrade", "--plan").stdout) == [
        "default: at d2, nothing to upgrade"
    ]
    assert version_rows(url) == ["d2"]


def test_downgrade_plan(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``downgrade --plan`` is one step by default, or down to TARGET, newest
    first, and runs nothing.
    """
    write_history(tmp_path)
    invoke(runner, "upgrade")
    assert lines(invoke(runner, "downgrade", "--plan").stdout) == [
        "default: at d2, 1 revision to downgrade",
        "  d2  create tag  migrations/d2_create_tag.py",
    ]
    assert lines(invoke(runner, "downgrade", "--plan", "base").stdout) == [
        "default: at d2, 2 revisions to downgrade",
        "  d2  create tag   migrations/d2_create_tag.py",
        "  d1  create post  migrations/d1_create_post.py",
    ]
    assert version_rows(url) == ["d2"]
    assert table_names(url) == ["alembic_version", "post", "tag"]
    invoke(runner, "downgrade", "base")
    assert lines(invoke(runner, "downgrade", "--plan", "base").stdout) == [
        "default: at <base>, nothing to downgrade"
    ]


def test_stamp_purge(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``stamp --purge REV`` replaces every version row, even one no file
    defines, with REV, and runs no revision.
    """
    write_history(tmp_path)
    invoke(runner, "upgrade")
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    invoke(runner, "stamp", "--purge", "d1")
    assert version_rows(url) == ["d1"]
    assert table_names(url) == ["alembic_version", "post", "tag"]


def test_stamp_unknown_row_message(
    runner: FlaskCliRunner, tmp_path: Path, url: str
) -> None:
    """Without ``--purge``, stamp refuses a version table holding a revision
    no file defines and changes nothing; the error says the database is at a
    revision no file defines and how to repair it, as ``verify`` does.
    """
    write_history(tmp_path)
    invoke(runner, "upgrade")
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    result = runner.invoke(args=["db", "stamp", "d1"])
    assert result.exit_code == 1
    shown = sa.make_url(url).render_as_string(hide_password=True)
    assert lines(result.stderr) == [
        "Error: The revision history has 1 problem:",
        f"  bind 'default' ({shown}) is at revision 'dead', which no file"
        " defines. Restore the file, or record the revision the database is"
        " really at with 'flask db stamp --purge REVISION --bind default'.",
        "Fix them, then run 'flask db verify' to check.",
    ]
    assert version_rows(url) == ["d2", "dead"]


@dataclasses.dataclass
class TwoBinds:
    """An app with per-bind histories: ``default`` on SQLite and ``auth`` on
    the test's backend.
    """

    app: Flask
    runner: FlaskCliRunner
    urls: dict[str, str]

    def rows(self) -> dict[str, list[str]]:
        """The version rows of each bind."""
        return {name: version_rows(url) for name, url in self.urls.items()}


@pytest.fixture
def two(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> TwoBinds:
    """The two binds, with their histories written."""
    write_history(tmp_path, ("default", "auth"))
    urls = {"default": make_url(on="sqlite"), "auth": make_url()}
    app, _ = make_app(
        urls,
        {name: sa.MetaData() for name in urls},
        config={"binds": {"auth": {}}},
    )
    return TwoBinds(app, app.test_cli_runner(), urls)


def run(two: TwoBinds, *args: str) -> Result:
    """Run a command that must succeed."""
    return invoke(two.runner, *args)


def test_sql_per_bind(two: TwoBinds) -> None:
    """With several databases, each one's SQL follows a ``-- Bind`` line, in
    the order they run; with one database there is no heading.
    """
    expected = sql(two.app, "upgrade")
    assert list(expected) == ["default", "auth"]
    assert expected["default"] == SQLITE_UPGRADE
    assert "CREATE TABLE account" in expected["auth"]
    assert "CREATE TABLE post" not in expected["auth"]
    assert run(two, "upgrade", "--sql").stdout == (
        f"-- Bind 'default'\n{expected['default']}-- Bind 'auth'\n{expected['auth']}"
    )
    assert run(two, "upgrade", "--sql", "--bind", "auth").stdout == expected["auth"]
    started = sql(two.app, "upgrade", "a1:a2")
    assert list(started) == ["auth"]
    assert run(two, "upgrade", "--sql", "a1:a2").stdout == started["auth"]
    assert two.rows() == {"default": [], "auth": []}
    assert table_names(two.urls["auth"]) == []


def test_sql_per_bind_start_other_bind(two: TwoBinds) -> None:
    """A START of a bind not asked for is one error line naming its bind."""
    assert fails(two.runner, "upgrade", "--sql", "a1:heads", "--bind", "default") == (
        "Error: The start revision 'a1' belongs to bind 'auth', which was not"
        " asked for. Add --bind auth, or start from a revision of the binds"
        " asked for."
    )


def test_sql_output_dir_per_bind(two: TwoBinds, tmp_path: Path) -> None:
    """``--output-dir`` writes one file per bind with the same SQL as the
    API, and lists them.
    """
    out = tmp_path / "out"
    result = run(two, "upgrade", "--sql", "--output-dir", str(out))
    assert lines(result.stdout) == [
        f"Wrote {out / 'default.sql'}",
        f"Wrote {out / 'auth.sql'}",
    ]
    assert sorted(os.listdir(out)) == ["auth.sql", "default.sql"]
    expected = sql(two.app, "upgrade")
    assert (out / "default.sql").read_text() == expected["default"]
    assert (out / "auth.sql").read_text() == expected["auth"]
    assert two.rows() == {"default": [], "auth": []}


def test_plan_per_bind(two: TwoBinds) -> None:
    """The plan has one block per bind, in the order they run, with a
    ``nothing to`` line for a bind that has nothing to run.
    """
    assert lines(run(two, "upgrade", "--plan").stdout) == [
        "default: at <base>, 2 revisions to upgrade",
        "  d1  create post  migrations/d1_create_post.py",
        "  d2  create tag   migrations/d2_create_tag.py",
        "auth: at <base>, 2 revisions to upgrade",
        "  a1  create account  migrations/auth/a1_create_account.py",
        "  a2  create login    migrations/auth/a2_create_login.py",
    ]
    run(two, "upgrade", "--bind", "default")
    run(two, "upgrade", "a1")
    assert lines(run(two, "upgrade", "--plan").stdout) == [
        "default: at d2, nothing to upgrade",
        "auth: at a1, 1 revision to upgrade",
        "  a2  create login  migrations/auth/a2_create_login.py",
    ]
    assert lines(run(two, "downgrade", "--plan", "--bind", "default").stdout) == [
        "default: at d2, 1 revision to downgrade",
        "  d2  create tag  migrations/d2_create_tag.py",
    ]
    assert lines(run(two, "downgrade", "--plan", "base").stdout) == [
        "auth: at a1, 1 revision to downgrade",
        "  a1  create account  migrations/auth/a1_create_account.py",
        "default: at d2, 2 revisions to downgrade",
        "  d2  create tag   migrations/d2_create_tag.py",
        "  d1  create post  migrations/d1_create_post.py",
    ]
    assert two.rows() == {"default": ["d2"], "auth": ["a1"]}
    run(two, "upgrade")
    assert lines(run(two, "upgrade", "--plan").stdout) == [
        "default: at d2, nothing to upgrade",
        "auth: at a2, nothing to upgrade",
    ]


def test_stamp_purge_per_bind(two: TwoBinds) -> None:
    """``stamp --purge REV --bind NAME`` repairs that bind's version table
    and leaves the others alone.
    """
    run(two, "upgrade")
    execute(two.urls["auth"], "INSERT INTO alembic_version VALUES ('dead')")
    execute(two.urls["default"], "INSERT INTO alembic_version VALUES ('gone')")
    run(two, "stamp", "--purge", "a1", "--bind", "auth")
    assert two.rows() == {"default": ["d2", "gone"], "auth": ["a1"]}
