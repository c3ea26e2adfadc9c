"""Load the revision history and find what is wrong with it.

Alembic stops at the first file that does not load and at the first broken
reference, with a traceback, and warns about a duplicate id while keeping
one of the two files. Here every file is loaded on its own and the whole
history is checked before Alembic builds its map, so each problem is
reported once, naming its files and ids. No Flask here.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import re
import typing as t

from alembic.script import Script
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionMap

from . import _alembic
from .branches.registry import find_cycles
from .errors import Problem

#: The problems that keep a history from being loaded at all.
STRUCTURAL = frozenset({"unloadable", "duplicate-id", "missing-revision", "cycle"})


def load(
    script: ScriptDirectory, show: t.Callable[[str], str] = str, cache: bool = True
) -> tuple[list[Script], list[Problem]]:
    """Load every revision file and check the history they make.

    :param script: The script directory.
    :param show: Turns an absolute path into the form problems show it in.
    :param cache: Use the header cache, see :mod:`flask_alembic.headers`.
    :return: The revisions, and the problems that would keep Alembic from
        building its map from them.
    """
    scripts, failed = _alembic.load_scripts(script, cache, show)
    problems = [
        Problem(
            "unloadable",
            f"{show(path)}: cannot be loaded: {_describe(error)}",
            (show(path),),
        )
        for path, error in failed
    ]
    problems.extend(check_graph(scripts, show))
    return scripts, problems


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError on line {error.lineno}: {error.msg}"

    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def check_graph(
    scripts: cabc.Sequence[Script], show: t.Callable[[str], str] = str
) -> list[Problem]:
    """Duplicate ids, references to revisions that do not exist, and cycles."""
    problems = []
    by_id: dict[str, list[Script]] = {}

    for rev in scripts:
        by_id.setdefault(rev.revision, []).append(rev)

    for ident, revs in by_id.items():
        if len(revs) > 1:
            paths = tuple(show(rev.path) for rev in revs)
            problems.append(
                Problem(
                    "duplicate-id",
                    f"revision id '{ident}' is defined by {len(revs)} files:"
                    f" {', '.join(paths)}. Give all but one a new id.",
                    paths,
                    (ident,),
                )
            )

    # A branch label in depends_on stands for the revision that declares it.
    labels = {
        label: rev.revision for rev in scripts for label in rev._orig_branch_labels
    }
    graph: dict[str, list[str]] = {}

    for rev in scripts:
        edges = graph.setdefault(rev.revision, [])

        for key, refs in (
            ("down_revision", _as_tuple(rev.down_revision)),
            ("depends_on", _as_tuple(rev.dependencies)),
        ):
            for ref in refs:
                found = _resolve(ref, by_id, labels if key == "depends_on" else {})

                if found is None:
                    problems.append(
                        Problem(
                            "missing-revision",
                            f"{show(rev.path)}: {key} '{ref}' of revision"
                            f" '{rev.revision}' names no revision. Restore the"
                            " revision it names, or correct the reference.",
                            (show(rev.path),),
                            (rev.revision, ref),
                        )
                    )
                elif found in by_id:
                    edges.append(found)

    for cycle in find_cycles(graph):
        paths = tuple(show(by_id[ident][0].path) for ident in cycle)
        chain = " -> ".join([*cycle, cycle[0]])
        problems.append(
            Problem(
                "cycle",
                f"revisions {chain} form a cycle through their down_revision"
                f" and depends_on ({', '.join(paths)}). Break it by correcting"
                " one of them.",
                paths,
                tuple(cycle),
            )
        )

    return problems


def _as_tuple(value: str | cabc.Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()

    return (value,) if isinstance(value, str) else tuple(value)


def _resolve(
    ref: str, by_id: cabc.Mapping[str, t.Any], labels: cabc.Mapping[str, str]
) -> str | None:
    """The id a reference names: an id, a branch label (``depends_on`` only),
    or a unique prefix of an id, as Alembic accepts.
    """
    if ref in by_id:
        return ref

    if ref in labels:
        return labels[ref]

    matches = [ident for ident in by_id if ident.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def multiple_heads(
    revision_map: RevisionMap,
    branches: cabc.Mapping[str, list[str]],
    show: t.Callable[[str], str] = str,
) -> list[Problem]:
    """A problem for each branch with more than one head.

    :param branches: The head ids of each branch, by name.
    """
    problems = []

    for name, heads in branches.items():
        if len(heads) < 2:
            continue

        revs = [revision_map.get_revision(head) for head in heads]
        paths = tuple(show(rev.path) for rev in revs if isinstance(rev, Script))
        problems.append(
            Problem(
                "multiple-heads",
                f"branch '{name}' has {len(heads)} heads: {', '.join(heads)}"
                f" ({', '.join(paths)}). Join them with 'flask db merge"
                f" {' '.join(heads)}'.",
                paths,
                tuple(heads),
            )
        )

    return problems


#: A line that assigns a revision id, as every revision file has.
_REVISION_LINE = re.compile(r"^revision\s*(:[^=]*)?=", re.MULTILINE)
_DOWN_REVISION_LINE = re.compile(r"^down_revision\s*(:[^=]*)?=", re.MULTILINE)


def unowned_files(
    roots: cabc.Iterable[str],
    locations: cabc.Iterable[str],
    recursive: bool,
    show: t.Callable[[str], str] = str,
) -> list[Problem]:
    """Revision files under ``roots`` in a directory that is not a version
    location, which Alembic never reads.

    :param roots: The directories to search, recursively.
    :param locations: The version locations.
    :param recursive: Whether version locations include their
        subdirectories.
    """
    problems = []
    seen: set[str] = set()

    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            real = os.path.realpath(directory)

            if real in seen:
                continue

            seen.add(real)

            if is_owned(real, locations, recursive):
                continue

            for name in sorted(files):
                path = os.path.join(directory, name)

                if name.endswith(".py") and looks_like_revision(path):
                    problems.append(
                        Problem(
                            "unowned-file",
                            f"{show(path)}: a revision file in a directory no"
                            " branch owns, so it never runs. Declare the"
                            " directory as a branch's path in"
                            " ALEMBIC['branches'], or move the file.",
                            (show(path),),
                        )
                    )

    return problems


def is_owned(directory: str, locations: cabc.Iterable[str], recursive: bool) -> bool:
    """Whether Alembic reads the revisions in a directory: it is a version
    location, or inside one when they are searched recursively.
    """
    real = os.path.realpath(directory)
    owned = [os.path.realpath(path) for path in locations]
    return real in owned or (
        recursive and any(real.startswith(path + os.sep) for path in owned)
    )


def looks_like_revision(path: str) -> bool:
    """Whether a file assigns ``revision`` and ``down_revision`` at the start
    of a line, as every revision file does. It is read, not executed.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return False

    return bool(_REVISION_LINE.search(text) and _DOWN_REVISION_LINE.search(text))
