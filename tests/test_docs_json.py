"""The example documents of ``docs/json.md`` are what the commands print.

The page's project has a ``user`` model and two revisions, ``1000 create
users`` (applied) and ``1001 add email`` (pending). The test builds it, then
runs the page's blocks marked with a ``% test: NAME`` comment in the page's
order, changing the project between them as the page says. Each block is a
transcript: a command, then what it prints on stdout, and the ``Error:`` line
on stderr if it fails.
"""

from __future__ import annotations

import collections.abc as cabc
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from .cli.conftest import fix_rev_ids
from .cli.conftest import invoke
from .conftest import AppFactory
from .test_docs_binds import parse_transcript

PAGE = Path(__file__).parent.parent / "docs" / "json.md"

#: A block the test runs: a ``% test: NAME`` line, then a fenced block.
_MARKED = re.compile(
    r"^% test: (?P<name>[\w ]+)\n```\w+\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL
)

#: The exit status of each block's command.
EXIT = {
    "status": 0,
    "current": 0,
    "heads": 0,
    "log": 0,
    "plan": 0,
    "check": 1,
    "verify": 1,
    "error": 1,
}


def blocks() -> dict[str, str]:
    """The page's marked blocks, by name, in the page's order."""
    found = {m["name"]: m["body"] for m in _MARKED.finditer(PAGE.read_text())}
    assert found, f"no '% test:' blocks in {PAGE}"
    return found


def test_page_blocks() -> None:
    """The page has a block for every document, in the order the test runs
    them.
    """
    assert list(blocks()) == list(EXIT)


# The page's project is a SQLite file: run once.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("integration", ["sqlalchemy"], indirect=True)
def test_examples(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each block prints what the page shows, with the exit status the page
    gives.
    """
    url = make_url()
    metadata = sa.MetaData()
    user = sa.Table(
        "user",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
    )

    def open_app() -> FlaskCliRunner:
        # A new app for every command, as each flask process would be.
        app, alembic = make_app({"default": url}, metadata)
        fix_rev_ids(alembic, monkeypatch, ["1000", "1001", "1002"])
        return app.test_cli_runner()

    invoke(open_app(), "revision", "create users")
    invoke(open_app(), "upgrade")
    user.append_column(sa.Column("email", sa.String(200)))
    invoke(open_app(), "revision", "add email")
    page = blocks()

    for name, block in page.items():
        if name == "check":
            # The page: "after an upgrade, with a phone column added to the
            # model but no revision for it yet".
            invoke(open_app(), "upgrade")
            user.append_column(sa.Column("phone", sa.String(20)))
        elif name == "verify":
            # The page: "after someone else's revision, also made after 1000".
            invoke(
                open_app(), "revision", "add phone", "--empty", "-p", "1000", "--splice"
            )

        [(args, expected)] = parse_transcript(block)
        result = open_app().invoke(args=["db", *args])
        assert result.exit_code == EXIT[name], (name, result.output)
        errors = [
            line for line in result.stderr.splitlines() if line.startswith("Error: ")
        ]
        shown = "".join(f"{line}\n" for line in [*result.stdout.splitlines(), *errors])
        assert shown == expected, (name, result.output)
