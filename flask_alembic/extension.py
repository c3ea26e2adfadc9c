"""The :class:`Alembic` extension: Flask wiring, per-app state and the Python
API. The work is done by the modules it calls: ``config`` validates,
``targets`` finds databases, ``branches`` resolves requests, ``runner`` runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import re
import shutil
import typing as t
import warnings
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from alembic import autogenerate
from alembic import util
from alembic.config import Config
from alembic.operations import MigrationScript
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from alembic.script import ScriptDirectory
from flask import current_app
from flask import Flask
from flask.ctx import AppContext
from flask.globals import app_ctx

from . import _alembic
from . import _async
from . import _gc
from . import history
from . import runner
from .branches import resolver
from .branches.registry import Branch
from .branches.registry import build_registry
from .branches.registry import DEFAULT_BRANCH
from .branches.registry import Registry
from .branches.resolver import RevisionArg
from .branches.status import all_branches
from .branches.status import branch_status
from .branches.status import BranchStatus
from .config import AlembicSettings
from .config import bind_context_options
from .config import ContextSettings
from .config import load_settings
from .config import make_alembic_config
from .config import resolve_path
from .config import show_path
from .errors import ConfigError
from .errors import DatabaseError
from .errors import DuplicateRevisionIdError
from .errors import HistoryError
from .errors import NotUpToDateError
from .errors import Problem
from .errors import RevisionError
from .errors import UnknownBindError
from .graph import render as render_graph
from .layout import find_layout
from .layout import Layout
from .layout import report_unused
from .runner import BindRun
from .targets import AnyEngine
from .targets import check_distinct
from .targets import find_bind_targets
from .targets import find_targets
from .targets import metadata_list
from .targets import MetaDatas
from .targets import normalize_engines
from .targets import normalize_metadatas
from .targets import reading
from .targets import safe_url
from .targets import Target


@dataclasses.dataclass(frozen=True)
class BindPlan:
    """What an ``upgrade`` or ``downgrade`` would run on one database, as
    :meth:`Alembic.plan` returns it.

    .. versionadded:: 4.0
    """

    #: The database's name.
    bind: str
    #: ``"upgrade"`` or ``"downgrade"``.
    operation: str
    #: The revision ids the database is at.
    current: tuple[str, ...]
    #: The revisions that would run, in order. Empty if there is nothing to
    #: run.
    revisions: tuple[Script, ...]


#: One difference autogenerate found, as Alembic describes it: a tuple such
#: as ``("add_table", Table)``, or a list of ``modify_*`` tuples.
Diff = t.Any


class Alembic:
    """Provide an Alembic environment and migration API.

    If instantiated without an app instance, :meth:`init_app` is used to
    register an app at a later time. The extension adds no log handlers: the
    ``flask db`` commands show Alembic's progress while they run, and the
    application's own logging configuration is left alone.

    :param app: Call :meth:`init_app` on this app.
    :param run_mkdir: Run :meth:`mkdir` during ``init_app``.
    :param command_name: Register the ``flask db`` command group under this
        name during ``init_app``, unless it is empty.
    :param metadatas: One or more :class:`~sqlalchemy.MetaData` to compare
        databases with. A single metadata or list is the ``"default"``
        database. A dict maps database names to metadata; several names make
        one shared history with an upgrade function per database. With
        Flask-SQLAlchemy, ``db.metadata`` is used if this is not given.
    :param engines: One engine, or a dict of engines named like
        ``metadatas``. With Flask-SQLAlchemy(-Lite), ``db.engines`` is used if
        this is not given, and Flask-SQLAlchemy-Lite's ``db.async_engines``
        for the names it lacks. Engines made with SQLAlchemy's
        :func:`~sqlalchemy.ext.asyncio.create_async_engine` work too.

    .. versionchanged:: 4.0
        Adds no log handlers. A single database may have any name. Async
        engines are migrated, through their ``sync_engine``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        run_mkdir: bool = True,
        command_name: str = "db",
        metadatas: MetaDatas | t.Mapping[str, MetaDatas] | None = None,
        engines: AnyEngine | t.Mapping[str, AnyEngine] | None = None,
    ) -> None:
        self.run_mkdir: bool = run_mkdir
        self.command_name: str = command_name
        self.metadatas: dict[str, MetaDatas] = normalize_metadatas(metadatas)
        self.engines: dict[str, AnyEngine] = normalize_engines(engines)
        self._apps: WeakKeyDictionary[Flask, _AppState] = WeakKeyDictionary()
        self._contexts: WeakKeyDictionary[AppContext, _ContextState] = (
            WeakKeyDictionary()
        )

        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        run_mkdir: bool | None = None,
        command_name: str | None = None,
    ) -> None:
        """Register this extension on an app.

        The configuration is validated first: a mistake raises one
        :exc:`.ConfigError` listing every problem, before anything is written.
        Then the migrations directory is created, unless ``run_mkdir`` is
        false, and the ``flask db`` commands are added.

        In a migrations directory laid out by Flask-Migrate, the revisions
        are in its ``versions`` directory. Its ``env.py`` and ``alembic.ini``
        are not used; a warning on the ``flask_alembic.layout`` logger says
        so, once per process.

        :param app: The app to register.
        :param run_mkdir: Deprecated, pass it to the constructor.
        :param command_name: Deprecated, pass it to the constructor.

        .. versionchanged:: 4.0
            Reads a migrations directory laid out by Flask-Migrate.
        """
        if "alembic" in app.extensions:
            raise RuntimeError(
                "An 'Alembic' extension is already initialized on this app."
                " Import and use that instead."
            )

        for name, value in (("run_mkdir", run_mkdir), ("command_name", command_name)):
            if value is not None:
                warnings.warn(
                    f"Passing '{name}' to 'init_app' is deprecated and will be"
                    " removed in Flask-Alembic 5. Pass it to 'Alembic()' instead.",
                    DeprecationWarning,
                    stacklevel=2,
                )

        # Options given here apply to this app only; other apps registered on
        # the same extension keep the constructor's.
        if run_mkdir is None:
            run_mkdir = self.run_mkdir

        if command_name is None:
            command_name = self.command_name

        # Flask-Alembic 3 put exactly these defaults into the app's config;
        # code reading them back keeps working. Nothing else is written back.
        alembic_config = app.config.setdefault("ALEMBIC", {})
        context_config = app.config.setdefault("ALEMBIC_CONTEXT", {})

        if isinstance(alembic_config, dict):
            alembic_config.setdefault("path_separator", "os")
            alembic_config.setdefault("script_location", "migrations")
            alembic_config.setdefault("version_locations", [])

        if isinstance(context_config, dict):
            context_config.setdefault("compare_server_default", True)

        settings, context_settings = load_settings(alembic_config, context_config)
        layout = find_layout(settings, app.root_path)
        registry = build_registry(settings, app.root_path, layout.versions)
        per_bind = registry.per_bind
        self._check_modes(registry)
        config = make_alembic_config(
            settings,
            app.root_path,
            [] if per_bind else list(self.metadatas),
            layout.versions,
        )
        # Each bind's options, merged once: they are read on every connection.
        bind_options = {
            name: bind_context_options(context_settings, settings.binds.get(name))
            for name in registry.binds
        }
        self._apps[app] = _AppState(
            settings, context_settings, config, registry, bind_options, layout
        )
        app.extensions["alembic"] = self
        app.teardown_appcontext(self._teardown)
        # Flask-Migrate's env.py and alembic.ini are never used; say so once
        # per process, so that they are deleted rather than edited in vain.
        report_unused(layout, lambda path: show_path(path, app.root_path))

        if run_mkdir:
            with app.app_context():
                self.mkdir()

        if command_name:
            from .cli import cli

            app.cli.add_command(cli, command_name)

    def _check_modes(self, registry: Registry) -> None:
        """In per-bind mode every database given to the extension must be a
        bind: a name that is not would be a shared history mixed in.
        """
        if not registry.per_bind:
            return

        known = set(registry.binds)
        problems = []

        for argument, names in (
            ("metadatas", self.metadatas),
            ("engines", self.engines),
        ):
            strays = [name for name in names if name not in known]

            if strays:
                quoted = ", ".join(f"'{name}'" for name in strays)
                problems.append(
                    (
                        "ALEMBIC.binds",
                        f"Alembic({argument}=...) names {quoted}, which is not a"
                        " declared bind. With ALEMBIC['binds'] each database has"
                        " its own history and must be declared there; to keep"
                        " one shared history for every database, remove"
                        " ALEMBIC['binds'] instead",
                    )
                )

        if problems:
            raise ConfigError(problems)

    def _state(self) -> _AppState:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        try:
            return self._apps[app]
        except KeyError:
            raise RuntimeError(
                "The current Flask app is not registered with this 'Alembic'"
                " instance. Did you forget to call 'init_app', or did you"
                " create multiple 'Alembic' instances?"
            ) from None

    def _context_state(self) -> _ContextState:
        self._state()
        ctx = _current_app_context()

        if ctx not in self._contexts:
            self._contexts[ctx] = _ContextState()

        return self._contexts[ctx]

    def _teardown(self, exc: BaseException | None = None) -> None:
        state = self._contexts.pop(_current_app_context(), None)

        if state is not None:
            state.close()

    def rev_id(self) -> str:
        """Generate an id for a new revision: the current UTC timestamp.

        Override this method, or assign a function, to change it. If the id
        is already taken, as when two revisions are made in the same second,
        :meth:`revision` and :meth:`merge` move a numeric id to the next free
        number, and call a custom ``rev_id`` again.
        """
        return str(int(dt.datetime.now(dt.timezone.utc).timestamp()))

    def _unique_rev_id(self) -> str:
        script = self.script_directory
        taken = {rev.revision for rev in script.walk_revisions()}
        rev_id = self.rev_id()
        attempts = 0

        if not _SAFE_ID.match(rev_id):
            raise RevisionError(
                f"The revision id {rev_id!r} from rev_id() is not allowed: use"
                " letters, digits, '_', '.' and '-' only, starting with a"
                " letter, digit or '_'."
            )

        while rev_id in taken:
            attempts += 1

            if rev_id.isdigit():
                rev_id = str(int(rev_id) + 1)
            elif attempts < 10:
                rev_id = self.rev_id()
            else:
                raise DuplicateRevisionIdError(rev_id)

        return rev_id

    @property
    def config(self) -> Config:
        """The Alembic :class:`~alembic.config.Config` for the current app."""
        return self._state().config

    @property
    def script_directory(self) -> ScriptDirectory:
        """The Alembic :class:`~alembic.script.ScriptDirectory` for the
        current app.
        """
        state = self._state()

        if state.script is None:
            with _alembic.translate_errors():
                state.script = ScriptDirectory.from_config(state.config)

            # Library code returns data and never prints: quiet the script
            # directory's "Generating ..." lines, which the CLI prints from
            # what the API returns. The public config is left as it was, for
            # those who call Alembic's own commands with it.
            state.script.messaging_opts = {"quiet": True}
            # Load the history file by file and check it before Alembic builds
            # its map, so a broken history is reported problem by problem.
            script = state.script
            _alembic.use_loader(script, lambda: self._load_history(script))

        return state.script

    def _load_history(self, script: ScriptDirectory) -> list[Script]:
        """The revisions, for the script directory's revision map.

        :raise HistoryError: If a file does not load, or the history has
            duplicate ids, missing references or cycles.
        """
        cache = self._state().settings.cache
        scripts, problems = history.load(script, self._show, cache=cache)

        if problems:
            raise HistoryError(problems)

        return scripts

    def _show(self, path: str) -> str:
        return show_path(path, current_app.root_path)

    @property
    def script(self) -> ScriptDirectory:
        """Another name for :attr:`script_directory`.

        .. versionadded:: 4.0
        """
        return self.script_directory

    @property
    def environment_context(self) -> EnvironmentContext:
        """The Alembic
        :class:`~alembic.runtime.environment.EnvironmentContext` for the
        current app context.
        """
        state = self._context_state()

        if state.env is None:
            state.env = EnvironmentContext(self.config, self.script_directory)

        return state.env

    @property
    def env(self) -> EnvironmentContext:
        """Another name for :attr:`environment_context`.

        .. versionadded:: 4.0
        """
        return self.environment_context

    def _targets(self) -> dict[str, Target]:
        state = self._state()

        if state.targets is None:
            ext = current_app.extensions.get("sqlalchemy")

            if state.registry.per_bind:
                targets = find_bind_targets(
                    state.registry.binds, self.metadatas, self.engines, ext
                )
            else:
                targets = find_targets(self.metadatas, self.engines, ext)

            # Two names on one version table would wait on each other's lock,
            # or read each other's revisions as their own.
            check_distinct(
                targets,
                {name: _version_table(self._options(name)) for name in targets},
                per_bind=state.registry.per_bind,
            )
            state.targets = targets

        return state.targets

    def _options(self, name: str) -> dict[str, t.Any]:
        """The ``configure()`` options of a database, a copy to change."""
        state = self._state()

        if name in state.bind_options:
            return dict(state.bind_options[name])

        # A database of a shared history, named after its metadata.
        return state.context_settings.options()

    def _context_options(self, name: str) -> dict[str, t.Any]:
        """The options a database's migration context is configured with.

        Unless ``render_as_batch`` is set, it is on for SQLite. With per-bind
        histories, the tables of the other binds and their version tables are
        left out of autogenerate's comparison, so that two binds in one
        database never see each other's tables as ones to drop.
        """
        options = self._options(name)

        if options.get("render_as_batch") is None:
            # SQLite can change constraints only by copying the table, which
            # batch mode renders; other databases alter in place.
            dialect = self._targets()[name].engine.dialect.name
            options["render_as_batch"] = dialect == "sqlite"

        if self._per_bind:
            options["include_object"] = _skip_tables(
                self._foreign_tables(name), options.get("include_object")
            )

        return options

    def _foreign_tables(self, name: str) -> set[tuple[str | None, str]]:
        """``(schema, name)`` of the tables of every other database's models,
        and of their version tables.
        """
        foreign: set[tuple[str | None, str]] = set()

        for other, target in self._targets().items():
            if other == name:
                continue

            for metadata in metadata_list(target.metadata):
                foreign.update((t.schema, t.name) for t in metadata.tables.values())

            foreign.add(_version_table(self._options(other)))

        return foreign

    def _mask(self, text: str) -> str:
        """A text with the password of every database URL masked."""
        for target in self._targets().values():
            text = runner.mask_password(text, target.engine.url)

        return text

    @property
    def _per_bind(self) -> bool:
        return self._state().registry.per_bind

    @property
    def _shared(self) -> bool:
        """Whether several databases share one history (``multidb``)."""
        return not self._per_bind and len(self._targets()) > 1

    def _names(self, bind: str | t.Sequence[str] | None) -> list[str]:
        """The names of the databases asked for, in the order they run.

        :raise UnknownBindError: If a name is not a database of the app.
        """
        known = list(self._targets())

        if bind is None:
            return known

        asked = [bind] if isinstance(bind, str) else list(bind)

        for name in asked:
            if name not in known:
                raise UnknownBindError(name, known)

        return [name for name in known if name in asked]

    def _open(self, names: t.Sequence[str]) -> dict[str, MigrationContext]:
        """The migration contexts of some databases, connecting to those not
        yet connected to, all of them before any is used.
        """
        state = self._context_state()
        targets = self._targets()
        missing = [name for name in names if name not in state.contexts]

        if any(targets[name].is_async for name in missing) and not _async.active():
            raise RuntimeError(
                "The migration contexts of async engines can only be used inside"
                " 'Alembic.run_sync()', which runs a function on an event loop:"
                " alembic.run_sync(lambda: alembic.op.create_table(...))."
            )

        if missing:
            state.contexts.update(
                runner.open_contexts(
                    self.environment_context,
                    {name: targets[name] for name in missing},
                    {name: self._context_options(name) for name in missing},
                    multidb=self._shared,
                )
            )

        if list(names) == list(targets):
            # Every database: keep returning the same dict, in their order.
            if list(state.contexts) != list(targets):
                state.contexts = {name: state.contexts[name] for name in targets}

            return state.contexts

        return {name: state.contexts[name] for name in names}

    def _uses_async(self) -> bool:
        """Whether any database is reached through an async engine."""
        try:
            targets = self._targets()
        except Exception:
            # The method reports this itself where it needs the databases.
            return False

        return any(target.is_async for target in targets.values())

    def _close_async(self) -> None:
        """Close the connections of async engines, which belong to the event
        loop that is about to end.
        """
        state = self._contexts.get(_current_app_context())

        if state is None:
            return

        targets = self._targets()
        closing = {
            name: context
            for name, context in state.contexts.items()
            if targets[name].is_async
        }

        if closing:
            state.contexts = {
                name: context
                for name, context in state.contexts.items()
                if name not in closing
            }
            state.ops = None
            runner.close_contexts(closing)

    @_async.bridged
    def run_sync(
        self, fn: t.Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        """Call a function where the migration contexts of async engines
        can be used: :attr:`migration_contexts`, :attr:`ops` and the
        properties built on them. The connections it opened are closed when
        it returns. With plain engines, the function is simply called.

        The extension's own methods do this themselves. While an event loop
        runs in the calling thread, the function runs in a new thread with
        its own event loop, and the caller waits for it.

        :param fn: The function to call.
        :param args: Its positional arguments.
        :param kwargs: Its keyword arguments.
        :return: What ``fn`` returns.

        .. versionadded:: 4.0
        """
        return fn(*args, **kwargs)

    @property
    def migration_contexts(self) -> dict[str, MigrationContext]:
        """A :class:`~alembic.runtime.migration.MigrationContext` for each
        database, by name. Accessing this connects to every database; the
        connections are closed when the app context ends. With async
        engines, use it inside :meth:`run_sync`.

        :raise DatabaseError: If a database cannot be connected to.
        """
        return self._open(list(self._targets()))

    @property
    def migration_context(self) -> MigrationContext:
        """The :class:`~alembic.runtime.migration.MigrationContext` of the
        ``"default"`` database, or of the only database if there is one.
        """
        return _pick_default(self.migration_contexts)

    @property
    def context(self) -> MigrationContext:
        """Another name for :attr:`migration_context`.

        .. versionadded:: 4.0
        """
        return self.migration_context

    @property
    def ops(self) -> dict[str, Operations]:
        """An :class:`~alembic.operations.Operations` for each database, by
        name, each operating on its own database's connection.

        .. versionchanged:: 4.0
            Each name operates on its own database, not on the default one.
        """
        state = self._context_state()

        if state.ops is None:
            state.ops = {
                name: Operations(context)
                for name, context in self.migration_contexts.items()
            }

        return state.ops

    @property
    def op(self) -> Operations:
        """The :class:`~alembic.operations.Operations` of the ``"default"``
        database, or of the only database if there is one.
        """
        return _pick_default(self.ops)

    @_async.bridged
    def run_migrations(
        # Positional-only, so that no keyword for the revisions is taken
        # for it.
        self,
        /,
        fn: _alembic.MigrationsFn,
        **kwargs: t.Any,
    ) -> None:
        """Run a migration function on every database, in place of
        ``env.py``'s ``run_migrations_online``.

        :param fn: Called with each database's current heads and migration
            context; returns the steps to run.
        :param kwargs: Passed to ``upgrade`` or ``downgrade`` in each revision.
        """
        self._run({name: fn for name in self._targets()}, "migrate", **kwargs)

    def _run(
        self,
        fns: dict[str, _alembic.MigrationsFn],
        operation: str,
        purge: bool = False,
        **kwargs: t.Any,
    ) -> dict[str, BindRun]:
        """Run a function on each database it is given for, in order.

        :param purge: Empty each version table first (``stamp --purge``).
        :return: What ran on each database, by name, in the order they ran.
        :raise MigrationError: If a revision fails.
        """
        contexts = self._open(list(fns))
        urls = [target.engine.url for target in self._targets().values()]
        settings = self._state().settings

        with (
            _alembic.translate_errors(self.script_directory),
            _alembic.purging(contexts.values(), purge),
        ):
            return runner.run(
                contexts,
                fns,
                operation=operation,
                together=not self._per_bind,
                engine_names=self._shared,
                urls=urls,
                lock=settings.lock and operation in _WRITES,
                lock_timeout=settings.lock_timeout,
                **kwargs,
            )

    def mkdir(self) -> None:
        """Create the migrations directory, its ``script.py.mako`` template
        and every version location, where they do not exist.

        Alembic's ``generic`` template is used for a single database, and its
        ``multidb`` template for several.
        """
        config = self.config
        script_dir = config.get_main_option("script_location")
        assert script_dir is not None
        shared = not self._per_bind and len(self.metadatas) > 1
        template = "multidb" if shared else "generic"
        source = os.path.join(
            config.get_template_directory(), template, "script.py.mako"
        )
        dest = os.path.join(script_dir, "script.py.mako")
        os.makedirs(script_dir, exist_ok=True)

        if not os.path.exists(dest):
            shutil.copy(source, dest)

        for location in _alembic.version_locations(self.script_directory):
            os.makedirs(location, exist_ok=True)

    @_async.bridged
    def current(
        self, branch: str | None = None, bind: str | t.Sequence[str] | None = None
    ) -> tuple[Script, ...]:
        """The revisions the databases are at. With several databases, the
        revisions any of them is at, each once.

        :param branch: Only the newest revisions of this branch the databases
            have applied.
        :param bind: Only these databases.

        .. versionchanged:: 4.0
            Added ``branch`` and ``bind``.
        """
        seen: dict[str, Script] = {}

        for revisions in self.current_by_database(branch, bind).values():
            for rev in revisions:
                seen.setdefault(rev.revision, rev)

        return tuple(seen.values())

    def _current_by_database(
        self, names: t.Sequence[str] | None = None
    ) -> dict[str, tuple[Script, ...]]:
        script = self.script_directory
        result = {}

        for name, context in self._open(self._names(names)).items():
            with _alembic.translate_errors(script):
                revisions = script.get_revisions(context.get_current_heads())

            result[name] = tuple(r for r in revisions if r is not None)

        return result

    @_async.bridged
    def current_by_database(
        self, branch: str | None = None, bind: str | t.Sequence[str] | None = None
    ) -> dict[str, tuple[Script, ...]]:
        """The revisions each database is at, by database name.

        :param branch: Only the newest revisions of this branch each database
            has applied. A branch that another depends on is applied even
            though the version table records only the dependent one. With
            per-bind histories, only the branch's bind is listed.
        :param bind: Only these databases.

        .. versionadded:: 4.0
        """
        if branch is None:
            return self._current_by_database(bind)

        script = self.script_directory
        found = self._branch(branch)
        by_database = self._status_by_database([found], bind)

        with _alembic.translate_errors(script):
            return {
                name: _scripts(script.get_revisions(rows[0].current))
                for name, rows in by_database.items()
                if rows
            }

    @property
    def registry(self) -> Registry:
        """The declared and implicit branches of the current app.

        .. versionadded:: 4.0
        """
        return self._state().registry

    def _branch(self, name: str) -> Branch:
        """The branch of that name, from the registry or the history.

        :raise UnknownBranchError: If it is in neither.
        """
        labels = resolver.history_labels(self.script_directory.revision_map)
        return self.registry.require(name, labels) or Branch(name, "")

    @_async.bridged
    def status(
        self, branch: str | None = None, bind: str | t.Sequence[str] | None = None
    ) -> list[BranchStatus]:
        """Where each branch stands on each database: its heads, the newest
        revisions the database has applied, and what is pending. With
        per-bind histories, each bind has a row for each of its own branches.

        :param branch: Only this branch.
        :param bind: Only these databases.
        :raise UnknownBranchError: If ``branch`` is not known.

        .. versionadded:: 4.0
        """
        branches = None if branch is None else [self._branch(branch)]
        by_database = self._status_by_database(branches, bind)

        if len(by_database) > 1 or self._per_bind:
            return [row for rows in by_database.values() for row in rows]

        # One database: each row names the bind its branch declares.
        return [
            dataclasses.replace(row, bind=self._bind_of(row.branch))
            for rows in by_database.values()
            for row in rows
        ]

    def _status_by_database(
        self, branches: list[Branch] | None, bind: str | t.Sequence[str] | None
    ) -> dict[str, list[BranchStatus]]:
        script = self.script_directory
        registry = self.registry
        names = self._names(bind)

        if branches is None and self._per_bind:
            branches = all_branches(script.revision_map, registry)

        if branches is not None and self._per_bind:
            # Each bind's version table holds only its own branches.
            owners = [b.bind for b in branches]
            names = [n for n in names if n in owners]

            if not names:
                raise RevisionError(
                    f"Branch '{branches[0].name}' runs on bind '{owners[0]}',"
                    " which --bind leaves out."
                )

        result = {}

        for name, context in self._open(names).items():
            own = branches

            if own is not None and self._per_bind:
                own = [b for b in own if b.bind == name]

            with _alembic.translate_errors(script):
                result[name] = branch_status(
                    script.revision_map,
                    registry,
                    name,
                    context.get_current_heads(),
                    own,
                )

        return result

    def _bind_of(self, branch: str) -> str:
        declared = self.registry.get(branch)
        return declared.bind if declared is not None else "default"

    @_async.bridged
    def pending(
        self, bind: str | t.Sequence[str] | None = None
    ) -> dict[str, list[str]]:
        """The ids of the revisions each database still has to apply to reach
        the heads, in the order they would run, by database name. With
        per-bind histories, the heads are those of each bind's own branches.

        :param bind: Only these databases.

        .. versionadded:: 4.0
        """
        return {
            name: self._pending(name, revisions)
            for name, revisions in self._current_by_database(bind).items()
        }

    def _heads_of(self, name: str) -> list[str]:
        """What ``upgrade`` brings a database to: ``heads``, or with per-bind
        histories the heads of the bind's branches.
        """
        if not self._per_bind:
            return ["heads"]

        script = self.script_directory
        return resolver.bind_heads(script.revision_map, self.registry, name)

    def _pending(self, name: str, current: tuple[Script, ...]) -> list[str]:
        script = self.script_directory
        heads = tuple(r.revision for r in current)
        target = self._heads_of(name)

        if not target:
            return []

        with _alembic.translate_errors(script):
            steps = _alembic.upgrade_steps(script, target, heads)

        return [step.revision.revision for step in steps]

    @_async.bridged
    def needs_upgrade(self, bind: str | t.Sequence[str] | None = None) -> bool:
        """Whether upgrading would run a revision on any database.

        :param bind: Only these databases.

        .. versionchanged:: 4.0
            Considers every database, not only ``"default"``. A head that
            another head depends on is not required in the version table,
            where Alembic does not record it. Added ``bind``.
        """
        return any(self.pending(bind).values())

    def heads(
        self,
        resolve_dependencies: bool = False,
        branch: str | None = None,
        bind: str | t.Sequence[str] | None = None,
    ) -> tuple[Script, ...]:
        """The revisions that have no child revisions.

        :param resolve_dependencies: Treat dependencies as down revisions.
        :param branch: Only the heads of this branch.
        :param bind: Only the heads of these binds' branches.

        .. versionchanged:: 4.0
            Added ``branch`` and ``bind``.
        """
        script = self.script_directory

        with _alembic.translate_errors(script):
            if resolve_dependencies:
                heads = _scripts(script.get_revisions("heads"))
            else:
                heads = _scripts(script.get_revisions(script.get_heads()))

        if branch is not None:
            name = self._branch(branch).name
            ids = set(resolver.branch_heads(script.revision_map, name))
            heads = tuple(rev for rev in heads if rev.revision in ids)

        return tuple(self._on_binds(heads, bind))

    def _on_binds(
        self, revisions: t.Iterable[Script], bind: str | t.Sequence[str] | None
    ) -> list[Script]:
        """Only the revisions that run on these binds."""
        if bind is None:
            return list(revisions)

        names = self._names(bind)
        registry = self.registry
        return [
            rev for rev in revisions if registry.bind_of(rev.branch_labels) in names
        ]

    def branches(self) -> list[Script]:
        """The revisions that have more than one next revision."""
        script = self.script_directory

        with _alembic.translate_errors(script):
            return [rev for rev in script.walk_revisions() if rev.is_branch_point]

    def log(
        self,
        start: RevisionArg = "base",
        end: RevisionArg = "heads",
        branch: str | None = None,
        bind: str | t.Sequence[str] | None = None,
    ) -> list[Script]:
        """The revisions between two points, newest first.

        :param start: Only get entries since this revision. ``"current"``
            means the revisions the databases are at.
        :param end: Only get entries until this revision.
        :param branch: Only the revisions of this branch.
        :param bind: Only the revisions that run on these binds.

        .. versionchanged:: 4.0
            Added ``branch`` and ``bind``.
        """
        script = self.script_directory

        with _alembic.translate_errors(script):
            revisions = list(
                script.walk_revisions(
                    self._log_bound(start),  # type: ignore[arg-type]
                    self._log_bound(end),  # type: ignore[arg-type]
                )
            )

        if branch is not None:
            name = self._branch(branch).name
            revisions = [rev for rev in revisions if resolver.in_branch(rev, name)]

        return self._on_binds(revisions, bind)

    def _log_bound(self, rev: RevisionArg) -> list[str]:
        if rev == "current":
            return [r.revision for r in self.current()]

        return resolver.to_ids(rev)

    def graph(
        self,
        format: str = "ascii",
        bind: str | t.Sequence[str] | None = None,
        branch: str | None = None,
        collapse: int = 5,
    ) -> str:
        """A picture of the revision history: each revision with its id and
        the first line of its message, the branch labels it declares, merges,
        ``depends_on`` drawn apart from ``down_revision``, the bind each
        revision runs on with per-bind histories, and the revisions each
        database is at. A database that cannot be connected to is not
        marked. See :doc:`branches` for what the formats look like.

        :param format: ``"ascii"`` for a terminal, ``"mermaid"`` for a
            fenced ``mermaid`` block in Markdown, such as a README on GitHub,
            or ``"dot"`` for Graphviz.
        :param bind: Only these databases' marks, and with per-bind
            histories only these binds' revisions. In a shared history every
            revision runs on every database.
        :param branch: Only the revisions of this branch.
        :param collapse: Draw a straight line of more revisions than this as
            its first revision, an entry counting the revisions inside it,
            and its last revision. Only revisions with one parent and one
            child, no label of their own, no database at them and no
            ``depends_on`` from or to them are collapsed. ``0`` draws every
            revision.
        :raise UnknownBindError: If ``bind`` names no database of the app.
        :raise UnknownBranchError: If ``branch`` is not known.
        :raise RevisionError: If ``branch`` runs on a bind ``bind`` leaves
            out.
        :raise ValueError: If ``format`` is unknown, or ``collapse`` is 1 or
            2.

        .. versionadded:: 4.0
        """
        revision_map = self.script_directory.revision_map
        names = self._names(bind)
        found = None if branch is None else self._branch(branch)

        if found is not None and self._per_bind and found.bind not in names:
            raise RevisionError(
                f"Branch '{found.name}' runs on bind '{found.bind}', which --bind"
                f" leaves out. Add --bind {found.bind}, or leave out --branch."
            )

        return render_graph(
            revision_map,
            self.registry,
            self._reachable_heads(names),
            format=format,
            binds=names,
            branch=None if found is None else found.name,
            collapse=collapse,
        )

    def _reachable_heads(self, names: list[str]) -> dict[str, tuple[str, ...]]:
        """The revision ids each database's version table records, leaving
        out the databases that cannot be connected to.
        """
        result = {}

        for name in names:
            try:
                context = self._open([name])[name]
            except DatabaseError:
                continue

            assert context.connection is not None

            with reading(context.connection):
                result[name] = tuple(context.get_current_heads())

        return result

    def _movement(
        self, target: RevisionArg | int, bind: str | t.Sequence[str] | None, kind: str
    ) -> dict[str, list[str]]:
        """The target of each database to move, in the order they run."""
        script = self.script_directory
        names = self._names(bind)

        if kind == "stamp":
            ids = resolver.to_ids(target)
        else:
            ids = resolver.movement_target(
                script.revision_map, target, down=kind == "downgrade"
            )

        if not self._per_bind:
            return dict.fromkeys(names, ids)

        with _alembic.translate_errors(script):
            return resolver.plan_movement(
                script.revision_map, self.registry, ids, names, kind=kind
            )

    def _step_fns(
        self, kind: str, target: RevisionArg | int, bind: str | t.Sequence[str] | None
    ) -> dict[str, _alembic.MigrationsFn]:
        """For each database to move, in the order they run, the function
        giving the steps from its heads to its own target.
        """
        script = self.script_directory
        steps = _STEPS[kind]
        known = functools.partial(resolver.is_revision_id, script.revision_map)

        def move_to(name: str, ids: list[str]) -> _alembic.MigrationsFn:
            def do_move(heads: t.Any, context: MigrationContext) -> list[t.Any]:
                # Online, the heads are read under the lock; one no file
                # defines would otherwise fail deep inside Alembic.
                if not context.as_sql:
                    assert context.connection is not None
                    url = safe_url(context.connection.engine)
                    unknown = _unknown_heads(name, url, heads, known)

                    if unknown:
                        raise HistoryError(unknown)

                return steps(script, ids, heads)

            return do_move

        plans = self._movement(target, bind, kind)
        return {name: move_to(name, ids) for name, ids in plans.items()}

    @_async.bridged
    def stamp(
        self,
        target: RevisionArg = "heads",
        bind: str | t.Sequence[str] | None = None,
        purge: bool = False,
    ) -> dict[str, BindRun]:
        """Set the databases' revision without running migrations.

        :param target: The revision to set. With per-bind histories,
            ``heads`` and ``base`` apply to each bind, and a revision to the
            bind it belongs to.
        :param bind: Only these databases.
        :param purge: Empty each version table first, even of revisions no
            file defines, to repair it.
        :return: The revisions each database was at and is now at, by name,
            in the order they were stamped.

        .. versionchanged:: 4.0
            Added ``bind`` and ``purge``. Returns a :class:`BindRun` for each
            database instead of ``None``.
        """
        return self._run(self._step_fns("stamp", target, bind), "stamp", purge=purge)

    def sql(
        self,
        operation: str = "upgrade",
        target: str = "heads",
        bind: str | t.Sequence[str] | None = None,
    ) -> dict[str, str]:
        """The SQL an ``upgrade``, ``downgrade`` or ``stamp`` would run, for
        review or to run by hand, without connecting to any database.

        Each database's own settings apply, as online: its version table's
        name and schema, and its context options.

        :param operation: ``"upgrade"``, ``"downgrade"`` or ``"stamp"``.
        :param target: ``[START:]TARGET``: the revision to go to, from the
            revision the database is taken to be at (base by default).
            ``downgrade`` needs a ``START``. With per-bind histories, a
            ``START`` other than ``base`` belongs to one bind, which is the
            only one rendered.
        :param bind: Only these databases.
        :return: The SQL of each database, by name, in the order they run.
        :raise RevisionError: If ``downgrade`` has no ``START``, or ``START``
            belongs to a bind not asked for.

        .. versionadded:: 4.0
        """
        if operation not in _STEPS:
            raise ValueError(
                f"Unknown operation '{operation}': use 'upgrade', 'downgrade'"
                " or 'stamp'."
            )

        start, _, end = target.rpartition(":")

        if operation == "downgrade" and not start:
            raise RevisionError(
                "Offline downgrade needs the revision to start from, as"
                " START:TARGET (such as 'heads:-1'), since no database is read."
            )

        script = self.script_directory
        names = self._names(bind)

        if start and start != "base" and self._per_bind:
            with _alembic.translate_errors(script):
                owner = resolver.bind_of_revision(
                    script.revision_map, self.registry, start
                )

            if owner not in names:
                raise RevisionError(
                    f"The start revision '{start}' belongs to bind '{owner}',"
                    " which was not asked for. Add --bind "
                    f"{owner}, or start from a revision of the binds asked for."
                )

            names = [owner]

        if operation == "upgrade":
            problems = self._problems(names, database=False)

            if problems:
                raise HistoryError(problems)

        targets = self._targets()
        result = {}

        with _alembic.translate_errors(script):
            fns = self._step_fns(operation, end or "heads", names)

            for name, fn in fns.items():
                kwargs = {"engine_name": name} if self._shared else {}
                result[name] = runner.render_sql(
                    self.environment_context,
                    targets[name],
                    self._context_options(name),
                    fn,
                    start or None,
                    **kwargs,
                )

        return result

    @_async.bridged
    def plan(
        self,
        operation: str = "upgrade",
        target: RevisionArg | int | None = None,
        bind: str | t.Sequence[str] | None = None,
    ) -> dict[str, BindPlan]:
        """The revisions an ``upgrade`` or ``downgrade`` would run on each
        database, in order, without running them or taking the lock.

        :param operation: ``"upgrade"`` or ``"downgrade"``.
        :param target: As for :meth:`upgrade` (``"heads"`` by default) or
            :meth:`downgrade` (``-1``).
        :param bind: Only these databases.
        :return: The plan of each database, by name, in the order they run.

        .. versionadded:: 4.0
        """
        if operation not in ("upgrade", "downgrade"):
            raise ValueError(
                f"Unknown operation '{operation}': use 'upgrade' or 'downgrade'."
            )

        if target is None:
            target = "heads" if operation == "upgrade" else -1

        script = self.script_directory
        result = {}

        with _alembic.translate_errors(script):
            fns = self._step_fns(operation, target, bind)
            contexts = self._open(list(fns))

            for name, fn in fns.items():
                context = contexts[name]
                assert context.connection is not None

                with reading(context.connection):
                    heads = tuple(context.get_current_heads())
                    steps = list(fn(heads, context))

                result[name] = BindPlan(
                    name, operation, heads, tuple(step.revision for step in steps)
                )

        return result

    @_async.bridged
    def upgrade(
        self,
        target: RevisionArg | int = "heads",
        bind: str | t.Sequence[str] | None = None,
    ) -> dict[str, BindRun]:
        """Run migrations to upgrade the databases.

        :param target: The revision to go up to. A number that is not a
            revision id is a count of steps. With per-bind histories,
            ``heads`` is each bind's own heads, and a revision is reached on
            the bind it belongs to.
        :param bind: Only these databases.
        :return: What ran on each database, by name, in the order they ran:
            the revisions applied, where it started and ended, and the time
            taken.
        :raise HistoryError: If :meth:`verify` finds problems in the history
            or the databases to upgrade. Nothing has run then.
        :raise LockTimeoutError: If another process held a database's lock
            for longer than ``ALEMBIC["lock_timeout"]``. Nothing has run then.
        :raise MigrationError: If a revision fails, saying where each
            database stands.

        .. versionchanged:: 4.0
            Added ``bind``. Takes each database's lock, and refuses a history
            with problems. Returns a :class:`BindRun` for each database
            instead of ``None``.
        """
        fns = self._step_fns("upgrade", target, bind)
        problems = self._problems(list(fns), database=True, revisions=False)

        if problems:
            raise HistoryError(problems)

        return self._run(fns, "upgrade")

    @_async.bridged
    def verify(self, database: bool = True) -> list[Problem]:
        """Check the revision history, and each database's record of it.

        The history: every file loads; no two files share a revision id;
        every ``down_revision`` and ``depends_on`` names a revision; no
        revisions form a cycle; each branch has one head; no revision file
        sits in a directory that is not a version location. Each database,
        unless ``database`` is false: it can be connected to; it is not
        stamped with a revision that no file defines; and it does not have
        tables without a version table.

        :param database: Also check the databases.
        :return: The problems found, none if all is well.

        .. versionadded:: 4.0
        """
        script = self.script_directory

        try:
            # The map checks the history as it loads; its problems are
            # reported, and the checks that need the map are skipped.
            script.revision_map.heads  # noqa: B018
        except HistoryError as e:
            problems = list(e.problems)
            known = {ident for p in problems for ident in p.revisions}
            problems += self._unowned()

            if database:
                cache = self._state().settings.cache
                scripts = _alembic.load_scripts(script, cache)[0]
                ids = known | {s.revision for s in scripts}
                problems += self._database_problems(
                    self._names(None), ids.__contains__, unreachable=True
                )

            return problems

        return self._problems(self._names(None), database, unreachable=True)

    def _problems(
        self,
        names: list[str],
        database: bool,
        unreachable: bool = False,
        revisions: bool = True,
    ) -> list[Problem]:
        """What :meth:`verify` finds in a history that loads.

        :param revisions: Also read each database's revisions, which
            ``upgrade`` does only once it holds the lock.
        """
        revision_map = self.script_directory.revision_map
        heads = {
            branch.name: resolver.branch_heads(revision_map, branch.name)
            for branch in all_branches(revision_map, self.registry)
        }
        problems = history.multiple_heads(revision_map, heads, self._show)
        problems += self._unowned()

        if database:
            known = functools.partial(resolver.is_revision_id, revision_map)
            problems += self._database_problems(names, known, unreachable, revisions)

        return problems

    def _unowned(self) -> list[Problem]:
        script = self.script_directory
        locations = _alembic.version_locations(script)
        return history.unowned_files(
            [script.dir, *locations], locations, self._recursive, self._show
        )

    @property
    def _recursive(self) -> bool:
        """Whether version locations include their subdirectories."""
        return util.asbool(self.config.get_main_option("recursive_version_locations"))

    def _database_problems(
        self,
        names: list[str],
        known: t.Callable[[str], bool],
        unreachable: bool = False,
        revisions: bool = True,
    ) -> list[Problem]:
        """Databases that are stamped with a revision no file defines, or that
        have tables but no version table.

        :param unreachable: Report a database that cannot be connected to as
            a problem, instead of raising :exc:`DatabaseError`.
        """
        problems = []

        for name in names:
            try:
                context = self._open([name])[name]
            except DatabaseError as e:
                if not unreachable:
                    raise

                problems.append(Problem("unreachable", str(e), bind=name))
                continue

            problems.extend(self._stamp_problems(name, context, known, revisions))

        return problems

    def _stamp_problems(
        self,
        name: str,
        context: MigrationContext,
        known: t.Callable[[str], bool],
        revisions: bool = True,
    ) -> list[Problem]:
        """A database's tables without a version table, and, if
        ``revisions``, the revisions it is at that no file defines.
        """
        connection = context.connection
        assert connection is not None
        url = safe_url(connection.engine)
        schema, table = context.version_table_schema, context.version_table

        with reading(connection):
            inspector = sa.inspect(connection)

            if inspector.has_table(table, schema):
                heads = context.get_current_heads() if revisions else ()
                return _unknown_heads(name, url, heads, known)

            foreign = {t for s, t in self._foreign_tables(name) if s == schema}
            tables = sorted(set(inspector.get_table_names(schema)) - foreign - {table})

        if not tables:
            return []

        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        noun = "table" if len(tables) == 1 else "tables"
        return [
            Problem(
                "no-version-table",
                f"bind '{name}' ({url}) has {len(tables)} {noun} ({shown}) but no"
                f" version table '{table}', so every revision would run again."
                " If the tables match a revision, record it with 'flask db"
                f" stamp REVISION --bind {name}'.",
                bind=name,
            )
        ]

    @_async.bridged
    def downgrade(
        self,
        target: RevisionArg | int = -1,
        bind: str | t.Sequence[str] | None = None,
    ) -> dict[str, BindRun]:
        """Run migrations to downgrade the databases.

        :param target: The revision to go down to. A number that is not a
            revision id is a count of steps down. With per-bind histories, a
            count needs a single bind, ``base`` applies to each bind, and a
            revision to the bind it belongs to.
        :param bind: Only these databases.
        :return: What ran on each database, by name, in the order they ran:
            the revisions downgraded, where it started and ended, and the
            time taken.
        :raise MigrationError: If a revision fails, saying where each
            database stands.

        .. versionchanged:: 4.0
            A revision id made of digits is a revision, not a count. Added
            ``bind``. Returns a :class:`BindRun` for each database instead of
            ``None``.
        """
        return self._run(self._step_fns("downgrade", target, bind), "downgrade")

    @_async.bridged
    def revision(
        self,
        message: str,
        empty: bool = False,
        branch: str = "default",
        parent: RevisionArg = "head",
        splice: bool = False,
        depend: RevisionArg | None = None,
        label: str | t.Sequence[str] | None = None,
        path: str | None = None,
        bind: str | None = None,
    ) -> list[Script | None]:
        """Create a new revision. By default, autogenerate its operations by
        comparing the models with the databases, which must be up to date.

        :param message: Description of the revision.
        :param empty: Don't autogenerate operations.
        :param branch: The independent branch to add to. A branch with no
            revisions yet starts from base with its name as a label. A history
            without labels is the ``"default"`` branch.
        :param parent: Parent revision(s) of this revision.
        :param splice: Allow a parent that is not a head.
        :param depend: Revision(s) this revision depends on.
        :param label: Label(s) to apply to this revision.
        :param path: The directory to write the revision to. A relative path
            is relative to the app's root path.
        :param bind: With per-bind histories, the bind to autogenerate
            against; the revision goes into the bind's branch unless
            ``branch`` names another branch of it. Without ``bind``, the bind
            is that of ``branch``.
        :return: The new revisions.
        :raise NotUpToDateError: If autogenerating and a database is behind.

        .. versionchanged:: 4.0
            Added ``bind``.
        """
        script = self.script_directory
        branch, names = self._revision_bind(branch, bind)

        if self._per_bind:
            _check_template(script)
        labels = [label] if isinstance(label, str) else list(label or ())

        with _alembic.translate_errors(script):
            plan = resolver.plan_revision(
                script.revision_map,
                branch=branch,
                parents=resolver.to_ids(parent),
                labels=labels,
                path=path,
                registry=self.registry,
            )

        depends_on = [*plan.depends_on, *resolver.to_ids(depend or [])]
        version_path = (
            resolve_path(plan.path, current_app.root_path) if plan.path else None
        )
        self._check_new_revision(branch, plan.labels, version_path)
        revision_context = _alembic.make_revision_context(
            self.config,
            script,
            {
                "message": resolver.docstring_safe(message),
                "sql": False,
                "head": plan.parents,
                "splice": splice,
                "branch_label": plan.labels,
                "version_path": version_path or self._default_versions(script),
                "rev_id": self._unique_rev_id(),
                "depends_on": depends_on or None,
            },
        )

        if not empty:
            self._require_up_to_date(names)

        def do_revision(heads: t.Any, context: MigrationContext) -> list[t.Any]:
            if empty:
                revision_context.run_no_autogenerate(heads, context)
                return []

            with _alembic.quick_reflection(context):
                # With per-bind histories, up to date was checked above
                # against the bind's own heads; Alembic would compare with
                # the heads of every bind.
                revision_context.run_autogenerate(
                    "heads" if self._per_bind else heads, context
                )

            return []

        # Comparing and rendering many tables allocates in bursts.
        with _gc.sparing():
            if not empty or util.asbool(
                self.config.get_main_option("revision_environment")
            ):
                self._run(dict.fromkeys(names, do_revision), "revision")

            with self._remove_files_on_error(script, version_path):
                with _alembic.translate_errors(script):
                    revisions = list(revision_context.generate_scripts())

        for rev in revisions:
            _alembic.inherit_branch_labels(script, rev)

        return revisions

    def _default_versions(self, script: ScriptDirectory) -> str:
        """The directory of the default branch's revisions: the script
        location, or its ``versions`` in Flask-Migrate's layout.
        """
        return self._state().layout.versions or script.dir

    def _check_new_revision(
        self, branch: str, labels: t.Sequence[str], path: str | None
    ) -> None:
        """Refuse names and paths that could put a file outside the
        configured locations or break the revision file, before anything is
        written.

        :raise RevisionError: Naming what is wrong.
        """
        for kind, name in [("branch name", branch)] + [("label", x) for x in labels]:
            if not _SAFE_ID.match(name):
                raise RevisionError(
                    f"The {kind} {name!r} is not allowed: use letters, digits,"
                    " '_', '.' and '-' only, starting with a letter, digit or"
                    " '_'."
                )

        if path is None:
            return

        locations = _alembic.version_locations(self.script_directory)

        if history.is_owned(path, locations, self._recursive):
            return

        shown = ", ".join(self._show(os.path.realpath(p)) for p in locations)
        raise RevisionError(
            f"The path '{self._show(path)}' is not a version location, so a"
            f" revision there would never run. Use one of: {shown}; or declare"
            " the directory as a branch's path in ALEMBIC['branches']."
        )

    def _revision_bind(self, branch: str, bind: str | None) -> tuple[str, list[str]]:
        """The branch a new revision goes into, and the databases it is
        generated against.

        :raise UnknownBindError: If ``bind`` is not a database of the app.
        :raise RevisionError: If ``branch`` belongs to another bind, or
            ``bind`` is given for a shared history.
        """
        if not self._per_bind:
            if bind is not None and len(self._names(bind)) < len(self._targets()):
                raise RevisionError(
                    "The databases share one history, so a revision covers all"
                    " of them; leave out --bind. To give each database its own"
                    " history, declare ALEMBIC['binds']."
                )

            return branch, list(self._targets())

        # An unknown branch is reported as such, not as one of another bind.
        self._branch(branch)

        if bind is None:
            return branch, [self._bind_of(branch)]

        self._names(bind)

        if branch == DEFAULT_BRANCH:
            return bind, [bind]

        owner = self._bind_of(branch)

        if owner != bind:
            raise RevisionError(
                f"Branch '{branch}' runs on bind '{owner}', not '{bind}'. Leave"
                f" out --bind, or pick a branch of bind '{bind}'."
            )

        return branch, [bind]

    def merge(
        self,
        revisions: RevisionArg = "heads",
        message: str | None = None,
        label: str | t.Sequence[str] | None = None,
    ) -> Script | None:
        """Create a revision that merges several revisions.

        :param revisions: The revisions to merge.
        :param message: Description of the merge; defaults to naming the
            merged revisions.
        :param label: Label(s) to apply to the new revision.
        :return: The new revision.
        """
        script = self.script_directory
        ids = resolver.to_ids(revisions)

        if self._per_bind:
            self._require_one_bind(ids)

        if message is None:
            message = f"merge {', '.join(ids)}"

        with self._remove_files_on_error(script), _alembic.translate_errors(script):
            rev = script.generate_revision(
                revid=self._unique_rev_id(),
                message=resolver.docstring_safe(message),
                head=ids,
                branch_labels=[label] if isinstance(label, str) else list(label or ()),
                config=self.config,
            )

        _alembic.inherit_branch_labels(script, rev)
        return rev

    def _require_one_bind(self, ids: list[str]) -> None:
        """Check that the revisions a merge joins run on one bind.

        :raise RevisionError: Naming the binds they run on.
        """
        script = self.script_directory

        with _alembic.translate_errors(script):
            revs = _scripts(script.get_revisions(ids))

        binds = sorted({self.registry.bind_of(rev.branch_labels) for rev in revs})

        if len(binds) > 1:
            raise RevisionError(
                f"The revisions to merge run on different binds ({', '.join(binds)});"
                " each bind has its own history. Name the heads of one bind:"
                " flask db heads --bind NAME, then flask db merge REV REV."
            )

    @contextlib.contextmanager
    def _remove_files_on_error(
        self, script: ScriptDirectory, *paths: str | None
    ) -> t.Iterator[None]:
        """Delete the revision files written by a generation that then failed.

        Alembic writes the file before it checks the new revision's labels,
        runs post-write hooks and loads the file; a file left behind by a
        failure would break every later command.
        """
        dirs = {*_alembic.version_locations(script), *(p for p in paths if p)}
        before = {d: set(os.listdir(d)) if os.path.isdir(d) else set() for d in dirs}

        try:
            yield
        except BaseException:
            # The in-memory history may hold the failed revision too; read it
            # from the files again next time.
            self._state().script = None

            for d, names in before.items():
                if os.path.isdir(d):
                    for name in set(os.listdir(d)) - names:
                        if name.endswith(".py"):
                            os.remove(os.path.join(d, name))

            raise

    @_async.bridged
    def produce_migrations(self) -> MigrationScript:
        """The :class:`~alembic.operations.ops.MigrationScript` a new revision
        would be generated from. With several databases, ``upgrade_ops_list``
        has one entry per database.
        """
        contexts = self.migration_contexts

        scripts = []

        for context in contexts.values():
            with _gc.sparing(), _alembic.quick_reflection(context):
                scripts.append(
                    autogenerate.produce_migrations(
                        context, context.opts["target_metadata"]
                    )
                )
        script = scripts[0]

        if len(scripts) > 1:
            for name, ops in zip(
                contexts, (s.upgrade_ops for s in scripts), strict=True
            ):
                assert ops is not None
                ops.upgrade_token = f"{name}_upgrades"

            script.upgrade_ops = [s.upgrade_ops for s in scripts]  # type: ignore[misc]
            script.downgrade_ops = [s.downgrade_ops for s in scripts]  # type: ignore[misc]

        return script

    @_async.bridged
    def diffs(self, bind: str | t.Sequence[str] | None = None) -> dict[str, list[Diff]]:
        """The differences between the models and each database, by database
        name, as Alembic's ``compare_metadata`` describes them. An operation
        a plugin adds that has no such description is given as a tuple of its
        class name.

        :param bind: Only these databases.
        :raise NotUpToDateError: If a database is not at the head revisions.

        .. versionadded:: 4.0
        """
        names = self._names(bind)
        self._require_up_to_date(names)
        result = {}

        for name, context in self._open(names).items():
            with _gc.sparing(), _alembic.quick_reflection(context):
                script = autogenerate.produce_migrations(
                    context, context.opts["target_metadata"]
                )
            assert script.upgrade_ops is not None
            result[name] = _as_diffs(script.upgrade_ops)

        return result

    @_async.bridged
    def needs_revision(self, bind: str | t.Sequence[str] | None = None) -> bool:
        """Whether the models differ from any database.

        :param bind: Only these databases.
        :raise NotUpToDateError: If a database is not at the head revisions;
            comparing it with the models would report the pending revisions
            as changes.

        .. versionchanged:: 4.0
            Added ``bind``.
        """
        return any(self.diffs(bind).values())

    @_async.bridged
    def compare_metadata(self) -> list[Diff]:
        """The differences between the models and the databases, as
        Alembic's ``compare_metadata`` describes them. With several
        databases, the differences of all of them; see :meth:`diffs` to tell
        them apart.

        :raise NotUpToDateError: If a database is not at the head revisions.

        .. versionchanged:: 4.0
            Works with several databases.
        """
        return [diff for diffs in self.diffs().values() for diff in diffs]

    def _require_up_to_date(self, names: t.Sequence[str] | None = None) -> None:
        for name, current in self._current_by_database(names).items():
            pending = self._pending(name, current)

            if pending:
                raise NotUpToDateError(name, [r.revision for r in current], pending)


#: What a revision id, branch name or label may be: nothing that could name
#: another directory or break the revision file it is written into.
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")

#: How each movement builds its steps from a database's heads to its target.
#: Alembic takes a relative step only as a single string.
_STEPS: dict[str, t.Callable[[ScriptDirectory, list[str], t.Any], list[t.Any]]] = {
    "upgrade": lambda script, ids, heads: _alembic.upgrade_steps(
        script, ids[0] if len(ids) == 1 else ids, heads
    ),
    "downgrade": lambda script, ids, heads: _alembic.downgrade_steps(
        script, ids[0], heads
    ),
    "stamp": _alembic.stamp_steps,
}

#: The operations that write to the version table, and take the lock.
_WRITES = frozenset({"upgrade", "downgrade", "stamp", "migrate"})


def _unknown_heads(
    name: str, url: str, heads: t.Iterable[str], known: t.Callable[[str], bool]
) -> list[Problem]:
    """A problem for each revision a database is at that no file defines."""
    return [
        Problem(
            "unknown-revision-in-database",
            f"bind '{name}' ({url}) is at revision '{head}', which no file"
            " defines. Restore the file, or record the revision the database"
            f" is really at with 'flask db stamp --purge REVISION --bind {name}'.",
            revisions=(head,),
            bind=name,
        )
        for head in heads
        if not known(head)
    ]


def _version_table(options: t.Mapping[str, t.Any]) -> tuple[str | None, str]:
    """``(schema, table)`` of the version table the options name."""
    return (
        options.get("version_table_schema"),
        options.get("version_table", "alembic_version"),
    )


def _skip_tables(
    tables: set[tuple[str | None, str]], include_object: t.Any
) -> t.Callable[..., bool]:
    """An ``include_object`` hook that leaves out the given tables where they
    exist in the database but not in the models, then asks the user's hook.
    """

    def include(
        obj: t.Any, name: str | None, type_: str, reflected: bool, compare_to: t.Any
    ) -> bool:
        if (
            type_ == "table"
            and reflected
            and compare_to is None
            and (obj.schema, name) in tables
        ):
            return False

        if include_object is None:
            return True

        return bool(include_object(obj, name, type_, reflected, compare_to))

    return include


def _check_template(script: ScriptDirectory) -> None:
    """Check that per-bind revisions are not rendered with the ``multidb``
    template of a shared history, whose revisions take the database name.

    :raise ConfigError: Saying how to replace the template.
    """
    path = os.path.join(script.dir, "script.py.mako")

    try:
        with open(path, encoding="utf-8") as f:
            shared = "engine_name" in f.read()
    except OSError:
        return

    if shared:
        raise ConfigError(
            [
                (
                    "ALEMBIC.binds",
                    f"{path} is the template of a shared history, whose"
                    " revisions run on every database; with per-bind histories"
                    " each revision runs on one bind. Delete the file and run"
                    " 'flask db mkdir' to get the single-database template",
                )
            ]
        )


def _pick_default(items: dict[str, _T]) -> _T:
    if "default" in items:
        return items["default"]

    if len(items) == 1:
        return next(iter(items.values()))

    known = ", ".join(f"'{name}'" for name in items)
    raise KeyError(f"There is no 'default' database; pick one by name from {known}.")


def _current_app_context() -> AppContext:
    # The proxy's target is the context object itself, which identifies one
    # app context for as long as it is pushed.
    return app_ctx._get_current_object()  # type: ignore[attr-defined, no-any-return]


def _as_diffs(container: alembic_ops.OpContainer) -> list[Diff]:
    """Like ``UpgradeOps.as_diffs``, which raises for operations that have no
    diff tuple, such as those autogenerate plugins add.
    """
    diffs: list[Diff] = []

    for op in container.ops:
        if isinstance(op, alembic_ops.OpContainer):
            diffs.extend(_as_diffs(op))
            continue

        try:
            diffs.append(op.to_diff_tuple())
        except (AttributeError, NotImplementedError):
            diffs.append((type(op).__name__,))

    return diffs


def _scripts(revisions: t.Iterable[Script | None]) -> tuple[Script, ...]:
    return tuple(r for r in revisions if r is not None)


_T = t.TypeVar("_T")
_P = t.ParamSpec("_P")


@dataclasses.dataclass
class _AppState:
    """What the extension keeps for each app."""

    settings: AlembicSettings
    context_settings: ContextSettings
    config: Config
    registry: Registry
    #: The ``configure()`` options of each bind of the registry.
    bind_options: dict[str, dict[str, t.Any]]
    #: Where the default branch's revisions are.
    layout: Layout
    script: ScriptDirectory | None = None
    targets: dict[str, Target] | None = None

    def engines(self) -> list[sa.Engine]:
        """The engines of the databases found so far, except async ones,
        whose connections end with their event loop.
        """
        targets = self.targets or {}
        return [target.engine for target in targets.values() if not target.is_async]


@dataclasses.dataclass
class _ContextState:
    """What the extension keeps for each app context: its connections."""

    env: EnvironmentContext | None = None
    contexts: dict[str, MigrationContext] = dataclasses.field(default_factory=dict)
    ops: dict[str, Operations] | None = None

    def close(self) -> None:
        runner.close_contexts(self.contexts)
