"""Mistakes a user can make with any ``flask db`` command: one ``Error:``
line with the fix, a non-zero exit code, no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ..conftest import AppFactory
from .conftest import fails
from .conftest import no_database

#: URLs of databases that cannot be reached, on each backend. The server
#: ones carry a password that must never be shown.
UNREACHABLE = {
    "postgresql": "postgresql+psycopg2://postgres:s3cr3t-pw@127.0.0.1:1/nosuch",
    "mariadb": "mysql+pymysql://root:s3cr3t-pw@127.0.0.1:1/nosuch",
}


@no_database
@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
@pytest.mark.parametrize("command", [["upgrade"], ["current"], ["check"]])
def test_improvement_8_unreachable_database(
    make_app: AppFactory,
    metadata: sa.MetaData,
    tmp_path: Path,
    kind: str,
    command: list[str],
) -> None:
    """An unreachable database is one error line naming it, with its password
    masked, and the fix.
    """
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.sqlite'}"
        shown = url
    else:
        url = UNREACHABLE[kind]
        shown = url.replace("s3cr3t-pw", "***")

    app, _ = make_app({"default": url}, metadata)
    error = fails(app.test_cli_runner(), *command, hidden="s3cr3t")
    assert error.startswith(f"Error: Could not use database 'default' ({shown}): ")
    assert error.endswith(
        ". Check that the server is running and that the URL and credentials are right."
    )


@no_database
def test_password_in_query_string_hidden(
    make_app: AppFactory, metadata: sa.MetaData
) -> None:
    """A password given in the URL's query string is masked too."""
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/nosuch?password=s3cr3t-pw"
    app, _ = make_app({"default": url}, metadata)
    error = fails(app.test_cli_runner(), "current", hidden="s3cr3t")
    assert "?password=" in error


def test_config_error_when_the_app_loads(tmp_path: Path) -> None:
    """A bad ``ALEMBIC`` configuration raised by ``init_app`` while the
    ``flask`` command loads the app prints every problem after ``Error:``
    and exits 1, without Flask's traceback.
    """
    (tmp_path / "app.py").write_text(
        "import sqlalchemy as sa\n"
        "from flask import Flask\n"
        "from flask_alembic import Alembic\n"
        "\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        '    app.config["ALEMBIC"] = {"lock_timeout": -1, "scirpt_location": "x"}\n'
        "    engine = sa.create_engine('sqlite://')\n"
        "    Alembic(app, metadatas=sa.MetaData(), engines=engine)\n"
        "    return app\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.py", "db", "current"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: The Alembic configuration has 2 problems:",
        "  ALEMBIC.scirpt_location: unknown key; did you mean 'script_location'?",
        "  ALEMBIC.lock_timeout: Input should be greater than or equal to 0 (got -1)",
    ]
