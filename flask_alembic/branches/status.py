"""Where each branch stands: its head in the files, where a database is, and
what is pending. Pure: computed from the revision map, the registry and the
revisions a database records.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import os

from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap

from .._alembic import applied_ids
from .._alembic import revision_by_id
from .registry import Branch
from .registry import Registry
from .resolver import branch_heads
from .resolver import down_revisions
from .resolver import in_branch


@dataclasses.dataclass(frozen=True)
class BranchStatus:
    """One row of ``flask db status``.

    .. versionadded:: 4.0
    """

    #: The branch name.
    branch: str
    #: The database the row is about.
    bind: str
    #: The directory of the branch's revisions.
    path: str
    #: The ids of the branch's head revisions (one, unless it has diverged).
    heads: tuple[str, ...]
    #: The ids of the branch's newest revisions the database has applied.
    current: tuple[str, ...]
    #: The ids of the branch's revisions the database has not applied, oldest
    #: first.
    pending: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        """Whether the database has applied every revision of the branch."""
        return not self.pending


def branch_status(
    revision_map: RevisionMap,
    registry: Registry,
    bind: str,
    recorded: cabc.Iterable[str],
    branches: cabc.Iterable[Branch] | None = None,
) -> list[BranchStatus]:
    """The status of each branch on one database.

    Branches without revisions are listed too, with nothing current or
    pending. Labels found in the history but not in the registry (made with
    ``revision --branch`` before any was declared) get a row of their own.

    :param revision_map: The known revisions.
    :param registry: The declared and implicit branches.
    :param bind: The name of the database.
    :param recorded: The revision ids in the database's version table.
    :param branches: Only these branches; all of them by default.
    """
    applied = applied_ids(revision_map, recorded)
    history = oldest_first(revision_map)
    rows = []

    if branches is None:
        branches = [*registry, *_unregistered(history, registry)]

    for branch in branches:
        members = [rev for rev in history if in_branch(rev, branch.name)]
        done = {rev.revision for rev in members if rev.revision in applied}
        current = [
            rev.revision
            for rev in members
            if rev.revision in done and not any(n in done for n in rev.nextrev)
        ]
        pending = [rev.revision for rev in members if rev.revision not in done]
        rows.append(
            BranchStatus(
                branch.name,
                bind,
                branch.path,
                tuple(branch_heads(revision_map, branch.name)),
                tuple(current),
                tuple(pending),
            )
        )

    return rows


def oldest_first(revision_map: RevisionMap) -> list[Revision]:
    """Every revision, each after the revisions it follows, the lines of
    history in the order of the map's heads.
    """
    order: dict[str, Revision] = {}
    # An explicit stack rather than recursion: histories can be thousands of
    # revisions deep. An entry is (revision, whether its parents are done).
    stack = [(head, False) for head in reversed(revision_map.heads)]

    while stack:
        ident, expanded = stack.pop()

        if ident in order:
            continue

        rev = revision_by_id(revision_map, ident)
        assert rev is not None

        if expanded:
            order[ident] = rev
        else:
            stack.append((ident, True))
            stack.extend((down, False) for down in reversed(down_revisions(rev)))

    return list(order.values())


def all_branches(revision_map: RevisionMap, registry: Registry) -> list[Branch]:
    """The registry's branches, then the labels found in the history but not
    in the registry (made with ``revision --branch`` before any branch was
    declared), which are branches of the ``default`` bind.
    """
    return [*registry, *_unregistered(oldest_first(revision_map), registry)]


def _unregistered(history: cabc.Iterable[Revision], registry: Registry) -> list[Branch]:
    labels: dict[str, str] = {}

    for rev in history:
        for label in sorted(rev.branch_labels):
            if label not in registry and label not in labels:
                # Scripts know their file; plain revisions (in tests) do not.
                path = getattr(rev, "path", "")
                labels[label] = os.path.dirname(path) if path else ""

    return [Branch(name, path) for name, path in labels.items()]
