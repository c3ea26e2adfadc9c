from __future__ import annotations

import collections.abc as cabc
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from .conftest import table_names
from .conftest import version_rows

EXAMPLE = Path(__file__).parent.parent / "examples" / "app.py"

#: The example's committed revisions: one per bind.
POSTS = "1795315825"
USERS = "1795315827"


@pytest.fixture
def urls(make_url: cabc.Callable[..., str]) -> dict[str, str]:
    """The example's two databases: ``default`` on the test's backend, and
    ``auth`` on SQLite, so each backend also runs next to another one.
    """
    return {"default": make_url(), "auth": make_url(on="sqlite")}


@pytest.fixture
def example(
    urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> cabc.Iterator[types.ModuleType]:
    """The example app, with its databases on the test's backends."""
    monkeypatch.setenv("DATABASE_URL", urls["default"])
    monkeypatch.setenv("AUTH_DATABASE_URL", urls["auth"])
    spec = importlib.util.spec_from_file_location("example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # SQLAlchemy resolves the models' annotations through sys.modules.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    yield module

    for engine in module.app.extensions["alembic"].engines.values():
        engine.dispose()


def test_example_migrations(example: types.ModuleType, urls: dict[str, str]) -> None:
    """The example app's committed migrations create each bind's tables in its
    own database, record each bind's revision in its own version table, and
    match the models.
    """
    runner = example.app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"Running upgrade  -> {POSTS}, create posts" in result.output
    assert f"Running upgrade  -> {USERS}, create users" in result.output
    assert result.output.index(POSTS) < result.output.index(USERS)
    assert version_rows(urls["default"]) == [POSTS]
    assert version_rows(urls["auth"]) == [USERS]
    assert table_names(urls["default"]) == ["alembic_version", "post"]
    assert table_names(urls["auth"]) == ["alembic_version", "user"]
    result = runner.invoke(args=["db", "check"])
    assert result.stdout == "No changes detected.\n"
    assert result.exit_code == 0
    result = runner.invoke(args=["db", "status"])
    assert result.stdout == (
        "branch   bind     path             head        current     pending\n"
        f"default  default  migrations       {POSTS}  {POSTS}  0\n"
        f"auth     auth     migrations/auth  {USERS}  {USERS}  0\n"
        "Up to date: 2 branches.\n"
    )


def test_example_one_bind(example: types.ModuleType, urls: dict[str, str]) -> None:
    """Upgrading and downgrading the auth bind leaves the blog database alone."""
    runner = example.app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "--bind", "auth"])
    assert result.exit_code == 0, result.output
    assert version_rows(urls["auth"]) == [USERS]
    assert table_names(urls["default"]) == []
    result = runner.invoke(args=["db", "downgrade", "--bind", "auth"])
    assert result.exit_code == 0, result.output
    assert version_rows(urls["auth"]) == []
    assert table_names(urls["auth"]) == ["alembic_version"]
