"""The exception hierarchy: messages, data, and 3.x compatible bases."""

from __future__ import annotations

import pytest
from alembic.util import CommandError

from flask_alembic import ConfigError
from flask_alembic import DatabaseError
from flask_alembic import DuplicateRevisionIdError
from flask_alembic import FlaskAlembicError
from flask_alembic import MultipleHeadsError
from flask_alembic import NotUpToDateError
from flask_alembic import RevisionError
from flask_alembic import TargetError
from flask_alembic import UnknownRevisionError


def test_unknown_revision_with_possibilities() -> None:
    """An unknown revision suggests close ids and how to list them all."""
    e = UnknownRevisionError("abx", ["abc", "abd"])
    assert e.revision == "abx"
    assert e.possibilities == ["abc", "abd"]
    assert str(e) == (
        "Can't locate revision identified by 'abx'. Did you mean 'abc', 'abd'?"
        " Run 'flask db log' to list the revisions."
    )


def test_unknown_revision_without_possibilities() -> None:
    """With nothing close, the message only points at the log."""
    e = UnknownRevisionError("zzz")
    assert e.possibilities == []
    assert str(e) == (
        "Can't locate revision identified by 'zzz'."
        " Run 'flask db log' to list the revisions."
    )


def test_multiple_heads() -> None:
    """Several heads name the argument, the heads, and the ways out."""
    e = MultipleHeadsError(("r2", "r3"), "head")
    assert e.heads == ["r2", "r3"]
    assert e.argument == "head"
    assert str(e) == (
        "'head' matches several head revisions (r2, r3). Name one revision,"
        " use 'heads' for all of them, or run 'flask db merge' to join them."
    )


def test_duplicate_revision_id() -> None:
    """A taken revision id names the id and the fix."""
    e = DuplicateRevisionIdError("1700000000")
    assert e.revision == "1700000000"
    assert str(e) == (
        "The revision id '1700000000' is already used. Make 'rev_id' return an"
        " id that is not in the history."
    )


@pytest.mark.parametrize(
    ("pending", "expected"),
    [
        (["r2"], "1 pending revision (r2)"),
        (["r2", "r3"], "2 pending revisions (r2, r3)"),
    ],
)
def test_not_up_to_date(pending: list[str], expected: str) -> None:
    """A database behind its heads lists what is pending."""
    e = NotUpToDateError("auth", ("r1",), pending)
    assert (e.name, e.current, e.pending) == ("auth", ["r1"], pending)
    assert str(e) == (
        f"Database 'auth' is not up to date: {expected}. Run 'flask db upgrade' first."
    )


def test_database_error() -> None:
    """A database error names the database, its masked URL, reason and fix."""
    e = DatabaseError(
        "default", "postgresql://u:***@h/db", "connection refused", "Start it."
    )
    assert (e.name, e.url, e.reason, e.fix) == (
        "default",
        "postgresql://u:***@h/db",
        "connection refused",
        "Start it.",
    )
    assert str(e) == (
        "Could not use database 'default' (postgresql://u:***@h/db):"
        " connection refused. Start it."
    )


@pytest.mark.parametrize(
    ("problems", "expected"),
    [
        (
            [("ALEMBIC", "must be a dict, not list")],
            "The Alembic configuration has 1 problem:\n"
            "  ALEMBIC: must be a dict, not list",
        ),
        (
            [("ALEMBIC.a", "x"), ("ALEMBIC_CONTEXT.b", "y")],
            "The Alembic configuration has 2 problems:\n"
            "  ALEMBIC.a: x\n"
            "  ALEMBIC_CONTEXT.b: y",
        ),
    ],
)
def test_config_error(problems: list[tuple[str, str]], expected: str) -> None:
    """A config error lists every problem on its own line with its path."""
    e = ConfigError(problems)
    assert e.problems == problems
    assert str(e) == expected


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (UnknownRevisionError("x"), (RevisionError, CommandError)),
        (MultipleHeadsError(["a", "b"], "head"), (RevisionError, CommandError)),
        (DuplicateRevisionIdError("x"), (RevisionError, CommandError)),
        (NotUpToDateError("default", [], ["x"]), (CommandError,)),
        (TargetError("no metadata"), (RuntimeError,)),
        (ConfigError([("ALEMBIC", "x")]), (ValueError,)),
        (DatabaseError("default", "sqlite://", "gone", "Fix it."), ()),
    ],
)
def test_bases(error: FlaskAlembicError, bases: tuple[type[Exception], ...]) -> None:
    """Each error is a FlaskAlembicError and what Flask-Alembic 3.3 raised."""
    assert isinstance(error, FlaskAlembicError)

    for base in bases:
        assert isinstance(error, base)
