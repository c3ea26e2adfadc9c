"""``flask db branches --declared``, the registry checks of ``init_app``, and
``revision --branch`` before any branch is declared.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from flask_alembic import ConfigError

from ..conftest import AppFactory
from .conftest import fix_rev_ids
from .conftest import invoke
from .conftest import lines
from .conftest import no_database
from .conftest import Reopen

pytestmark = no_database

#: The issue's branches: ``users``, and ``billing`` depending on it.
BRANCHES: dict[str, t.Any] = {
    "users": {"path": "users/migrations", "description": "Accounts and logins"},
    "billing": {
        "path": "billing/migrations",
        "depends_on": ["users"],
        "description": "Invoices",
    },
}


@pytest.fixture
def declared(
    make_app: AppFactory,
    metadata: sa.MetaData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[FlaskCliRunner, tuple[str, ...]]:
    """A runner for an app declaring :data:`BRANCHES`, on an in-memory
    database, whose new revisions get fixed ids.
    """
    app, alembic = make_app(
        {"default": "sqlite://"}, metadata, config={"branches": BRANCHES}
    )
    return app.test_cli_runner(), fix_rev_ids(alembic, monkeypatch)


def files(root: Path) -> list[str]:
    """Every file and directory under ``root``, relative, without caches."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if "__pycache__" not in p.parts
    )


def test_declared_table(declared: tuple[FlaskCliRunner, tuple[str, ...]]) -> None:
    """``--declared`` lists default, then the declared branches in order."""
    runner, _ = declared
    assert invoke(runner, "branches", "--declared").stdout == (
        "branch   bind     path                depends on  description\n"
        "default  default  migrations          -           -\n"
        "users    default  users/migrations    -           Accounts and logins\n"
        "billing  default  billing/migrations  users       Invoices\n"
    )


def test_declared_without_branches(runner: FlaskCliRunner) -> None:
    """With nothing declared, ``--declared`` lists the default branch."""
    assert invoke(runner, "branches", "--declared").stdout == (
        "branch   bind     path        depends on  description\n"
        "default  default  migrations  -           -\n"
    )


def test_declared_absolute_path(
    make_app: AppFactory, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """A path outside the root is allowed when absolute, and shown in full."""
    outside = tmp_path / "elsewhere"
    app, _ = make_app(
        {"default": "sqlite://"},
        metadata,
        config={"branches": {"plugin": {"path": str(outside)}}},
        root_path=tmp_path / "project",
    )
    assert lines(invoke(app.test_cli_runner(), "branches", "--declared").stdout) == [
        f"branch   bind     path{' ' * (len(str(outside)) - 4)}  depends on"
        "  description",
        f"default  default  migrations{' ' * (len(str(outside)) - 10)}  -           -",
        f"plugin   default  {outside}  -           -",
    ]


def test_branches_without_flag(
    declared: tuple[FlaskCliRunner, tuple[str, ...]],
) -> None:
    """Without ``--declared``, ``branches`` still lists branch points, so
    declared branches alone print nothing.
    """
    runner, ids = declared
    invoke(runner, "revision", "create users", "--empty", "--branch", "users")
    invoke(runner, "revision", "create invoices", "--empty", "--branch", "billing")
    assert invoke(runner, "branches").stdout == ""
    invoke(runner, "revision", "two", "--empty", "--branch", "users")
    invoke(
        runner, "revision", "side", "--empty", "-p", ids[0], "--splice", "-b", "users"
    )
    out = invoke(runner, "branches").stdout.splitlines()
    assert out[0] == f"<base> -> {ids[0]} (users) (branchpoint), create users"
    assert sorted(out[1:]) == [
        f"    -> {ids[0]} -> {ids[2]} (users) (head), two",
        f"    -> {ids[0]} -> {ids[3]} (users) (head), side",
    ]


def test_bad_registry(
    make_app: AppFactory, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """``init_app`` reports every registry problem at once, before writing."""
    root = tmp_path / "project"
    root.mkdir()
    config = {
        "branches": {
            "a/b": {"path": "ab"},
            "billing": {"path": "billing", "depends_on": ["nosuch"]},
            "x": {"path": "x", "depends_on": ["y"]},
            "y": {"path": "y", "depends_on": ["x"]},
            "out": {"path": "../outside"},
        }
    }

    with pytest.raises(ConfigError) as info:
        make_app({"default": "sqlite://"}, metadata, config=config, root_path=root)

    assert info.value.problems == [
        (
            "ALEMBIC.branches.a/b",
            "'a/b' is not a valid branch name; use letters, digits, '_' and '-',"
            " starting with a letter or '_' (no '/', '@' or '.')",
        ),
        (
            "ALEMBIC.branches.out.path",
            "'../outside' is outside the application root; use a path inside"
            " it, or an absolute path",
        ),
        (
            "ALEMBIC.branches.billing.depends_on",
            "unknown branch 'nosuch' (known: default, billing, x, y, out)",
        ),
        (
            "ALEMBIC.branches.x.depends_on",
            "branches depend on each other in a cycle (x -> y -> x); remove one"
            " of the dependencies",
        ),
    ]
    assert str(info.value).splitlines()[0] == (
        "The Alembic configuration has 4 problems:"
    )
    assert files(tmp_path) == ["project"]


@pytest.mark.parametrize(
    ("branches", "problem"),
    [
        ({"head": {}}, "'head' means something else to Alembic; rename it"),
        ({"default": {}}, "'default' is already a branch; pick another name"),
        (
            {"users": {"path": "migrations"}},
            "shares its path with branch 'default'; give each branch its own directory",
        ),
    ],
    ids=["reserved", "default", "shared-path"],
)
def test_bad_registry_one_problem(
    make_app: AppFactory,
    metadata: sa.MetaData,
    tmp_path: Path,
    branches: dict[str, t.Any],
    problem: str,
) -> None:
    """Each other kind of registry problem is reported, and nothing written."""
    root = tmp_path / "project"
    root.mkdir()

    with pytest.raises(ConfigError) as info:
        make_app(
            {"default": "sqlite://"},
            metadata,
            config={"branches": branches},
            root_path=root,
        )

    assert [p for _, p in info.value.problems] == [problem]
    assert files(tmp_path) == ["project"]


def test_new_branch_without_declarations(
    runner: FlaskCliRunner,
    reopen: Reopen,
    tmp_path: Path,
    rev_ids: tuple[str, ...],
) -> None:
    """With nothing declared, ``revision --branch NEW`` starts a new branch
    in the script location, as in Flask-Alembic 3.
    """
    invoke(runner, "revision", "init", "--empty")
    result = invoke(runner, "revision", "first", "--empty", "--branch", "newname")
    path = tmp_path / "migrations" / f"{rev_ids[1]}_first.py"
    assert lines(result.stdout) == [f"Generating {path} ...  done"]
    source = path.read_text()
    assert "down_revision: Union[str, Sequence[str], None] = None" in source
    assert "branch_labels: Union[str, Sequence[str], None] = ('newname',)" in source
    invoke(runner, "revision", "second", "--empty", "--branch", "newname")
    runner = reopen()
    assert lines(invoke(runner, "heads", "--branch", "newname").stdout) == [
        f"{rev_ids[1]} -> {rev_ids[2]} (newname) (head), second"
    ]
    assert sorted(lines(invoke(runner, "heads").stdout)) == sorted(
        [
            f"<base> -> {rev_ids[0]} (default) (head), init",
            f"{rev_ids[1]} -> {rev_ids[2]} (newname) (head), second",
        ]
    )
