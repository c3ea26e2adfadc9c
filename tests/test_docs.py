"""The configuration examples in the documentation are valid, so the docs
cannot drift from the code.

Every fenced ``python`` block in ``docs/*.md``, ``README.md`` and
``CHANGES.md`` that assigns ``ALEMBIC``, ``ALEMBIC_CONTEXT`` or
``app.config["ALEMBIC..."]`` is an example. Its imports, function definitions
and those assignments are run (the rest of the block, such as creating an app,
is skipped), and the result goes through the same validation as ``init_app``.

A block whose first line is ``# ConfigError:`` shows a mistake on purpose:
the comment lines after it are the exact error message it must produce.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import types
import typing as t
from pathlib import Path

import pytest

from flask_alembic import ConfigError
from flask_alembic.config import load_settings
from flask_alembic.config import make_alembic_config

ROOT = Path(__file__).parent.parent
CONFIG_KEYS = ("ALEMBIC", "ALEMBIC_CONTEXT")
ERROR_MARKER = "# ConfigError:"
_FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Example:
    """One configuration example: where it is and its code."""

    path: Path
    line: int
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def _is_config_target(node: ast.expr) -> bool:
    """Whether an assignment target is ``ALEMBIC``, ``ALEMBIC_CONTEXT`` or
    ``<something>.config["ALEMBIC..."]``.
    """
    if isinstance(node, ast.Name):
        return node.id in CONFIG_KEYS

    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "config"
        and isinstance(node.slice, ast.Constant)
        and node.slice.value in CONFIG_KEYS
    )


def _config_statements(tree: ast.Module) -> list[ast.stmt]:
    """The statements of a block needed to build its configuration: the
    top-level imports and functions (callbacks), then every configuration
    assignment, including those inside an app factory.
    """
    kept: list[ast.stmt] = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))
    ]
    kept.extend(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(_is_config_target(target) for target in node.targets)
    )
    kept.sort(key=lambda node: node.lineno)
    return kept


def _find_examples() -> list[Example]:
    paths = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    paths.append(ROOT / "CHANGES.md")
    examples = []

    for path in paths:
        if not path.exists():
            continue

        text = path.read_text(encoding="utf-8")

        for match in _FENCE.finditer(text):
            code = match.group(1)
            tree = ast.parse(code, filename=str(path))

            if any(isinstance(n, ast.Assign) for n in _config_statements(tree)):
                line = text.count("\n", 0, match.start()) + 1
                examples.append(Example(path, line, code))

    return examples


EXAMPLES = _find_examples()


def _run(example: Example, root_path: Path) -> None:
    """Run an example's configuration through validation, as ``init_app``
    would.
    """
    tree = ast.parse(example.code, filename=example.id)
    module = ast.Module(body=_config_statements(tree), type_ignores=[])
    app = types.SimpleNamespace(config={})
    namespace: dict[str, t.Any] = {"app": app, "__name__": "docs_example"}
    exec(compile(module, example.id, "exec"), namespace)
    config: dict[str, t.Any] = {**app.config}

    for key in CONFIG_KEYS:
        if key in namespace:
            config[key] = namespace[key]

    settings, _ = load_settings(
        config.get("ALEMBIC", {}), config.get("ALEMBIC_CONTEXT", {})
    )
    make_alembic_config(settings, str(root_path), ["default"])


def _expected_error(example: Example) -> str | None:
    """The error message a deliberately wrong example documents."""
    lines = example.code.splitlines()

    if not lines or lines[0].strip() != ERROR_MARKER:
        return None

    message = []

    for line in lines[1:]:
        if not line.startswith("#"):
            break

        message.append(line[2:])

    return "\n".join(message)


def test_examples_found() -> None:
    """The documentation has configuration examples, in several pages."""
    assert len({example.path for example in EXAMPLES}) >= 3, EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, tmp_path: Path) -> None:
    """A documented configuration is valid, or fails with the message shown."""
    expected = _expected_error(example)

    if expected is None:
        _run(example, tmp_path)
        return

    with pytest.raises(ConfigError) as info:
        _run(example, tmp_path)

    assert str(info.value) == expected
