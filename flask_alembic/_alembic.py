"""Every use of Alembic's private API, in one place.

Alembic's public entry points are its ``command`` functions, which print and
read ``env.py``. flask_alembic replaces ``env.py``, so it drives the same
machinery those commands drive. Each wrapper says why it is needed; when
Alembic changes, this is the only module to update. The two private
SQLAlchemy dialect methods autogenerate is made cheaper through
(:func:`quick_reflection`) are here too.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import difflib
import functools
import importlib.util
import logging
import os
import re
import types
import typing as t
from pathlib import Path

from alembic import util
from alembic.autogenerate import RevisionContext
from alembic.config import Config
from alembic.runtime import migration
from alembic.runtime.migration import MigrationContext
from alembic.script import base as script_base
from alembic.script import revision as revision_mod
from alembic.script import Script
from alembic.script import ScriptDirectory
from sqlalchemy import BIGINT
from sqlalchemy import INTEGER

from . import _gc
from .errors import HistoryError
from .errors import MultipleHeadsError
from .errors import Problem
from .errors import RevisionError
from .errors import UnknownRevisionError
from .headers import Header
from .headers import HeaderCache

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


class _DeferringHeadMaintainer(migration.HeadMaintainer):
    """Keeps the version table's rows for a run of migrations, as Alembic's
    ``HeadMaintainer`` does, and can leave writing them to the end.

    ``MigrationContext.run_migrations`` writes the version table after every
    step. In one transaction that only costs time, and on PostgreSQL more
    with every step: each update leaves a dead row version that the next
    must pass over. When a context is marked by :func:`defer_version_writes`,
    the steps change the heads in memory and :func:`write_versions` writes
    where they arrived, once, in the same transaction. Unmarked contexts
    behave exactly as in Alembic. ``run_migrations`` makes its maintainer
    from the module's ``HeadMaintainer``, which has no other hook: this
    class replaces it there.
    """

    def __init__(self, context: MigrationContext, heads: t.Any) -> None:
        super().__init__(context, heads)
        self.written = set(self.heads)
        self.deferred: bool = getattr(context, "_flask_alembic_defer", False)

        if self.deferred:
            context._flask_alembic_maintainer = self  # type: ignore[attr-defined]

    def _insert_version(self, version: str) -> None:
        if not self.deferred:
            super()._insert_version(version)
            return

        assert version not in self.heads
        self.heads.add(version)

    def _delete_version(self, version: str) -> None:
        if not self.deferred:
            super()._delete_version(version)
            return

        self.heads.remove(version)

    def _update_version(self, from_: str, to_: str) -> None:
        if not self.deferred:
            super()._update_version(from_, to_)
            return

        assert to_ not in self.heads
        self.heads.remove(from_)
        self.heads.add(to_)

    def write(self) -> None:
        """Replace the rows the run started from with the heads it reached,
        with Alembic's own statements and row count checks.
        """
        reached = set(self.heads)
        removed = sorted(self.written - reached)
        added = sorted(reached - self.written)
        self.heads = set(self.written)
        self.deferred = False

        for old, new in zip(removed, added, strict=False):
            self._update_version(old, new)

        for old in removed[len(added) :]:
            self._delete_version(old)

        for new in added[len(removed) :]:
            self._insert_version(new)

        self.written = set(self.heads)
        self.deferred = True


migration.HeadMaintainer = _DeferringHeadMaintainer  # type: ignore[misc]


def defer_version_writes(context: MigrationContext) -> bool:
    """Make a context's next run write its version table once, at the end,
    if the whole run is one transaction: a failure then rolls back every
    step, and the rows were never seen between steps. Not for offline SQL,
    non-transactional DDL or ``transaction_per_migration``.

    :return: Whether the writes are deferred; then the migrations function
        must call :func:`write_versions` after the last step.
    """
    defer = bool(
        context.impl.transactional_ddl
        and not context.as_sql
        and not context._transaction_per_migration
    )
    context._flask_alembic_defer = defer  # type: ignore[attr-defined]
    context._flask_alembic_maintainer = None  # type: ignore[attr-defined]
    return defer


def write_versions(context: MigrationContext) -> None:
    """Write the version table rows a deferred run has reached."""
    maintainer = getattr(context, "_flask_alembic_maintainer", None)

    if isinstance(maintainer, _DeferringHeadMaintainer):
        maintainer.write()


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


def revision_by_id(
    revision_map: revision_mod.RevisionMap, ident: str
) -> revision_mod.Revision | None:
    """The revision with an exact id, or ``None``.

    ``RevisionMap.get_revision`` also resolves prefixes, labels and symbols,
    which makes walking thousands of revisions by id slow; its dict of
    revisions by id, ``_revision_map``, has no public accessor.
    """
    rev: revision_mod.Revision | None = revision_map._revision_map.get(ident)

    if rev is None or rev.revision != ident:
        # Not an id: let Alembic resolve it, and raise as it does.
        return revision_map.get_revision(ident)

    return rev


def own_labels(revision: revision_mod.Revision) -> tuple[str, ...]:
    """The branch labels a revision declares in its file.

    ``Revision.branch_labels`` also holds the labels it inherits from its
    ancestors and descendants; the declared ones are only in
    ``Revision._orig_branch_labels``.
    """
    return tuple(revision._orig_branch_labels)


def dependency_ids(revision: revision_mod.Revision) -> tuple[str, ...]:
    """The ids of the revisions a revision's ``depends_on`` names, a branch
    label standing for the revision that declares it.

    ``RevisionMap`` resolves them into ``Revision._resolved_dependencies``
    when it is built; ``Revision.dependencies`` is the raw ``depends_on``.
    """
    return tuple(revision._resolved_dependencies)


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
    script: ScriptDirectory, cache: bool = True, show: t.Callable[[str], str] = str
) -> tuple[list[Script], list[tuple[str, BaseException]]]:
    """Load every revision file in the script directory's version locations,
    one at a time, so that a file that cannot be loaded is reported by path
    instead of stopping the whole history.

    This is ``ScriptDirectory._load_revisions``, which raises on the first
    bad file, with ``Script._from_path`` loading each file as it does there,
    and the same files in the same order as ``Script._list_py_dir``. A file
    whose header is in the :mod:`~flask_alembic.headers` cache is not
    executed: its :class:`Script` gets a module that executes the file when
    anything beyond the header is used, as ``upgrade`` is when it runs.
    An ``env.py`` in the script location is never loaded.

    :param cache: Use and update the header cache. A file that is not in
        it is compiled from its source, not from Python's bytecode cache,
        which judges freshness by size and modification time to the second:
        a header read from stale bytecode would be kept under the file's new
        key.
    :param show: Turns a path into the form errors show it in.
    :return: The revisions, and ``(path, exception)`` for each file that
        could not be loaded.
    """
    scripts: list[Script] = []
    failed: list[tuple[str, BaseException]] = []
    seen: set[str] = set()
    script_dir = os.path.realpath(script.dir)

    if script.sourceless:
        # Compiled files are listed by Alembic's own rules; they are rare
        # enough not to be cached.
        cache = False

    for location in script._version_locations:
        if not location.exists():
            continue

        headers = HeaderCache(str(location), enabled=cache)

        for name, real_path, stat in _list_revision_files(script, location):
            if real_path in seen or _is_environment(real_path, script_dir):
                continue

            seen.add(real_path)
            header = headers.get(name, stat) if stat is not None else None

            if header is not None:
                scripts.append(_cached_script(header, real_path, show))
                continue

            try:
                if cache:
                    loaded = _from_source(script, real_path)
                else:
                    loaded = Script._from_path(script, real_path)
            except Exception as e:
                failed.append((real_path, e))
                continue

            if loaded is None:
                continue

            scripts.append(loaded)
            header = _header(loaded.module)

            if header is not None and stat is not None:
                headers.put(name, stat, header)

        headers.save()

    return scripts, failed


def _is_environment(path: str, script_dir: str) -> bool:
    """Whether a file is the script location's ``env.py``, or its compiled
    form, left by Flask-Migrate or ``alembic init``. Alembic's own commands
    run it as the environment; it is never a revision, and executing it as
    one would run its code, which expects Flask-Migrate, on every command.
    """
    if not path.endswith(("env.py", ".pyc")):
        return False

    directory, name = os.path.split(path)

    if not (name == "env.py" or (name.startswith("env.") and name.endswith(".pyc"))):
        return False

    if os.path.basename(directory) == "__pycache__":
        directory = os.path.dirname(directory)

    return directory == script_dir


def _list_revision_files(
    script: ScriptDirectory, location: Path
) -> cabc.Iterator[tuple[str, str, os.stat_result | None]]:
    """The files a version location holds, as ``Script._list_py_dir`` lists
    them: sorted by name, subdirectories after files and only when
    ``recursive_version_locations`` is set, ``__pycache__`` left out unless
    ``sourceless`` is. Gives each file's name relative to the location, its
    resolved path, and its ``os.stat()`` (``None`` for compiled files).
    """
    if script.sourceless:
        for path in Script._list_py_dir(script, location):
            yield path.name, str(path.resolve()), None
        return

    real_location = os.path.realpath(location)
    pending = [("", real_location)]

    while pending:
        prefix, directory = pending.pop()

        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue

        subdirectories = []

        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    subdirectories.append(entry)
                continue

            if not _SOURCE_FILE.match(entry.name):
                continue

            try:
                stat = entry.stat()
            except OSError:
                # A dangling link: loading it reports the error.
                stat = None

            real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
            yield prefix + entry.name, real, stat

        if script.recursive_version_locations:
            pending.extend(
                (f"{prefix}{entry.name}/", entry.path)
                for entry in reversed(subdirectories)
            )


#: The revision files ``Script._from_path`` loads, when not ``sourceless``.
_SOURCE_FILE = script_base._only_source_rev_file


def _header(module: types.ModuleType) -> Header | None:
    """The header of a revision module just loaded, if it can be cached: it
    declares its id, as every revision since Alembic 0.2 does, and its
    docstring is text.
    """
    if not isinstance(getattr(module, "revision", None), str) or hasattr(
        module, "_alembic_source_encoding"
    ):
        return None

    return Header(
        module.revision,
        module.down_revision,
        getattr(module, "branch_labels", None),
        getattr(module, "depends_on", None),
        module.__doc__,
    )


def _from_source(script: ScriptDirectory, path: str) -> Script | None:
    """``Script._from_path`` on a source file, compiling its current text."""
    name = re.sub(r"\W", "_", os.path.basename(path))
    spec = importlib.util.spec_from_file_location(name, path)

    if spec is None:
        return Script._from_path(script, path)

    module = importlib.util.module_from_spec(spec)

    with open(path, "rb") as file:
        code = compile(file.read(), path, "exec", dont_inherit=True)

    exec(code, module.__dict__)

    if not isinstance(getattr(module, "revision", None), str):
        # Ids from file names, for files of Alembic 0.1: Alembic's rules.
        return Script._from_path(script, path)

    return Script(module, module.revision, path)


def _cached_script(header: Header, path: str, show: t.Callable[[str], str]) -> Script:
    module = t.cast(types.ModuleType, _LazyModule(header, path, show))

    if _is_plain(header) and _plain_scripts_match():
        return _plain_script(module, header, path)

    return Script(module, header.revision, path)


def _is_plain(header: Header) -> bool:
    """Whether a header is the common kind: one parent or none, no labels
    and no dependencies.
    """
    down = header.down_revision
    return (
        header.branch_labels is None
        and header.depends_on is None
        and (down is None or (isinstance(down, str) and down != header.revision))
    )


def _plain_script(module: types.ModuleType, header: Header, path: str) -> Script:
    """The :class:`Script` of a plain header, with the attributes
    ``Revision.__init__`` would set, without its normalising calls: a
    fifth of the time of reading 3000 cached revisions went to them.
    """
    Script.verify_rev_id(header.revision)
    script = Script.__new__(Script)
    script.__dict__.update(
        module=module,
        path=path,
        revision=header.revision,
        down_revision=header.down_revision,
        dependencies=None,
        _orig_branch_labels=(),
        branch_labels=set(),
    )
    return script


@functools.cache
def _plain_scripts_match() -> bool:
    """Whether :func:`_plain_script` builds what Alembic's constructor
    builds, checked once against this Alembic; if not, the constructor is
    used.
    """
    header = Header("b", "a", None, None, None)
    module = t.cast(types.ModuleType, types.SimpleNamespace(**header._asdict()))
    built = Script(module, "b", "/b.py")
    return vars(built) == vars(_plain_script(module, header, "/b.py"))


class _LazyModule:
    # Stands for a revision's module, holding the values of its header. Its
    # ``upgrade`` and ``downgrade`` execute the file when they are called,
    # which is when the revision runs (Alembic looks them up for every step
    # before running any). Any other use executes the file at once, and
    # reads from the module it makes. Slots keep thousands of them small.

    __slots__ = ("_header", "_path", "_show", "_module")

    #: Set on modules of Python 2 era files; a cached module has none.
    _ABSENT = frozenset({"_alembic_source_encoding"})

    def __init__(
        self, header: Header, path: str, show: t.Callable[[str], str] = str
    ) -> None:
        self._header = header
        self._path = path
        self._show = show
        self._module: types.ModuleType | None = None

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self._header.doc

    @property
    def __file__(self) -> str:
        return self._path

    @property
    def __name__(self) -> str:
        return re.sub(r"\W", "_", os.path.basename(self._path))

    @property
    def revision(self) -> str:
        return self._header.revision

    @property
    def down_revision(self) -> t.Any:
        return self._header.down_revision

    @property
    def branch_labels(self) -> t.Any:
        return self._header.branch_labels

    @property
    def depends_on(self) -> t.Any:
        return self._header.depends_on

    def __getattr__(self, name: str) -> t.Any:
        if name in self._ABSENT or name.startswith("__"):
            raise AttributeError(name)

        if self._module is None and name in ("upgrade", "downgrade"):
            return _LazyFunction(self, name)

        return getattr(self.load(), name)

    def load(self) -> types.ModuleType:
        """Execute the file, once until :meth:`release`.

        :raise HistoryError: If the file's header is not the one cached,
            having changed since the history was read.
        """
        if self._module is not None:
            return self._module

        directory, filename = os.path.split(self._path)
        module = util.load_python_file(directory, filename)

        if _header(module) != self._header:
            shown = self._show(self._path)
            raise HistoryError(
                [
                    Problem(
                        "unloadable",
                        f"{shown}: changed while the command was running. Run"
                        " it again.",
                        (shown,),
                        (self.revision,),
                    )
                ]
            )

        self._module = module
        return module

    def release(self) -> None:
        """Let the module be freed; the next use executes the file again."""
        self._module = None


class _LazyFunction:
    """A revision's ``upgrade`` or ``downgrade``, executing its file when
    called.
    """

    __slots__ = ("_module", "__name__")

    def __init__(self, module: _LazyModule, name: str) -> None:
        self._module = module
        self.__name__ = name

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return getattr(self._module.load(), self.__name__)(*args, **kwargs)


def use_loader(
    script: ScriptDirectory, loader: t.Callable[[], cabc.Iterable[Script]]
) -> None:
    """Make a script directory build its revision map from ``loader``, which
    must have checked the history for cycles.

    ``ScriptDirectory.__init__`` builds its map from ``_load_revisions``;
    the map loads lazily, on first use, so replacing it before any use
    changes nothing else.
    """
    script.revision_map = _CheckedRevisionMap(loader)


def release_module(step: t.Any) -> None:
    """Let the module of a migration step's revision be freed, if it was
    loaded from the header cache's :class:`_LazyModule`. A ``RevisionStep``
    holds its ``Script`` as ``revision``; stamp steps hold none.
    """
    module = getattr(getattr(step, "revision", None), "module", None)

    if isinstance(module, _LazyModule):
        module.release()


#: ``RevisionMap._revision_map``'s function: it is a memoized property.
_build_revision_map = revision_mod.RevisionMap.__dict__["_revision_map"].fget


class _CheckedRevisionMap(revision_mod.RevisionMap):
    """A revision map for a history already checked, cheaper to build and
    walk than Alembic's: ``_detect_cycles`` walks the whole graph twice to
    find the cycles that :func:`history.check_graph` has already reported,
    the map is built with the garbage collector paused, and the sort does
    not walk the history again at every merge.
    """

    def _detect_cycles(self, *args: t.Any) -> None:
        pass

    def _normalize_depends_on(
        self, revisions: cabc.Collection[t.Any], map_: t.Any
    ) -> None:
        """Drop from each revision's dependencies those an ancestor already
        has, as Alembic does, but walking the history once where Alembic
        walks each dependent revision's ancestors again (a tenth of a second
        for 150 dependent revisions among 3000). If the map is not what the
        walk expects, Alembic's own method runs; it also does each revision
        that loses more than one dependency, to keep Alembic's order.
        """
        alembics = super()._normalize_depends_on

        try:
            _normalize_dependencies(revisions, map_, alembics)
        except KeyError:
            alembics(revisions, map_)

    @util.memoized_property
    def _revision_map(self) -> t.Any:
        # Reading and linking thousands of revisions allocates objects the
        # map keeps: a collection meanwhile walks them all and frees nothing
        # (a sixth of the time of status at 3000 revisions).
        with _gc.sparing():
            return _build_revision_map(self)

    def _topological_sort(
        self, revisions: cabc.Collection[t.Any], heads: t.Any
    ) -> list[str]:
        """The order ``log``, ``branches`` and upgrades walk revisions in:
        Alembic's, computed as Alembic computes it, except that each head's
        ancestors are bits of an integer, built once per revision, where
        Alembic walks the history again for each head at every merge
        (3000 revisions with 375 merges: seconds). If the map is not what
        the bits expect, Alembic's own sort runs.
        """
        try:
            return _sort_topologically(self._revision_map, revisions, heads)
        except (KeyError, AttributeError):
            return super()._topological_sort(revisions, heads)


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


#: The tables and columns that own each sequence, with the sequence named as
#: PostgreSQL prints a ``regclass``: the form ``nextval('...'::regclass)``
#: defaults use, under the same ``search_path``.
_OWNED_SEQUENCES = """\
select c.oid::regclass::text, c.relname, a.attname
from pg_class as c
join pg_depend d on d.objid = c.oid
    and d.classid = 'pg_class'::regclass
    and d.refclassid = 'pg_class'::regclass
