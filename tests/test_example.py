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


@pytest.fixture
def example(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> cabc.Iterator[types.ModuleType]:
    """The example app, with its database on the test's backend."""
    monkeypatch.setenv("DATABASE_URL", url)
    spec = importlib.util.spec_from_file_location("example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # SQLAlchemy resolves the models' annotations through sys.modules.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    yield module

    for engine in module.app.extensions["alembic"].engines.values():
        engine.dispose()


def test_example_migrations(example: types.ModuleType, url: str) -> None:
    """The example app's committed migrations create its tables and match its models."""
    runner = example.app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Running upgrade 1795310985 -> 1795310989, create posts" in result.output
    assert version_rows(url) == ["1795310989"]
    assert table_names(url) == ["alembic_version", "post", "user"]
    result = runner.invoke(args=["db", "check"])
    assert result.stdout == "No changes detected.\n"
    assert result.exit_code == 0
