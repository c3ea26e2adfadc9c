"""The worked example of the branches page runs as written, on every
backend.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import AppFactory
from .test_docs_binds import parse_transcript

PAGE = Path(__file__).parent.parent / "docs" / "branches.md"


def transcript() -> list[tuple[list[str], str]]:
    """The commands of the page's console block, each with its output."""
    text = PAGE.read_text()
    block = re.search(r"```console\n(.*?)```", text, re.S)
    assert block is not None
    return parse_transcript(block.group(1))


def config() -> dict[str, object]:
    """The ``ALEMBIC`` dict of the page's first Python block."""
    text = PAGE.read_text()
    block = re.search(r"```python\n(ALEMBIC = .*?)```", text, re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    exec(block.group(1), namespace)
    return t_dict(namespace["ALEMBIC"])


def t_dict(value: object) -> dict[str, object]:
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("integration", ["sqlalchemy"], indirect=True)
def test_worked_example(
    make_app: AppFactory, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command of the worked example prints what the page shows."""
    app, alembic = make_app({"default": url}, sa.MetaData(), config=config())
    ids = itertools.count(1000)
    monkeypatch.setattr(alembic, "rev_id", lambda: str(next(ids)))
    runner = app.test_cli_runner()
    steps = transcript()
    assert len(steps) > 5

    for args, expected in steps:
        result = runner.invoke(args=["db", *args])
        shown = result.stdout if result.exit_code == 0 else result.output
        shown = "\n".join(
            line for line in shown.splitlines() if not line.startswith("INFO ")
        )
        assert shown.replace(str(tmp_path), "/project") == expected.rstrip("\n"), args
