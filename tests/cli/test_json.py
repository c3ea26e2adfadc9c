"""``--json`` on ``status``, ``current``, ``heads``, ``log``, ``check``,
``verify``, and ``upgrade``/``downgrade --plan``.

The history is the hand-written one of ``tests/test_offline.py``: ``d1``
(creates ``post``) then ``d2`` (creates ``tag``) in ``migrations/``, and with
per-bind histories ``a1`` then ``a2`` in ``migrations/auth/``. Every document
is parsed with :func:`json.loads`, which accepts exactly one document, and
compared whole.
"""

from __future__ import annotations

import collections.abc as cabc
import json
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import version_rows
from ..test_offline import write_history
from ..test_offline import write_revision
from .conftest import execute
from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen


def document(runner: FlaskCliRunner, *args: str, code: int = 0) -> t.Any:
    """Run ``flask db <args>``, check its exit code, and parse what it
    printed on stdout, which must be one JSON document and nothing else.
    """
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def refused(runner: FlaskCliRunner, *args: str, code: int = 1) -> str:
    """Run a command that must fail with nothing on stdout and one
    ``Error:`` line on stderr; return that line.
    """
    result = runner.invoke(args=["db", *args])
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("Error: "), result.stderr
    return errors[0]


def rev(
    ident: str,
    table: str,
    parents: list[str],
    *,
    head: bool = False,
    labels: list[str] | None = None,
    directory: str = "migrations",
) -> dict[str, t.Any]:
    """The document of a revision :func:`write_revision` wrote."""
    return {
        "id": ident,
        "message": f"create {table}",
        "parents": parents,
        "depends_on": [],
        "branch_labels": labels or [],
        "path": f"{directory}/{ident}_create_{table}.py",
        "is_head": head,
    }


D1 = rev("d1", "post", [])
D2 = rev("d2", "tag", ["d1"], head=True)


def status_row(current: list[str], pending: list[str]) -> dict[str, t.Any]:
    """The ``status`` entry of the ``default`` branch."""
    return {
        "branch": "default",
        "bind": "default",
        "path": "migrations",
        "heads": ["d2"],
        "current": current,
        "pending": pending,
        "up_to_date": not pending,
    }


