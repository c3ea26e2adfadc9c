"""The step-by-step switch of ``docs/switching-from-flask-migrate.md`` runs as
written.

A Flask-Migrate project is written as ``flask db init`` and two
``flask db migrate`` runs leave it, with its database upgraded to the head as
Flask-Migrate leaves it, and an ``env.py`` that fails if anything runs it.
The page's app replaces Flask-Migrate's and is loaded afresh for every
command, as each ``flask`` process would load it. The blocks marked with a
``% test: NAME`` comment (indented where they are in a list) are the warning
about unused files, command transcripts whose output must match exactly, the
model change and the revision it makes.
"""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import version_rows
from .test_docs_binds import load_page_app
from .test_docs_binds import parse_transcript
from .test_docs_binds import with_model
from .test_flask_migrate import env_py_ran
from .test_flask_migrate import models
from .test_flask_migrate import REVISIONS
from .test_flask_migrate import write_project

PAGE = Path(__file__).parent.parent / "docs" / "switching-from-flask-migrate.md"

#: A block the test runs: a ``% test: NAME`` line, then a fenced block, both
#: indented alike.
_MARKED = re.compile(
    r"^(?P<indent> *)% test: (?P<name>[\w ]+)\n(?P=indent)```\w+\n"
    r"(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)


def blocks() -> dict[str, str]:
    """The page's marked blocks, by name, without their indentation."""
    return {
        m["name"]: textwrap.dedent(m["body"])
        for m in _MARKED.finditer(PAGE.read_text())
    }


def write_database(url: str) -> None:
    """Create the database Flask-Migrate's upgrade made: the tables of the
    two revisions, and the head in the version table.
    """
    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            models(sa.MetaData()).create_all(conn)
            conn.exec_driver_sql(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
                " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
            conn.exec_driver_sql(
                f"INSERT INTO alembic_version VALUES ('{REVISIONS[-1]}')"
            )
    finally:
        engine.dispose()


class Project:
    """The page's app in a Flask-Migrate project directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code = blocks()["app"]

    def run(self, block: str, stderr: bool = False) -> None:
        """Run a console block's commands in a new app each, checking each
        one's output: stdout, or with ``stderr`` both, without progress lines.
        """
        for args, expected in parse_transcript(block):
            with load_page_app(self.root, self.code) as (_, app):
                result = app.test_cli_runner().invoke(args=["db", *args])

            assert result.exit_code == 0, (args, result.output)
            shown = result.output if stderr else result.stdout
            shown = "\n".join(
                line for line in shown.splitlines() if not line.startswith("INFO  [")
            )
            shown = shown.replace(str(self.root), "/project")
            assert shown == expected.rstrip("\n"), (args, result.output)


def test_page_blocks() -> None:
    """The page marks every block this test needs."""
    assert set(blocks()) == {
        "unused",
        "habit",
        "app",
        "check",
        "model",
        "change",
        "revision",
    }


def test_switch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every step of the switch prints what the page shows: the warning
    about env.py and alembic.ini, once; the database where Flask-Migrate
    left it; Flask-Migrate's command names; and a new revision in
    ``migrations/versions`` that applies. env.py never runs.
    """
    page = blocks()
    text = PAGE.read_text()
    versions = write_project(tmp_path)
    assert sorted(p.name for p in versions.iterdir()) == [
        "3f2a9c1d5e7b_create_users.py",
        "8c4e1b2a9d0f_create_posts.py",
    ]
    # The tree the page shows is the project's.
    for name in ("README", "alembic.ini", "env.py", "script.py.mako"):
        assert f"── {name}\n" in text
        assert (tmp_path / "migrations" / name).exists()

    url = f"sqlite:///{tmp_path / 'instance' / 'shop.sqlite'}"
    (tmp_path / "instance").mkdir()
    write_database(url)
    project = Project(tmp_path)

    caplog.set_level(logging.WARNING, logger="flask_alembic")
    project.run(page["check"])
    assert [r.getMessage() for r in caplog.records] == [page["unused"].strip()]
    project.run(page["habit"], stderr=True)

    assert "$ rm migrations/env.py migrations/alembic.ini migrations/README\n" in text

    for name in ("env.py", "alembic.ini", "README"):
        (tmp_path / "migrations" / name).unlink()

    project.code = with_model(project.code, page["model"])
    project.run(page["change"])
    source = (versions / "1000_add_email.py").read_text()
    upgrade = re.search(r"^def upgrade\(\):\n.*?(?=\n\n\ndef )", source, re.M | re.S)
    assert upgrade is not None, source
    assert upgrade[0] == page["revision"].rstrip("\n")
    assert version_rows(url) == ["1000"]
    assert not env_py_ran(tmp_path)
