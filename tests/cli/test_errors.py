"""Mistakes a user can make with any ``flask db`` command: one ``Error:``
line with the fix, a non-zero exit code, no traceback.
"""

from __future__ import annotations

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