def test_status(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``status --json`` lists each branch with its heads, current and
    pending ids, and exits 0 whether or not revisions are pending.
    """
    write_history(tmp_path)
    assert document(runner, "status", "--json") == {
        "version": 1,
        "command": "status",
        "up_to_date": False,
        "branches": [status_row([], ["d1", "d2"])],
    }
    invoke(runner, "upgrade", "d1")
    assert document(runner, "status", "--json") == {
        "version": 1,
        "command": "status",
        "up_to_date": False,
        "branches": [status_row(["d1"], ["d2"])],
    }
    invoke(runner, "upgrade")
    assert document(runner, "status", "--json", "--branch", "default") == {
        "version": 1,
        "command": "status",
        "up_to_date": True,
        "branches": [status_row(["d2"], [])],
    }
    assert version_rows(url) == ["d2"]


def test_current(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """``current --json`` gives each database's revisions and pending ids;
    with ``--check-heads`` it exits 1 while any are pending, and prints the
    same document.
    """
    write_history(tmp_path)
    behind = {
        "version": 1,
        "command": "current",
        "up_to_date": False,
        "binds": [{"bind": "default", "revisions": [], "pending": ["d1", "d2"]}],
    }
    assert document(runner, "current", "--json") == behind
    assert document(runner, "current", "--json", "--check-heads", code=1) == behind
    invoke(runner, "upgrade", "d1")
    assert document(runner, "current", "--json", "--check-heads", code=1) == {
        "version": 1,
        "command": "current",
        "up_to_date": False,
        "binds": [{"bind": "default", "revisions": [D1], "pending": ["d2"]}],
    }
    invoke(runner, "upgrade")
    assert document(runner, "current", "--json", "--check-heads", "-v") == {
        "version": 1,
        "command": "current",
        "up_to_date": True,
        "binds": [{"bind": "default", "revisions": [D2], "pending": []}],
    }


def test_logging_stays_on_stderr(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Alembic's progress lines go to stderr while the document alone is on
    stdout.
    """
    write_history(tmp_path)
    result = invoke(runner, "current", "--json")
    assert "INFO  [alembic.runtime.migration] Context impl" in result.stderr
    assert result.stdout.startswith('{\n  "version": 1,\n  "command": "current",')
    assert json.loads(result.stdout)["binds"][0]["pending"] == ["d1", "d2"]


@no_database
def test_heads_and_log(
    runner: FlaskCliRunner, tmp_path: Path, rev_ids: tuple[str, ...]
) -> None:
    """``heads --json`` and ``log --json`` list revisions in the commands'
    order, with parents, dependencies and labels as lists of ids.
    """
    side, join, needs = rev_ids[:3]
    write_history(tmp_path)
    assert document(runner, "heads", "--json") == {
        "version": 1,
        "command": "heads",
        "revisions": [D2],
    }
    assert document(runner, "log", "--json") == {
        "version": 1,
        "command": "log",
        "revisions": [D2, D1],
    }
    invoke(runner, "revision", "side", "--empty", "-p", "d1", "--splice")
    invoke(runner, "merge", "d2", side, "-m", "join")
    invoke(runner, "revision", "needs side", "--empty", "-d", side, "-l", "extra")

    def made(ident: str, message: str, parents: list[str], **values: t.Any) -> t.Any:
        slug = message.replace(" ", "_")
        return {
            "id": ident,
            "message": message,
            "parents": parents,
            "depends_on": [],
            "branch_labels": [],
            "path": f"migrations/{ident}_{slug}.py",
            "is_head": False,
            **values,
        }

    newest = made(
        needs,
        "needs side",
        [join],
        depends_on=[side],
        branch_labels=["extra"],
        is_head=True,
    )
    assert document(runner, "heads", "--json") == {
        "version": 1,
        "command": "heads",
        "revisions": [newest],
    }
    assert document(runner, "log", "--json") == {
        "version": 1,
        "command": "log",
        "revisions": [
            newest,
            made(join, "join", ["d2", side]),
            {**D2, "is_head": False},
            made(side, "side", ["d1"]),
            D1,
        ],
    }
    assert document(runner, "log", "--json", "--start", "d2", "--end", join) == {
        "version": 1,
        "command": "log",
        "revisions": [made(join, "join", ["d2", side]), {**D2, "is_head": False}],
    }


@no_database
def test_ascii(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> None:
    """Characters outside ASCII are escaped, whatever the terminal's
    encoding, and read back as they were written.
    """
    invoke(runner, "revision", "ajouter café", "--empty")
    result = invoke(runner, "heads", "--json")
    assert '"message": "ajouter caf\\u00e9",' in result.stdout
    assert result.stdout.isascii()
    assert json.loads(result.stdout)["revisions"][0]["message"] == "ajouter café"


@no_database
def test_empty_history(runner: FlaskCliRunner) -> None:
    """Without revisions the lists are empty, not missing."""
    assert document(runner, "heads", "--json") == {
        "version": 1,
        "command": "heads",
        "revisions": [],
    }
    assert document(runner, "log", "--json") == {
        "version": 1,
        "command": "log",
        "revisions": [],
    }
    assert document(runner, "status", "--json") == {
        "version": 1,
        "command": "status",
        "up_to_date": True,
        "branches": [
            {
                "branch": "default",
                "bind": "default",
                "path": "migrations",
                "heads": [],
                "current": [],
                "pending": [],
                "up_to_date": True,
            }
        ],
    }


def test_check(
    runner: FlaskCliRunner, tmp_path: Path, metadata: sa.MetaData, url: str
) -> None:
    """``check --json`` exits 0 with no changes, and 1 with each difference's
    kind, schema, table, column or name, and description.
    """
    write_history(tmp_path)
    post = sa.Table("post", metadata, sa.Column("id", sa.Integer, primary_key=True))
    tag = sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "upgrade")
    assert document(runner, "check", "--json") == {
        "version": 1,
        "command": "check",
        "changes_detected": False,
        "binds": [{"bind": "default", "changes": []}],
    }
    execute(url, "ALTER TABLE post ADD COLUMN title VARCHAR(20)")
    post.append_column(sa.Column("title", sa.String(20), nullable=False))
    post.append_column(sa.Column("body", sa.String(20), index=True))
    metadata.remove(tag)
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    expected = {
        "version": 1,
        "command": "check",
        "changes_detected": True,
        "binds": [
            {
                "bind": "default",
                "changes": [
                    {
                        "kind": "add_table",
                        "schema": None,
                        "table": "user",
                        "column": None,
                        "name": None,
                        "description": "added table 'user'",
                    },
                    {
                        "kind": "remove_table",
                        "schema": None,
                        "table": "tag",
                        "column": None,
                        "name": None,
                        "description": "removed table 'tag'",
                    },
                    {
                        "kind": "add_column",
                        "schema": None,
                        "table": "post",
                        "column": "body",
                        "name": None,
                        "description": "added column 'post.body'",
                    },
                    {
                        "kind": "modify_nullable",
                        "schema": None,
                        "table": "post",
                        "column": "title",
                        "name": None,
                        "description": (
                            "changed nullable of 'post.title' from True to False"
                        ),
                    },
                    {
                        "kind": "add_index",
                        "schema": None,
                        "table": "post",
                        "column": None,
                        "name": "ix_post_body",
                        "description": "added index 'ix_post_body' on 'post'",
                    },
                ],
            }
        ],
    }
    assert document(runner, "check", "--json", code=1) == expected
    assert document(runner, "check", "--json", "--bind", "default", code=1) == (
        expected
    )


def test_check_behind(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A database that is behind is the same one error line as without
    ``--json``, and nothing is printed on stdout.
    """
    write_history(tmp_path)
    assert refused(runner, "check", "--json") == (
        "Error: Database 'default' is not up to date: 2 pending revisions"
        " (d1, d2). Run 'flask db upgrade' first."
    )


@no_database
def test_verify_history(runner: FlaskCliRunner, reopen: Reopen, tmp_path: Path) -> None:
    """``verify --json`` exits 0 with no problems, and 1 with each problem's
    kind, message, paths, revisions and bind.
    """
    write_history(tmp_path)
    ok = {"version": 1, "command": "verify", "ok": True, "problems": []}
    assert document(runner, "verify", "--json", "--no-database") == ok
    write_revision(tmp_path / "migrations", "s1", "d1", "side")
    assert document(reopen(), "verify", "--json", "--no-database", code=1) == {
        "version": 1,
        "command": "verify",
        "ok": False,
        "problems": [
            {
                "kind": "multiple-heads",
                "message": (
                    "branch 'default' has 2 heads: d2, s1"
                    " (migrations/d2_create_tag.py, migrations/s1_create_side.py)."
                    " Join them with 'flask db merge d2 s1'."
                ),
                "paths": [
                    "migrations/d2_create_tag.py",
                    "migrations/s1_create_side.py",
                ],
                "revisions": ["d2", "s1"],
                "bind": None,
            }
        ],
    }


def test_verify_database(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """A problem found in a database names its bind."""
    write_history(tmp_path)
    invoke(runner, "upgrade")
    assert document(runner, "verify", "--json") == {
        "version": 1,
        "command": "verify",
        "ok": True,
        "problems": [],
    }
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('dead')")
    shown = sa.make_url(url).render_as_string(hide_password=True)
    assert document(runner, "verify", "--json", code=1) == {
        "version": 1,
        "command": "verify",
        "ok": False,
        "problems": [
            {
                "kind": "unknown-revision-in-database",
                "message": (
                    f"bind 'default' ({shown}) is at revision 'dead', which no"
                    " file defines. Restore the file, or record the revision the"
                    " database is really at with 'flask db stamp --purge"
                    " REVISION --bind default'."
                ),
                "paths": [],
                "revisions": ["dead"],
                "bind": "default",
            }
        ],
    }


def plan(operation: str, current: list[str], revisions: list[t.Any]) -> t.Any:
    """The plan document of the ``default`` database."""
    return {
        "version": 1,
        "command": "plan",
        "operation": operation,
        "binds": [{"bind": "default", "current": current, "revisions": revisions}],
    }


def test_plan(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``upgrade --plan --json`` and ``downgrade --plan --json`` give each
    database's revisions and the revisions that would run, and run nothing.
    """
    write_history(tmp_path)
    assert document(runner, "upgrade", "--plan", "--json") == (
        plan("upgrade", [], [D1, D2])
    )
    assert document(runner, "upgrade", "d1", "--plan", "--json") == (
        plan("upgrade", [], [D1])
    )
    assert version_rows(url) == []
    invoke(runner, "upgrade")
    assert document(runner, "upgrade", "--plan", "--json") == (
        plan("upgrade", ["d2"], [])
    )
    assert document(runner, "downgrade", "--plan", "--json") == (
        plan("downgrade", ["d2"], [D2])
    )
    assert document(runner, "downgrade", "base", "--plan", "--json") == (
        plan("downgrade", ["d2"], [D2, D1])
    )
    assert version_rows(url) == ["d2"]


@no_database
def test_errors(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """With ``--json``, a mistake is the same one ``Error:`` line on stderr
    and exit status as without it, and stdout stays empty.
    """
    write_history(tmp_path)
    assert refused(runner, "status", "--json", "--branch", "nosuch") == (
        "Error: Unknown branch 'nosuch'. The branches are: default. Declare new"
        " branches in ALEMBIC['branches']."
    )
    assert refused(runner, "current", "--json", "--bind", "nosuch") == (
        "Error: Unknown bind 'nosuch'. The binds are: default."
    )
    assert refused(runner, "log", "--json", "--start", "d9") == (
        "Error: Can't locate revision identified by 'd9'. Run 'flask db log' to"
        " list the revisions."
    )
    assert refused(runner, "upgrade", "nosuch", "--plan", "--json") == (
        "Error: Can't locate revision identified by 'nosuch'. Run 'flask db log'"
        " to list the revisions."
    )


@no_database
def test_json_needs_plan(runner: FlaskCliRunner, tmp_path: Path, url: str) -> None:
    """``upgrade --json`` and ``downgrade --json`` without ``--plan`` are
    usage errors (exit 2) and run nothing.
    """
    write_history(tmp_path)

    for args in (["upgrade"], ["downgrade", "base"], ["upgrade", "--sql"]):
        assert refused(runner, *args, "--json", code=2) == (
            "Error: --json needs --plan."
        )

    assert version_rows(url) == []


@pytest.fixture
def two_binds(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> FlaskCliRunner:
    """An app with per-bind histories: ``default`` on SQLite and ``auth`` on
    the test's backend, with their histories written. The models have every
    table of the history but ``login``.
    """
    write_history(tmp_path, ("default", "auth"))
    urls = {"default": make_url(on="sqlite"), "auth": make_url()}
    metadatas = {name: sa.MetaData() for name in urls}

    for bind, table in (("default", "post"), ("default", "tag"), ("auth", "account")):
        sa.Table(table, metadatas[bind], sa.Column("id", sa.Integer, primary_key=True))

    app, _ = make_app(urls, metadatas, config={"binds": {"auth": {}}})
    return app.test_cli_runner()


A1 = rev("a1", "account", [], labels=["auth"], directory="migrations/auth")
A2 = rev("a2", "login", ["a1"], head=True, labels=["auth"], directory="migrations/auth")


def test_per_bind(two_binds: FlaskCliRunner) -> None:
    """With per-bind histories the lists have one entry per bind, in the
    order the binds run, and ``--bind`` keeps one.
    """
    runner = two_binds
    invoke(runner, "upgrade", "a1")
    assert document(runner, "status", "--json") == {
        "version": 1,
        "command": "status",
        "up_to_date": False,
        "branches": [
            status_row([], ["d1", "d2"]),
            {
                "branch": "auth",
                "bind": "auth",
                "path": "migrations/auth",
                "heads": ["a2"],
                "current": ["a1"],
                "pending": ["a2"],
                "up_to_date": False,
            },
        ],
    }
    assert document(runner, "current", "--json") == {
        "version": 1,
        "command": "current",
        "up_to_date": False,
        "binds": [
            {"bind": "default", "revisions": [], "pending": ["d1", "d2"]},
            {"bind": "auth", "revisions": [A1], "pending": ["a2"]},
        ],
    }
    assert document(runner, "heads", "--json", "--bind", "auth") == {
        "version": 1,
        "command": "heads",
        "revisions": [A2],
    }
    assert document(runner, "upgrade", "--plan", "--json") == {
        "version": 1,
        "command": "plan",
        "operation": "upgrade",
        "binds": [
            {"bind": "default", "current": [], "revisions": [D1, D2]},
            {"bind": "auth", "current": ["a1"], "revisions": [A2]},
        ],
    }
    invoke(runner, "upgrade")
    assert document(runner, "current", "--json", "--bind", "auth") == {
        "version": 1,
        "command": "current",
        "up_to_date": True,
        "binds": [{"bind": "auth", "revisions": [A2], "pending": []}],
    }
    login = {
        "kind": "remove_table",
        "schema": None,
        "table": "login",
        "column": None,
        "name": None,
        "description": "removed table 'login'",
    }
    assert document(runner, "check", "--json", code=1) == {
        "version": 1,
        "command": "check",
        "changes_detected": True,
        "binds": [
            {"bind": "default", "changes": []},
            {"bind": "auth", "changes": [login]},
        ],
    }
    assert document(runner, "check", "--json", "--bind", "default") == {
        "version": 1,
        "command": "check",
        "changes_detected": False,
        "binds": [{"bind": "default", "changes": []}],
    }