join pg_class t on t.oid = d.refobjid
join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
where c.relkind = 'S'
"""

_NEXTVAL = re.compile(r"nextval\('(.+?)'::regclass\)")
_postgresql_log = logging.getLogger("alembic.ddl.postgresql")


@contextlib.contextmanager
def quick_reflection(context: MigrationContext) -> cabc.Iterator[None]:
    """Answer the per-table questions autogenerate asks more than once, or
    once per table, with fewer queries, for one comparison on the context's
    connection. The answers are the ones the queries would give.

    - PostgreSQL: Alembic's ``PostgresqlImpl.autogen_column_reflect`` asks
      which column owns each ``nextval`` default's sequence, one query per
      integer column with such a default (a query per table for ``serial``
      keys). One query fetches every owned sequence instead; a sequence it
      did not see is still asked about as Alembic would.
    - SQLite: the dialect reads each table's ``CREATE`` statement three times
      and its index list and each index's columns twice, because its
      reflection methods call ``_get_table_sql`` and ``_get_table_pragma``
      without the inspector's cache. Their results are kept for this
      connection until the block ends.
    """
    connection = context.connection

    if connection is None or context.as_sql:
        yield
        return

    quick: t.ContextManager[None]

    if context.dialect.name == "postgresql":
        quick = _quick_sequences(context)
    elif context.dialect.name == "sqlite":
        quick = _quick_sqlite(connection)
    else:
        quick = contextlib.nullcontext()

    with quick:
        yield


@contextlib.contextmanager
def _quick_sqlite(connection: t.Any) -> cabc.Iterator[None]:
    dialect = connection.dialect
    names = ("_get_table_sql", "_get_table_pragma")

    # Another comparison on the same engine's dialect has its own in place.
    if any(name in vars(dialect) for name in names):
        yield
        return

    memo: dict[tuple[t.Any, ...], t.Any] = {}

    def remember(name: str) -> t.Callable[..., t.Any]:
        original = getattr(dialect, name)

        def call(conn: t.Any, *args: t.Any, **kw: t.Any) -> t.Any:
            if conn is not connection:
                return original(conn, *args, **kw)

            key = (
                name,
                *((a, getattr(a, "quote", None)) for a in args),
                kw.get("schema"),
            )

            if key not in memo:
                memo[key] = original(conn, *args, **kw)

            return memo[key]

        return call

    for name in names:
        setattr(dialect, name, remember(name))

    try:
        yield
    finally:
        for name in names:
            delattr(dialect, name)


@contextlib.contextmanager
def _quick_sequences(context: MigrationContext) -> cabc.Iterator[None]:
    impl = context.impl

    if "autogen_column_reflect" in vars(impl):
        yield
        return

    original: t.Callable[..., None] = impl.autogen_column_reflect
    owners: dict[str, tuple[str, str] | None] | None = None

    def autogen_column_reflect(inspector: t.Any, table: t.Any, info: t.Any) -> None:
        nonlocal owners
        default = info.get("default")
        match = _NEXTVAL.match(default) if isinstance(default, str) else None

        if match is None or not isinstance(info["type"], (INTEGER, BIGINT)):
            return original(inspector, table, info)

        if owners is None:
            assert context.connection is not None
            owners = {}

            for name, relname, column in context.connection.exec_driver_sql(
                _OWNED_SEQUENCES
            ):
                # A sequence with two owners is left to Alembic's query.
                owners[name] = None if name in owners else (relname, column)

        owner = owners.get(match.group(1))

        if owner is None:
            # Not owned, or named in a form this query did not print.
            return original(inspector, table, info)

        sequence, column = owner

        if column == info["name"]:
            # What Alembic does when its query finds this owner.
            _postgresql_log.info(
                "Detected sequence named '%s' as owned by integer column "
                "'%s(%s)', assuming SERIAL and omitting",
                sequence,
                table.name,
                column,
            )
            del info["default"]

        return None

    # Set on the context's own impl, for one comparison: a later one asks
    # again, in case owners changed in between.
    impl.autogen_column_reflect = autogen_column_reflect  # type: ignore[method-assign]

    try:
        yield
    finally:
        del impl.autogen_column_reflect


_V = t.TypeVar("_V")


def _folding(
    id_to_rev: cabc.Mapping[t.Any, t.Any],
    downs_of: t.Callable[[t.Any], tuple[str, ...]],
    fold: t.Callable[[str, t.Any, list[_V]], _V],
) -> t.Callable[[str], _V]:
    """A function giving, for a revision, ``fold(rev_id, revision, values)``
    with the values of its down revisions as ``downs_of`` names them,
    computed parents first and remembered, without recursion: histories
    are deep. A label, a broken map or a cycle raise :exc:`KeyError`, for
    the caller to let Alembic's own code report.
    """
    memo: dict[str, _V] = {}
    expanded: set[str] = set()

    def of(rev_id: str) -> _V:
        stack = [rev_id]

        while stack:
            node = stack[-1]

            if node in memo:
                stack.pop()
                continue

            rev = id_to_rev[node]

            if rev is None or rev.revision != node:
                raise KeyError(node)

            downs = downs_of(rev)
            missing = [d for d in downs if d not in memo]

            if missing:
                if node in expanded:
                    # Its parents were all walked and one still waits on
                    # it: a cycle.
                    raise KeyError(node)

                expanded.add(node)
                stack.extend(missing)
                continue

            stack.pop()
            memo[node] = fold(node, rev, [memo[d] for d in downs])

        return memo[rev_id]

    return of


def _ancestor_bits(
    id_to_rev: cabc.Mapping[t.Any, t.Any], index: dict[str, int]
) -> t.Callable[[str], int]:
    """A function giving a revision and its ancestors through down revisions
    and dependencies, the set ``RevisionMap._get_ancestor_nodes`` walks, as
    the bits of an integer: bit ``index[rev_id]`` for each.
    """

    def fold(rev_id: str, rev: t.Any, parents: list[int]) -> int:
        bits = 1 << index.setdefault(rev_id, len(index))

        for ancestors in parents:
            bits |= ancestors

        return bits

    return _folding(id_to_rev, lambda rev: rev._normalized_down_revisions, fold)


def _normalize_dependencies(
    revisions: cabc.Collection[t.Any],
    map_: cabc.Mapping[t.Any, t.Any],
    alembics: t.Callable[[cabc.Collection[t.Any], t.Any], None],
) -> None:
    # RevisionMap._normalize_depends_on of Alembic 1.x, whose tuples come
    # from a set: built as Alembic builds it, so in the same order, as long
    # as at most one dependency is dropped. Dropping more can shrink the
    # set's table, and its order then depends on how the dropping was
    # batched: Alembic's own method does those revisions, one ancestor at a
    # time. An ancestor seldom declares the same dependency.
    none: frozenset[str] = frozenset()

    def fold(rev_id: str, rev: t.Any, parents: list[frozenset[str]]) -> frozenset[str]:
        if not rev._resolved_dependencies and len(parents) == 1:
            return parents[0]  # shared, not copied, down a line

        return none.union(rev._resolved_dependencies, *parents)

    # A revision's dependencies and its ancestors' through down revisions.
    inherited = _folding(map_, lambda rev: rev._versioned_down_revisions, fold)

    for revision in revisions:
        if not revision._resolved_dependencies:
            revision._normalized_resolved_dependencies = ()
            continue

        normalized = set(revision._resolved_dependencies)
        declared = len(normalized)

        for down in revision._versioned_down_revisions:
            normalized.difference_update(inherited(down))

        if declared - len(normalized) > 1:
            alembics([revision], map_)
        else:
            revision._normalized_resolved_dependencies = tuple(normalized)


def _sort_topologically(
    id_to_rev: cabc.Mapping[t.Any, t.Any],
    revisions: cabc.Collection[t.Any],
    heads: t.Any,
) -> list[str]:
    # RevisionMap._topological_sort of Alembic 1.x, step for step; only
    # get_ancestors differs.
    index: dict[str, int] = {}
    get_ancestors = _ancestor_bits(id_to_rev, index)
    todo = {d.revision for d in revisions}
    inserted_order = list(id_to_rev)
    current_heads = sorted(
        {d.revision for d in heads if d.revision in todo},
        key=inserted_order.index,
    )
    ancestors_by_idx = [get_ancestors(rev_id) for rev_id in current_heads]
    output = []
    current_candidate_idx = 0

    while current_heads:
        candidate = current_heads[current_candidate_idx]
        # Numbered already: every candidate is a head or an ancestor of one.
        bit = 1 << index[candidate]

        for check_head_index, ancestors in enumerate(ancestors_by_idx):
            # Another head that depends on the candidate goes first.
            if check_head_index != current_candidate_idx and ancestors & bit:
                current_candidate_idx = check_head_index
                break
        else:
            if candidate in todo:
                output.append(candidate)
                todo.remove(candidate)

            candidate_rev = id_to_rev[candidate]
            heads_to_add = [
                r
                for r in candidate_rev._normalized_down_revisions
                if r in todo and r not in current_heads
            ]

            if not heads_to_add:
                del current_heads[current_candidate_idx]
                del ancestors_by_idx[current_candidate_idx]
                current_candidate_idx = max(current_candidate_idx - 1, 0)
            elif (
                not candidate_rev._normalized_resolved_dependencies
                and len(candidate_rev._versioned_down_revisions) == 1
            ):
                current_heads[current_candidate_idx] = heads_to_add[0]
                ancestors_by_idx[current_candidate_idx] &= ~bit
            else:
                current_heads[current_candidate_idx] = heads_to_add[0]
                current_heads.extend(heads_to_add[1:])
                ancestors_by_idx[current_candidate_idx] = get_ancestors(heads_to_add[0])
                ancestors_by_idx.extend(get_ancestors(h) for h in heads_to_add[1:])

    if todo:
        raise KeyError(todo)  # what Alembic asserts: let it report

    return output
