"""The JSON documents the ``flask db`` commands print with ``--json``.

Each document is built from what the :class:`.Alembic` API returns, never
from the text the commands print. The shapes are described in
``docs/json.md``: every document is an object whose first keys are
``version`` (:data:`SCHEMA_VERSION`) and ``command``. Keys are always
present, with ``null`` where a value is unknown; anything ordered is a list;
revision ids are strings; paths are relative to the application's root when
they are inside it.
"""

from __future__ import annotations

import collections.abc as cabc
import json
import typing as t

import sqlalchemy as sa
from alembic.script import Script

from .branches.resolver import down_revisions
from .branches.status import BranchStatus
from .config import show_path
from .errors import Problem

if t.TYPE_CHECKING:
    from .extension import BindPlan

#: The version of the documents' shapes. It changes only when a key is
#: removed, renamed or given another meaning; new keys may appear without it.
SCHEMA_VERSION = 1

#: A JSON object.
Document = dict[str, t.Any]


def dumps(document: Document) -> str:
    """The document as indented JSON text, in ASCII, keys in their order."""
    return json.dumps(document, indent=2)


def _envelope(command: str, **values: t.Any) -> Document:
    return {"version": SCHEMA_VERSION, "command": command, **values}


def _path(path: str | None, root: str) -> str | None:
    return show_path(path, root) if path else None


def revision(rev: Script, root: str) -> Document:
    """A revision, as each document that lists revisions gives it.

    :param rev: The revision.
    :param root: The application's root path.
    """
    dependencies = rev.dependencies

    if dependencies is None:
        depends_on: list[str] = []
    elif isinstance(dependencies, str):
        depends_on = [dependencies]
    else:
        depends_on = list(dependencies)

    return {
        "id": rev.revision,
        "message": rev.doc,
        "parents": list(down_revisions(rev)),
        "depends_on": depends_on,
        "branch_labels": sorted(rev.branch_labels),
        "path": _path(rev.path, root),
        "is_head": rev.is_head,
    }


def revisions(command: str, revs: cabc.Iterable[Script], root: str) -> Document:
    """The document of ``heads`` and ``log``: revisions in the order the
    command lists them.
    """
    return _envelope(command, revisions=[revision(rev, root) for rev in revs])


def current(
    by_database: cabc.Mapping[str, cabc.Iterable[Script]],
    pending: cabc.Mapping[str, cabc.Sequence[str]],
    root: str,
) -> Document:
    """The document of ``current``.

    :param by_database: The revisions each database is at, by name.
    :param pending: The ids each database has still to apply, by name, for
        every database asked for.
    :param root: The application's root path.
    """
    return _envelope(
        "current",
        up_to_date=not any(pending.values()),
        binds=[
            {
                "bind": name,
                "revisions": [revision(rev, root) for rev in revs],
                "pending": list(pending.get(name, ())),
            }
            for name, revs in by_database.items()
        ],
    )


def status(rows: cabc.Sequence[BranchStatus], root: str) -> Document:
    """The document of ``status``: one entry per branch and database."""
    return _envelope(
        "status",
        up_to_date=all(row.up_to_date for row in rows),
        branches=[
            {
                "branch": row.branch,
                "bind": row.bind,
                "path": _path(row.path, root),
                "heads": list(row.heads),
                "current": list(row.current),
                "pending": list(row.pending),
                "up_to_date": row.up_to_date,
            }
            for row in rows
        ],
    )


def check(
    by_database: cabc.Mapping[str, cabc.Iterable[t.Any]],
    describe: t.Callable[[tuple[t.Any, ...]], str],
) -> Document:
    """The document of ``check``.

    :param by_database: Autogenerate's differences for each database, by
        name, as :meth:`.Alembic.diffs` returns them.
    :param describe: Describes one difference in words, as the text output
        does.
    """
    binds = [
        {"bind": name, "changes": [_change(diff, describe) for diff in _flat(diffs)]}
        for name, diffs in by_database.items()
    ]
    return _envelope(
        "check",
        changes_detected=any(bind["changes"] for bind in binds),
        binds=binds,
    )


def _flat(diffs: cabc.Iterable[t.Any]) -> cabc.Iterator[tuple[t.Any, ...]]:
    """Each difference, with the lists autogenerate groups a column's
    ``modify_*`` differences in taken apart.
    """
    for diff in diffs:
        if isinstance(diff, list):
            yield from _flat(diff)
        else:
            yield diff


def _change(
    diff: tuple[t.Any, ...], describe: t.Callable[[tuple[t.Any, ...]], str]
) -> Document:
    """One difference: its kind, what it is about, and a description."""
    kind = str(diff[0])
    schema = table = column = name = None

    if kind in _TABLES:
        schema, table = _where(diff[1])
    elif kind in ("add_column", "remove_column"):
        schema, table, column = diff[1], diff[2], diff[3].name
    elif kind in ("add_index", "remove_index") or kind in _CONSTRAINTS:
        name = diff[1].name
        schema, table = _where(diff[1].table)
    elif kind.startswith("modify_") and len(diff) >= 4:
        schema, table, column = diff[1], diff[2], diff[3]

    return {
        "kind": kind,
        "schema": schema,
        "table": table,
        "column": column,
        # An unnamed constraint's name may be SQLAlchemy's _NONE_NAME.
        "name": str(name) if isinstance(name, str) else None,
        "description": describe(diff),
    }


_TABLES = ("add_table", "remove_table", "add_table_comment", "remove_table_comment")
_CONSTRAINTS = ("add_constraint", "remove_constraint", "add_fk", "remove_fk")


def _where(table: sa.Table) -> tuple[str | None, str]:
    return table.schema, table.name


def verify(problems: cabc.Sequence[Problem]) -> Document:
    """The document of ``verify``: each problem as :class:`.Problem` has it."""
    return _envelope(
        "verify",
        ok=not problems,
        problems=[
            {
                "kind": problem.kind,
                "message": problem.message,
                "paths": list(problem.paths),
                "revisions": list(problem.revisions),
                "bind": problem.bind,
            }
            for problem in problems
        ],
    )


def plan(operation: str, plans: cabc.Mapping[str, BindPlan], root: str) -> Document:
    """The document of ``upgrade --plan`` and ``downgrade --plan``."""
    return _envelope(
        "plan",
        operation=operation,
        binds=[
            {
                "bind": p.bind,
                "current": list(p.current),
                "revisions": [revision(rev, root) for rev in p.revisions],
            }
            for p in plans.values()
        ],
    )
