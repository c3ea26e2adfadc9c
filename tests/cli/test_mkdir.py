"""``flask db mkdir``."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ..conftest import AppFactory
from .conftest import invoke
from .conftest import no_database

pytestmark = no_database


def test_mkdir(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """The migrations directory, its template and every version location are
    created.
    """
    other = tmp_path / "other" / "versions"
    app, _ = make_app(
        {"default": url},
        metadata,
        config={"version_locations": [str(other)]},
        run_mkdir=False,
    )
    assert not (tmp_path / "migrations").exists()
    result = invoke(app.test_cli_runner(), "mkdir")
    assert result.output == ""
    template = (tmp_path / "migrations" / "script.py.mako").read_text()
    assert "def upgrade() -> None:" in template
    assert other.is_dir()


def test_mkdir_keeps_template(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """An existing template is left as it is."""
    app, _ = make_app({"default": url}, metadata)
    template = tmp_path / "migrations" / "script.py.mako"
    template.write_text("# mine\n")
    invoke(app.test_cli_runner(), "mkdir")
    assert template.read_text() == "# mine\n"


def test_mkdir_several_databases(
    make_app: AppFactory, url: str, tmp_path: Path
) -> None:
    """With several databases, the template has a function per database."""
    app, _ = make_app(
        {"default": url, "other": url},
        {"default": sa.MetaData(), "other": sa.MetaData()},
        run_mkdir=False,
    )
    invoke(app.test_cli_runner(), "mkdir")
    template = (tmp_path / "migrations" / "script.py.mako").read_text()
    assert "def upgrade(engine_name: str) -> None:" in template
