"""Every use of Alembic's private API, in one place.

Alembic's public entry points are its ``command`` functions, which print and
read ``env.py``. flask_alembic replaces ``env.py``, so it drives the same
machinery those commands drive. Each wrapper says why it is needed; when
Alembic changes, this is the only module to update.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import difflib
import typing as t

from alembic import util
from alembic.autogenerate import RevisionContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import revision as revision_mod
from alembic.script import Script
from alembic.script import ScriptDirectory

from .errors import HistoryError
from .errors import MultipleHeadsError
from .errors import RevisionError
from .errors import UnknownRevisionError

#: The function a migration context calls with the database's current heads,
#: returning the steps to run. In ``env.py`` Alembic's commands build it.
MigrationsFn = t.Callable[[t.Any, MigrationContext], t.Iterable[t.Any]]


def upgrade_steps(
    script: ScriptDirectory, target: str | list[str], heads: t.Any
) -> list[t.Any]:
    """The steps from ``heads`` up to ``target``.

    ``ScriptDirectory._upgrade_revs`` is what ``alembic upgrade`` uses to build
    its steps; there is no public equivalent.
    """
    return list(script._upgrade_revs(target, heads))  # type: ignore[arg-type]


def downgrade_steps(script: ScriptDirectory, target: str, heads: t.Any) -> list[t.Any]:
    """The steps from ``heads`` down to ``target``, as ``alembic downgrade``
    builds them with ``ScriptDirectory._downgrade_revs``.
    """
    return list(script._downgrade_revs(target, heads))


def stamp_steps(
    script: ScriptDirectory, target: str | list[str], heads: t.Any
) -> list[t.Any]:
    """The version table changes that set it to ``target``, as ``alembic
    stamp`` builds them with ``ScriptDirectory._stamp_revs``.
    """
    return list(script._stamp_revs(target, heads))


def set_migrations_fn(context: MigrationContext, fn: MigrationsFn) -> None:
    """Give a context the function that decides what it runs.

    ``EnvironmentContext.configure(fn=...)`` would set this, but the contexts
    are configured before the command that runs is known, and several are
    configured for several databases. There is no public setter.
    """
    context._migrations_fn = fn


def make_revision_context(
    config: Config, script: ScriptDirectory, command_args: dict[str, t.Any]
) -> RevisionContext:
    """Build the object ``alembic revision`` uses to autogenerate and render a
    revision. It is not exported by Alembic's public API.
    """
    return RevisionContext(config, script, command_args)


def version_locations(script: ScriptDirectory) -> list[str]:
    """The version locations the script directory searches, resolved.

    ``ScriptDirectory._version_locations`` resolves package resources and the
    script location's default; ``mkdir`` creates each of them.
    """
    return [str(path) for path in script._version_locations]


def applied_ids(
    revision_map: revision_mod.RevisionMap, heads: t.Iterable[str]
) -> set[str]:
    """The ids of every revision a database at ``heads`` has applied: the
    heads and all revisions below them, following ``depends_on`` too, as the
    version table records only the tips. ``RevisionMap._get_ancestor_nodes``
    is the walk Alembic itself uses for ``upgrade``; there is no public
    equivalent.
    """
    revs = [revision_map.get_revision(head) for head in heads]
    nodes = revision_map._get_ancestor_nodes([r for r in revs if r is not None])
    return {node.revision for node in nodes}


def inherit_branch_labels(script: ScriptDirectory, revision: Script | None) -> None:
    """Give a revision just written the branch labels of its ancestors, as it
    would have when the history is read from its files.

    ``RevisionMap.add_revision``, which ``generate_revision`` calls, only
    spreads the new revision's own labels; loading the map also spreads each
    ancestor's labels down to its descendants. Without this, ``heads`` would
    show a revision made in this process without its branch label. The
    labels a revision declares itself are in ``Revision._orig_branch_labels``.
    """
    if revision is None:
        return

    ancestors = script.revision_map._get_ancestor_nodes(
        [revision], include_dependencies=False
    )

    for ancestor in ancestors:
        revision.branch_labels.update(ancestor._orig_branch_labels)


@contextlib.contextmanager
def translate_errors(script: ScriptDirectory | None = None) -> cabc.Iterator[None]:
    """Turn Alembic's revision errors into flask_alembic's, keeping the data
    they carry. Alembic raises its typed errors (``ResolutionError``,
    ``MultipleHeads``) from inside ``CommandError``; the typed cause is what
    says which revision was wrong.

    :param script: Used to suggest revision ids close to an unknown one.
    """
    try:
        yield
    except (RevisionError, HistoryError):
        raise
    except (util.CommandError, revision_mod.RevisionError) as e:
        cause: BaseException = e

        if isinstance(e, util.CommandError) and isinstance(
            e.__cause__, revision_mod.RevisionError
        ):
            cause = e.__cause__

        if isinstance(cause, revision_mod.MultipleHeads):
            raise MultipleHeadsError(cause.heads, cause.argument or "head") from e

        if isinstance(cause, revision_mod.ResolutionError):
            known = _known_names(script) if script is not None else []
            close = difflib.get_close_matches(cause.argument, known, n=3)
            raise UnknownRevisionError(cause.argument, close) from e

        message = str(e)

        if message.startswith("Relative revision"):
            # "Relative revision -5 didn't produce 5 migrations": there are
            # fewer revisions in that direction than steps asked for.
            message += (
                ": there are fewer revisions in that direction. Run"
                " 'flask db log' to list them."
            )

        raise RevisionError(message) from e


def _known_names(script: ScriptDirectory) -> list[str]:
    names: list[str] = []

    try:
        for rev in script.walk_revisions():
            names.append(rev.revision)
            names.extend(rev.branch_labels)
    except util.CommandError:
        # A broken history has no suggestions to offer.
        pass

    return names


def load_scripts(
    script: ScriptDirectory,
) -> tuple[list[Script], list[tuple[str, BaseException]]]:
    """Load every revision file in the script directory's version locations,
    one at a time, so that a file that cannot be loaded is reported by path
    instead of stopping the whole history.

    This is ``ScriptDirectory._load_revisions``, which raises on the first
    bad file, with ``Script._list_py_dir`` and ``Script._from_path`` doing
    the listing and loading as they do there.

    :return: The revisions, and ``(path, exception)`` for each file that
        could not be loaded.
    """
    scripts: list[Script] = []
    failed: list[tuple[str, BaseException]] = []
    seen: set[t.Any] = set()

    for location in script._version_locations:
        if not location.exists():
            continue

        for file_path in Script._list_py_dir(script, location):
            real_path = file_path.resolve()

            if real_path in seen:
                continue

            seen.add(real_path)

            try:
                loaded = Script._from_path(script, real_path)
            except Exception as e:
                failed.append((str(real_path), e))
                continue

            if loaded is not None:
                scripts.append(loaded)

    return scripts, failed


def use_loader(
    script: ScriptDirectory, loader: t.Callable[[], cabc.Iterable[Script]]
) -> None:
    """Make a script directory build its revision map from ``loader``.

    ``ScriptDirectory.__init__`` builds its map from ``_load_revisions``;
    the map loads lazily, on first use, so replacing it before any use
    changes nothing else.
    """
    script.revision_map = revision_mod.RevisionMap(loader)


@contextlib.contextmanager
def purging(
    contexts: cabc.Iterable[MigrationContext], purge: bool
) -> cabc.Iterator[None]:
    """Make contexts empty their version table before they run, as
    ``alembic stamp --purge`` does through ``configure(purge=True)``.

    The contexts here are configured once and reused, so the option is set
    on them for one run: ``MigrationContext.purge`` has no public setter.
    """
    contexts = list(contexts)

    for context in contexts:
        context.purge = purge

    try:
        yield
    finally:
        for context in contexts:
            context.purge = False
