"""Turn what a user asked for into Alembic's arguments.

Pure functions over Alembic's in-memory :class:`~alembic.script.revision.RevisionMap`:
no Flask, no files, no database.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import re

from alembic.script import Script
from alembic.script.revision import Revision
from alembic.script.revision import RevisionError as AlembicRevisionError
from alembic.script.revision import RevisionMap

from .._alembic import applied_ids
from .._alembic import revision_by_id
from ..config import DEFAULT_BIND
from ..errors import MultipleHeadsError
from ..errors import RevisionError
from ..errors import UnknownRevisionError
from .registry import DEFAULT_BRANCH
from .registry import Registry

#: A revision as the API accepts it: an id, a label, a ``Script``, or several.
RevisionArg = str | Script | cabc.Sequence[str | Script]


def to_ids(rev: RevisionArg | int) -> list[str]:
    """Normalise a loose revision argument to a list of identifiers. An int is
    a relative step, which Alembic writes with an explicit sign.
    """
    if isinstance(rev, str):
        return [rev]

    if isinstance(rev, Script):
        return [rev.revision]

    if isinstance(rev, int):
        return [f"{rev:+d}"]

    return [r.revision if isinstance(r, Script) else r for r in rev]


def docstring_safe(message: str) -> str:
    """Escape a revision message for the ``\"\"\"docstring\"\"\"`` the
    templates put it in, so that any message makes a file that loads and
    whose docstring reads as the message.
    """
    return message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def is_revision_id(revision_map: RevisionMap, value: str) -> bool:
    """Whether ``value`` is exactly the id of a known revision, not only a
    prefix of one.
    """
    if not value:
        # Alembic asserts on an empty id instead of raising.
        return False

    try:
        rev = revision_map.get_revision(value)
    except AlembicRevisionError:
        return False

    return rev is not None and rev.revision == value


def movement_target(
    revision_map: RevisionMap, target: RevisionArg | int, *, down: bool
) -> list[str]:
    """Resolve an upgrade or downgrade target.

    A number that is exactly a revision id names that revision; revision ids
    made from timestamps are numbers too. Any other number is a count of
    steps: an unsigned one goes up for upgrade and down for downgrade, as
    ``flask db downgrade 2`` always did; a downgrade never goes up. Everything
    else passes through.

    :param revision_map: The known revisions.
    :param target: What the user asked for.
    :param down: Whether this is a downgrade.
    """
    if isinstance(target, int):
        steps = -abs(target) if down else target
        return [f"{steps:+d}"]

    ids = to_ids(target)

    if (
        len(ids) == 1
        and _STEPS.fullmatch(ids[0])
        and not is_revision_id(revision_map, ids[0])
    ):
        steps = int(ids[0])
        return [f"{-abs(steps) if down else steps:+d}"]

    return ids


#: A relative step count. ASCII digits only: ``str.isdigit`` accepts
#: characters such as "²" that ``int`` rejects.
_STEPS = re.compile(r"[+-]?[0-9]+")


@dataclasses.dataclass(frozen=True)
class RevisionPlan:
    """Where a new revision goes in the history."""

    #: The revisions the new one follows.
    parents: list[str]
    #: The branch labels the new revision carries.
    labels: list[str]
    #: The directory to write it into, or ``None`` for the script location.
    path: str | None
    #: The revisions the new one depends on without following them.
    depends_on: list[str] = dataclasses.field(default_factory=list)


def plan_revision(
    revision_map: RevisionMap,
    *,
    branch: str | None,
    parents: list[str],
    labels: list[str],
    path: str | None,
    registry: Registry,
) -> RevisionPlan:
    """Decide the parents, labels and path of a new revision.

    With a branch name, ``head`` and ``base`` in the parents mean that
    branch's head and base. A branch with no revisions yet starts from base
    and its first revision carries its name as a label, written to the path
    configured for it. A history whose revisions carry no label at all (made
    with Flask-Migrate or plain Alembic) is the ``default`` branch, so new
    default revisions continue it rather than start a second root.

    :param revision_map: The known revisions.
    :param branch: The independent branch to add to, or ``None``.
    :param parents: The requested parent revisions.
    :param labels: The requested labels.
    :param path: The requested directory.
    :param registry: The declared and implicit branches. Once any branch is
        declared, a name that is neither declared nor in the history is an
        error. The first revision of a declared branch depends on the heads
        of the branches it depends on.
    :raise UnknownBranchError: If the branch is not known.
    :raise MultipleHeadsError: If an unlabelled history has several heads
        and no parent was named.
    :raise RevisionError: If a branch it depends on has no revisions yet.
    """
    labels = list(labels)

    if not branch:
        return RevisionPlan(parents, labels, path)

    declared = registry.get(branch)

    if declared is None and registry.declares:
        registry.require(branch, history_labels(revision_map))

    if not path and declared is not None and branch != DEFAULT_BRANCH:
        # The default branch's path is the script location, which is where
        # revisions go when no path is given.
        path = declared.path

    if _branch_exists(revision_map, branch):
        parents = [f"{branch}@{p}" if p in ("base", "head") else p for p in parents]
        return RevisionPlan(parents, labels, path)

    if branch == DEFAULT_BRANCH:
        unlabelled = _unlabelled_heads(revision_map)

        if unlabelled:
            if "head" not in parents:
                return RevisionPlan(parents, labels, path)

            if len(unlabelled) > 1:
                raise MultipleHeadsError(unlabelled, "head")

            parents = [unlabelled[0] if p == "head" else p for p in parents]
            return RevisionPlan(parents, labels, path)

    depends_on = []

    if declared is not None:
        for dep in declared.depends_on:
            other = registry.get(dep)

            # A branch on another bind is not in this bind's version table;
            # depending on it orders the binds instead.
            if other is None or other.bind == declared.bind:
                depends_on.extend(branch_heads(revision_map, dep, needed_by=branch))

    return RevisionPlan(["base"], [branch, *labels], path, depends_on)


def in_branch(rev: Revision, branch: str) -> bool:
    """Whether a revision belongs to a branch: it carries the label, or it
    carries none and the branch is ``default``.
    """
    if branch in rev.branch_labels:
        return True

    return branch == DEFAULT_BRANCH and not rev.branch_labels


def branch_heads(
    revision_map: RevisionMap, branch: str, needed_by: str | None = None
) -> list[str]:
    """The ids of a branch's head revisions.

    :param needed_by: The branch that needs them, for the error message.
    :raise RevisionError: If ``needed_by`` is given and the branch has no
        revisions.
    """
    heads = [
        head
        for head in revision_map.heads
        if any(in_branch(rev, branch) for rev in _lineage(revision_map, head))
    ]

    if not heads and needed_by is not None:
        raise RevisionError(
            f"Branch '{needed_by}' depends on branch '{branch}', which has no"
            f" revisions yet. Create one first: flask db revision MESSAGE"
            f" --branch {branch}"
        )

    return heads


def _lineage(revision_map: RevisionMap, *heads: str) -> cabc.Iterator[Revision]:
    """Revisions and their ancestors through ``down_revision``, each once."""
    seen: set[str] = set()
    todo = list(heads)

    while todo:
        rev = _get(revision_map, todo.pop())

        if rev.revision not in seen:
            seen.add(rev.revision)
            yield rev
            todo.extend(down_revisions(rev))


def history_labels(revision_map: RevisionMap) -> set[str]:
    """Every branch label a revision in the history carries."""
    return {label for rev in _walk(revision_map) for label in rev.branch_labels}


def _branch_exists(revision_map: RevisionMap, branch: str) -> bool:
    """Whether a revision carries ``branch`` as a label.

    ``get_revisions`` is not used: it also matches a prefix of a revision id,
    so a branch named ``ab`` would "exist" once a revision ``ab12...`` does.
    Every revision is looked at, not only the heads: a revision added to a
    cached map does not get the labels of its ancestors.
    """
    return any(branch in rev.branch_labels for rev in _walk(revision_map))


def _walk(revision_map: RevisionMap) -> cabc.Iterator[Revision]:
    """Every revision reachable from the heads through ``down_revision``."""
    return _lineage(revision_map, *revision_map.heads)


def _unlabelled_heads(revision_map: RevisionMap) -> list[str]:
    """The heads none of whose ancestors carries a branch label.

    Only ``down_revision`` is followed: a revision of the unlabelled history
    that depends on a revision of a labelled branch is still unlabelled.
    """
    result = []

    for head in revision_map.heads:
        seen: set[str] = set()
        todo = [head]
        labelled = False

        while todo and not labelled:
            rev = _get(revision_map, todo.pop())
            labelled = bool(rev.branch_labels)
            seen.add(rev.revision)
            todo.extend(p for p in down_revisions(rev) if p not in seen)

        if not labelled:
            result.append(head)

    return result


def _get(revision_map: RevisionMap, revision: str) -> Revision:
    rev = revision_by_id(revision_map, revision)
    assert rev is not None
    return rev


def down_revisions(rev: Revision) -> tuple[str, ...]:
    down = rev.down_revision

    if down is None:
        return ()

    if isinstance(down, str):
        return (down,)

    return tuple(down)


def bind_heads(revision_map: RevisionMap, registry: Registry, bind: str) -> list[str]:
    """The ids of the head revisions of every branch of a bind: what
    ``upgrade`` brings it to. Empty if none of its branches has revisions.
    """
    heads: list[str] = []

    for branch in registry.branches_of(bind):
        for head in branch_heads(revision_map, branch.name):
            if head not in heads:
                heads.append(head)

    if bind == DEFAULT_BIND:
        # Labels that are in the history but not in the registry are the
        # default bind's, as their revisions are.
        for label in sorted(history_labels(revision_map) - set(registry.names)):
            for head in branch_heads(revision_map, label):
                if head not in heads:
                    heads.append(head)

    # A head that another head depends on is reached through it; Alembic
    # refuses targets that overlap.
    below = {
        ident
        for head in heads
        for ident in applied_ids(revision_map, [head])
        if ident != head
    }
    return [head for head in heads if head not in below]


def bind_of_revision(revision_map: RevisionMap, registry: Registry, ident: str) -> str:
    """The bind a revision argument belongs to: ``branch@...`` or a branch
    name by its branch, an id by its revision's labels.

    :raise UnknownRevisionError: If it names no revision.
    """
    branch, at, _ = ident.partition("@")

    if at and branch:
        name = branch
    elif ident in registry:
        name = ident
    else:
        try:
            rev = revision_map.get_revision(ident)
        except AlembicRevisionError as e:
            raise UnknownRevisionError(ident) from e

        if rev is None:
            return DEFAULT_BIND

        return registry.bind_of(rev.branch_labels)

    found = registry.get(name)
    return found.bind if found is not None else DEFAULT_BIND


def plan_movement(
    revision_map: RevisionMap,
    registry: Registry,
    target: list[str],
    binds: list[str],
    *,
    kind: str,
) -> dict[str, list[str]]:
    """Split an ``upgrade``, ``downgrade`` or ``stamp`` target of per-bind
    histories into a target per bind, in the order the binds run: each after
    the binds it depends on, reversed for ``downgrade``.

    ``heads`` is each bind's own heads and ``base`` each bind's base;
    revisions, labels and ``branch@...`` go to the bind they belong to. A
    relative step needs a single bind.

    :param target: What the user asked for, as revision arguments.
    :param binds: The binds to move: those asked for, or all of them.
    :param kind: ``"upgrade"``, ``"downgrade"`` or ``"stamp"``.
    :raise RevisionError: If a step count is given for several binds, or a
        revision belongs to a bind that was not asked for.
    """
    order = [name for name in registry.binds if name in binds]

    if kind == "downgrade":
        order.reverse()

    plans: dict[str, list[str]] = {}

    for ident in target:
        if ident in ("heads", "head"):
            for bind in order:
                heads = bind_heads(revision_map, registry, bind)

                if heads:
                    plans.setdefault(bind, []).extend(heads)
        elif ident == "base":
            for bind in order:
                plans.setdefault(bind, []).append("base")
        elif _STEPS.fullmatch(ident) and not is_revision_id(revision_map, ident):
            bind = _one_bind(order, registry, binds, ident, kind)
            plans.setdefault(bind, []).append(
                _on_branch(revision_map, registry, bind, ident)
            )
        else:
            relative = _RELATIVE.match(ident)

            if relative is None or is_revision_id(revision_map, ident):
                bind = bind_of_revision(revision_map, registry, ident)
            elif relative["base"] in ("head", "heads"):
                bind = _one_bind(order, registry, binds, ident, kind)
                ident = _bind_relative(revision_map, registry, bind, relative)
            else:
                bind = bind_of_revision(revision_map, registry, relative["base"])

            if bind not in order:
                raise RevisionError(
                    f"'{ident}' belongs to bind '{bind}', which this {kind} does"
                    f" not include. Add --bind {bind}, or leave out --bind."
                )

            plans.setdefault(bind, []).append(ident)

    return {bind: plans[bind] for bind in order if bind in plans}


#: A revision argument relative to another: ``REV-1``, ``head+2``,
#: ``branch@head-1``.
_RELATIVE = re.compile(r"(?P<base>.+?)(?P<steps>[+-][0-9]+)\Z")


def _one_bind(
    order: list[str], registry: Registry, binds: list[str], ident: str, kind: str
) -> str:
    """The single bind a count of revisions applies to.

    :raise RevisionError: If several binds would move.
    """
    if len(order) != 1:
        raise RevisionError(
            f"A number of revisions to {kind} differs from bind to bind."
            f" Name the bind to {kind}: --bind NAME (the binds are"
            f" {', '.join(n for n in registry.binds if n in binds)})."
        )

    return order[0]


def _on_branch(
    revision_map: RevisionMap, registry: Registry, bind: str, steps: str
) -> str:
    """A count of steps on a bind, as ``branch@+N`` where the bind has one
    branch with revisions: from base, ``+N`` alone would walk the roots of
    every bind.
    """
    branches = _branches_with_revisions(revision_map, registry, bind)

    if len(branches) == 1:
        return f"{branches[0]}@{steps}"

    if bind == DEFAULT_BIND:
        # An unlabelled default history: Alembic also takes a revision of
        # the line before the "@".
        heads = bind_heads(revision_map, registry, bind)

        if len(heads) == 1 and not _branch_exists(revision_map, DEFAULT_BRANCH):
            return f"{heads[0]}@{steps}"

    return steps


def _branches_with_revisions(
    revision_map: RevisionMap, registry: Registry, bind: str
) -> list[str]:
    """The branches of a bind that have revisions. An unlabelled default
    history counts, but has no label to write ``default@...`` with: then the
    list is empty.
    """
    branches = [
        branch.name
        for branch in registry.branches_of(bind)
        if branch_heads(revision_map, branch.name)
    ]

    if not all(_branch_exists(revision_map, name) for name in branches):
        return []

    return branches


def _bind_relative(
    revision_map: RevisionMap, registry: Registry, bind: str, relative: re.Match[str]
) -> str:
    """``head-1`` on one bind: relative to the head of the bind's branch, as
    ``head`` alone would match the heads of every bind.

    :raise RevisionError: If the bind has several branches with revisions.
    """
    branches = _branches_with_revisions(revision_map, registry, bind)

    if len(branches) != 1:
        names = ", ".join(branches) or "none"
        raise RevisionError(
            f"'{relative.group(0)}' is ambiguous on bind '{bind}', whose branches"
            f" with revisions are: {names}. Write BRANCH@head{relative['steps']}."
        )

    return f"{branches[0]}@head{relative['steps']}"
