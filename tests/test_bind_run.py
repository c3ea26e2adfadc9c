"""``upgrade()``, ``downgrade()`` and ``stamp()`` return a :class:`BindRun`
for each database they ran on: where it started and ended, the revisions
that ran, and the time they took.

The history is the hand-written one of ``tests/test_offline.py``: ``d1``
(creates ``post``) then ``d2`` (creates ``tag``) in ``migrations/``, and with
per-bind histories ``a1`` then ``a2`` in ``migrations/auth/``.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import sqlalchemy as sa

from flask_alembic import Alembic
from flask_alembic import BindRun

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows
from .test_offline import write_history


def outline(runs: dict[str, BindRun]) -> list[tuple[t.Any, ...]]:
    """Each run without its time: bind, operation, before, after, and the
    ids of the revisions that ran.
    """
    return [
        (
            run.bind,
            run.operation,
            run.before,
            run.after,
            [rev.revision for rev in run.revisions],
        )
        for run in runs.values()
    ]


def test_upgrade(alembic: Alembic, tmp_path: Path, url: str) -> None:
    """An upgrade returns the revisions it ran, in order, and the time."""
    write_history(tmp_path)
    runs = alembic.upgrade()
    assert list(runs) == ["default"]
    assert outline(runs) == [("default", "upgrade", (), ("d2",), ["d1", "d2"])]
    assert runs["default"].revisions[0].path == str(
        tmp_path / "migrations" / "d1_create_post.py"
    )
    assert 0 < runs["default"].seconds < 60
    assert outline(alembic.upgrade()) == [("default", "upgrade", ("d2",), ("d2",), [])]
    assert alembic.upgrade()["default"].seconds >= 0
    assert table_names(url) == ["alembic_version", "post", "tag"]


def test_downgrade_and_stamp(alembic: Alembic, tmp_path: Path, url: str) -> None:
    """A downgrade returns the revisions it downgraded; a stamp runs none and
    returns where it left the database.
    """
    write_history(tmp_path)
    alembic.upgrade()
    assert outline(alembic.downgrade("base")) == [
        ("default", "downgrade", ("d2",), (), ["d2", "d1"])
    ]
    assert outline(alembic.stamp("d1")) == [("default", "stamp", (), ("d1",), [])]
    assert outline(alembic.stamp("heads")) == [
        ("default", "stamp", ("d1",), ("d2",), [])
    ]
    assert version_rows(url) == ["d2"]
    assert table_names(url) == ["alembic_version"]


def test_run_migrations_returns_none(alembic: Alembic, tmp_path: Path) -> None:
    """``run_migrations()`` returns ``None``, as in Flask-Alembic 3."""
    write_history(tmp_path)
    assert alembic.run_migrations(lambda heads, context: []) is None


def test_per_bind(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> None:
    """With per-bind histories, the runs are in the order the binds ran."""
    write_history(tmp_path, ("default", "auth"))
    urls = {"default": make_url(on="sqlite"), "auth": make_url()}
    app, alembic = make_app(
        urls, {name: sa.MetaData() for name in urls}, config={"binds": {"auth": {}}}
    )

    with app.app_context():
        assert outline(alembic.upgrade("a1")) == [
            ("auth", "upgrade", (), ("a1",), ["a1"])
        ]
        assert outline(alembic.upgrade()) == [
            ("default", "upgrade", (), ("d2",), ["d1", "d2"]),
            ("auth", "upgrade", ("a1",), ("a2",), ["a2"]),
        ]
        assert outline(alembic.downgrade("base")) == [
            ("auth", "downgrade", ("a2",), (), ["a2", "a1"]),
            ("default", "downgrade", ("d2",), (), ["d2", "d1"]),
        ]

    assert version_rows(urls["auth"]) == []
