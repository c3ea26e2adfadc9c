"""``flask db graph [--format ascii|mermaid|dot] [--bind NAME] [--branch NAME]
[--collapse N]``.
"""

from __future__ import annotations

import collections.abc as cabc
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from flask_alembic import Alembic

from ..conftest import AppFactory
from .conftest import execute
from .conftest import fails
from .conftest import fix_rev_ids
from .conftest import invoke
from .conftest import no_database
from .conftest import Reopen
from .conftest import REV_IDS
from .conftest import TwoDatabases


def expect(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def picture(runner: FlaskCliRunner, *args: str) -> str:
    """What ``flask db graph ARGS`` prints on standard output."""
    return invoke(runner, "graph", *args).stdout


@pytest.fixture
def merged(runner: FlaskCliRunner, rev_ids: tuple[str, ...]) -> tuple[str, ...]:
    """A history that forks after its first revision and is merged."""
    invoke(runner, "revision", "create tables", "--empty")
    invoke(runner, "revision", "add posts", "--empty")
    invoke(runner, "revision", "add email", "--empty", "-p", rev_ids[0], "--splice")
    invoke(runner, "merge", "-m", "join")
    return rev_ids


def test_marks_where_database_is(
    merged: tuple[str, ...], reopen: Reopen, backend: str
) -> None:
    """The picture shows the merge, and marks the revisions the database is
    at, once it has any.
    """
    a, b, c, m = merged[:4]
    runner = reopen()
    before = expect(
        rf"""
        * {m} join
        |\
        | * {c} add email
        * | {b} add posts
        |/
        * {a} (default) create tables
        """
    )
    assert picture(runner) == before
    invoke(runner, "upgrade", b)
    assert picture(reopen()) == before.replace(
        "add posts", "add posts [current: default]"
    )
    invoke(runner, "upgrade")
    assert picture(reopen()).splitlines()[0] == f"* {m} join [current: default]"


@no_database
def test_mermaid(merged: tuple[str, ...], reopen: Reopen) -> None:
    """``--format mermaid`` prints a flowchart for a Markdown block."""
    a, b, c, m = merged[:4]
    assert picture(reopen(), "--format", "mermaid") == expect(
        f"""
        flowchart BT
            r_{a}["{a} create tables<br>(default)"]
            r_{b}["{b} add posts"]
            r_{c}["{c} add email"]
            r_{m}["{m} join"]
            r_{a} --> r_{b}
            r_{a} --> r_{c}
            r_{b} --> r_{m}
            r_{c} --> r_{m}
        """
    )


@no_database
def test_dot(merged: tuple[str, ...], reopen: Reopen) -> None:
    """``-f dot`` prints a Graphviz digraph."""
    a, b, c, m = merged[:4]
    assert picture(reopen(), "-f", "dot") == expect(
        rf"""
        digraph revisions {{
            rankdir=BT;
            node [shape=box];
            "{a}" [label="{a} create tables\n(default)"];
            "{b}" [label="{b} add posts"];
            "{c}" [label="{c} add email"];
            "{m}" [label="{m} join"];
            "{a}" -> "{b}";
            "{a}" -> "{c}";
            "{b}" -> "{m}";
            "{c}" -> "{m}";
        }}
        """
    )


@no_database
def test_no_revisions(runner: FlaskCliRunner) -> None:
    """An empty history says so."""
    assert picture(runner) == "No revisions.\n"
    assert picture(runner, "-f", "mermaid") == "flowchart BT\n"


@no_database
def test_collapse(
    runner: FlaskCliRunner, ext: Alembic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long line is shortened by default, by ``--collapse N``, and shown in
    full with ``--collapse 0``.
    """
    ids = fix_rev_ids(ext, monkeypatch, [f"10{n:02}" for n in range(8)])

    for n in range(8):
        invoke(runner, "revision", f"step {n}", "--empty")

    assert picture(runner) == expect(
        f"""
        * {ids[7]} step 7
        : ... 6 revisions ...
        * {ids[0]} (default) step 0
        """
    )
    assert picture(runner, "--collapse", "7") == picture(runner)
    assert len(picture(runner, "--collapse", "8").splitlines()) == 8
    assert len(picture(runner, "--collapse", "0").splitlines()) == 8
    assert picture(runner, "--collapse", "3").splitlines()[1] == (
        ": ... 6 revisions ..."
    )


#: Two declared branches; billing depends on users.
BRANCHES = {
    "branches": {
        "users": {"path": "users/migrations"},
        "billing": {"path": "billing/migrations", "depends_on": ["users"]},
    }
}


@pytest.fixture
def branched(
    make_app: AppFactory,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[cabc.Callable[[], FlaskCliRunner], tuple[str, ...]]:
    """An app declaring :data:`BRANCHES`, with a revision on each branch and
    a second one on users; and a way to open it again.
    """

    def reopen() -> FlaskCliRunner:
        return make_app({"default": url}, sa.MetaData(), config=BRANCHES)[
            0
        ].test_cli_runner()

    app, alembic = make_app({"default": url}, sa.MetaData(), config=BRANCHES)
    ids = fix_rev_ids(alembic, monkeypatch)
    runner = app.test_cli_runner()
    invoke(runner, "revision", "create tables", "--empty")
    invoke(runner, "revision", "create users", "--empty", "-b", "users")
    invoke(runner, "revision", "create invoices", "--empty", "-b", "billing")
    invoke(runner, "revision", "add email", "--empty", "-b", "users")
    return reopen, ids


@no_database
def test_branches(
    branched: tuple[cabc.Callable[[], FlaskCliRunner], tuple[str, ...]],
) -> None:
    """Branches are drawn apart, depends_on is listed, and ``--branch``
    narrows the picture to one branch.
    """
    reopen, (d, u1, b, u2) = branched[0], branched[1][:4]
    runner = reopen()
    invoke(runner, "upgrade", b)
    runner = reopen()
    assert picture(runner) == expect(
        f"""
        * {d} (default) create tables

        * {u2} add email
        * {u1} (users) create users [current: default]

        * {b} (billing) create invoices [current: default] (depends on {u1})
        """
    )
    assert picture(runner, "--branch", "users") == expect(
        f"""
        * {u2} add email
        * {u1} (users) create users [current: default]
        """
    )
    assert picture(runner, "-b", "billing", "-f", "mermaid").splitlines() == [
        "flowchart BT",
        f'    r_{b}["{b} create invoices<br>(billing)<br>current: default<br>'
        f'depends on {u1}"]',
        "    classDef current stroke-width:3px",
        f"    class r_{b} current",
    ]
    assert picture(runner, "-f", "dot").splitlines()[-2] == (
        f'    "{u1}" -> "{b}" [style=dashed];'
    )


@no_database
def test_errors(
    branched: tuple[cabc.Callable[[], FlaskCliRunner], tuple[str, ...]],
) -> None:
    """Unknown names and values are one error line each."""
    runner = branched[0]()
    assert fails(runner, "graph", "--branch", "user") == (
        "Error: Unknown branch 'user'. Did you mean 'users'? The branches are:"
        " default, users, billing. Declare new branches in ALEMBIC['branches']."
    )
    assert fails(runner, "graph", "--bind", "defualt") == (
        "Error: Unknown bind 'defualt'. Did you mean 'default'? The binds are: default."
    )
    assert fails(runner, "graph", "--format", "svg") == (
        "Error: Invalid value for '-f' / '--format': 'svg' is not one of"
        " 'ascii', 'mermaid', 'dot'."
    )
    assert fails(runner, "graph", "--collapse", "2") == (
        "Error: Invalid value for '--collapse': 2 would not make a line shorter."
        " Use 0 to show every revision, or 3 or more."
    )
    assert fails(runner, "graph", "--collapse", "-1").startswith(
        "Error: Invalid value for '--collapse': -1 is not in the range x>=0."
    )


@pytest.fixture
def binds(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> cabc.Callable[..., FlaskCliRunner]:
    """Open an app with per-bind histories, ``default`` and ``auth``, whose
    new revisions get ids 1000, 1001, ...; ``auth_url`` replaces auth's
    database.
    """
    urls = {"default": make_url(), "auth": make_url()}

    def open_app(auth_url: str | None = None) -> FlaskCliRunner:
        app, alembic = make_app(
            {**urls, "auth": auth_url or urls["auth"]},
            {"default": sa.MetaData(), "auth": sa.MetaData()},
            config={"binds": {"auth": {}}},
        )
        fix_rev_ids(alembic, monkeypatch, ["1000", "1001", "1002"])
        return app.test_cli_runner()

    return open_app


@no_database
def test_binds(binds: cabc.Callable[..., FlaskCliRunner]) -> None:
    """Each bind's revisions are under its name; ``--bind`` keeps one bind,
    and a branch of a bind left out is an error.
    """
    runner = binds()
    invoke(runner, "revision", "create posts", "--empty")
    invoke(runner, "revision", "create users", "--empty", "--bind", "auth")
    invoke(runner, "revision", "add email", "--empty", "--bind", "auth")
    invoke(runner, "upgrade", "--bind", "auth")
    runner = binds()
    assert picture(runner) == expect(
        """
        Bind 'default':
        * 1000 (default) create posts

        Bind 'auth':
        * 1002 add email [current: auth]
        * 1001 (auth) create users
        """
    )
    assert picture(runner, "--bind", "default") == expect(
        """
        Bind 'default':
        * 1000 (default) create posts
        """
    )
    assert picture(runner, "--bind", "auth", "-f", "mermaid") == expect(
        """
        flowchart BT
            subgraph bind_auth["bind auth"]
                r_1001["1001 create users<br>(auth)"]
                r_1002["1002 add email<br>current: auth"]
            end
            r_1001 --> r_1002
            classDef current stroke-width:3px
            class r_1002 current
        """
    )
    assert fails(runner, "graph", "--bind", "default", "--branch", "auth") == (
        "Error: Branch 'auth' runs on bind 'auth', which --bind leaves out. Add"
        " --bind auth, or leave out --branch."
    )


@no_database
def test_unreachable(binds: cabc.Callable[..., FlaskCliRunner], tmp_path: Path) -> None:
    """A database that cannot be connected to is not marked, and neither
    its URL nor its password is shown.
    """
    runner = binds()
    invoke(runner, "revision", "create posts", "--empty")
    invoke(runner, "revision", "create users", "--empty", "--bind", "auth")
    invoke(runner, "upgrade")
    secret = "postgresql+psycopg2://postgres:s3cr3t@127.0.0.1:1/fa_nowhere"
    result = invoke(binds(auth_url=secret), "graph")
    assert result.stdout == expect(
        """
        Bind 'default':
        * 1000 (default) create posts [current: default]

        Bind 'auth':
        * 1001 (auth) create users
        """
    )
    assert "s3cr3t" not in result.output
    assert "127.0.0.1" not in result.output


@no_database
def test_shared_history(two_databases: TwoDatabases) -> None:
    """In a shared history each database is marked where it is, and
    ``--bind`` keeps every revision, which runs on every database, and only
    that database's mark.
    """
    runner = two_databases.runner
    a, b = REV_IDS[:2]
    invoke(runner, "revision", "create tables", "--empty")
    invoke(runner, "revision", "add posts", "--empty")
    invoke(runner, "upgrade")
    execute(
        two_databases.urls["other"], f"UPDATE alembic_version SET version_num = '{a}'"
    )
    assert picture(runner) == expect(
        f"""
        * {b} add posts [current: default]
        * {a} (default) create tables [current: other]
        """
    )
    assert picture(runner, "--bind", "other") == expect(
        f"""
        * {b} add posts
        * {a} (default) create tables [current: other]
        """
    )
