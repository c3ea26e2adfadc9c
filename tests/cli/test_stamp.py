"""``flask db stamp [TARGET]``."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import table_names
from ..conftest import version_rows
from .conftest import fails
from .conftest import invoke
from .conftest import progress


def test_stamp_heads(
    runner: FlaskCliRunner, metadata: sa.MetaData, url: str, rev_ids: tuple[str, ...]
) -> None:
    """Without a target, stamp records the heads without running them."""
    sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))
    invoke(runner, "revision", "init users")
    result = invoke(runner, "stamp")
    assert progress(result.output) == [f"Running stamp_revision  -> {rev_ids[0]}"]
    assert result.stdout == ""
    assert version_rows(url) == [rev_ids[0]]
    assert table_names(url) == ["alembic_version"]


def test_stamp_revision(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """Stamping a revision moves the version there, up or down."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "revision", "two", "--empty")
    invoke(runner, "stamp", rev_ids[1])
    assert version_rows(url) == [rev_ids[1]]
    result = invoke(runner, "stamp", rev_ids[0])
    assert progress(result.output) == [
        f"Running stamp_revision {rev_ids[1]} -> {rev_ids[0]}"
    ]
    assert version_rows(url) == [rev_ids[0]]


def test_stamp_base(runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]) -> None:
    """Stamping ``base`` empties the version table."""
    invoke(runner, "revision", "one", "--empty")
    invoke(runner, "upgrade")
    invoke(runner, "stamp", "base")
    assert version_rows(url) == []


def test_stamp_unknown_revision(
    runner: FlaskCliRunner, url: str, rev_ids: tuple[str, ...]
) -> None:
    """An unknown target is one error line and nothing is recorded."""
    invoke(runner, "revision", "one", "--empty")
    assert fails(runner, "stamp", "nosuch") == (
        "Error: Can't locate revision identified by 'nosuch'. Run 'flask db"
        " log' to list the revisions."
    )
    assert version_rows(url) == []
