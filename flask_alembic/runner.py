"""Connect to each database and run a migration function on it.

This takes the place of ``env.py``'s ``run_migrations_online``. No Flask here:
the extension passes in the environment, the targets and the options.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import contextlib
import dataclasses
import io
import logging
import os
import threading
import time
import typing as t
from urllib.parse import quote
from urllib.parse import quote_plus

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from sqlalchemy import event

from . import _alembic
from . import locks
from ._alembic import MigrationsFn
from ._alembic import set_migrations_fn
from .errors import BindOutcome
from .errors import DatabaseError
from .errors import HistoryError
from .errors import MigrationError
from .targets import reading
from .targets import safe_url
from .targets import SECRET_QUERY_KEYS
from .targets import Target

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BindRun:
    """What an ``upgrade``, ``downgrade`` or ``stamp`` did on one database,
    as :meth:`.Alembic.upgrade`, :meth:`~.Alembic.downgrade` and
    :meth:`~.Alembic.stamp` return it.

    .. versionadded:: 4.0
    """

    #: The database's name.
    bind: str
    #: ``"upgrade"``, ``"downgrade"`` or ``"stamp"``.
    operation: str
    #: The revision ids the database was at before the run.
    before: tuple[str, ...]
    #: The revision ids it is at after the run.
    after: tuple[str, ...]
    #: The revisions whose ``upgrade`` or ``downgrade`` ran, in order. Empty
    #: if there was nothing to run, and for ``stamp``, which runs none.
    revisions: tuple[Script, ...]
    #: Seconds the database's revisions took, from the start of its
    #: transaction to the end of its last revision (to its commit, unless
    #: the databases share one history and commit together at the end).
    seconds: float


def open_contexts(
    env: EnvironmentContext,
    targets: cabc.Mapping[str, Target],
    options: cabc.Mapping[str, cabc.Mapping[str, t.Any]],
    multidb: bool,
) -> dict[str, MigrationContext]:
    """Connect to every database and configure a migration context for it.

    Every database is connected to before any context is returned, so an
    unreachable one stops the command before anything has run anywhere.

    :param env: The environment the contexts are configured from.
    :param targets: The databases, by name.
    :param options: The ``configure()`` options of each database.
    :param multidb: Whether the databases share one history, whose revisions
        have a function per database (Alembic's ``multidb`` template).
    :raise DatabaseError: If a database cannot be connected to. Connections
        already opened are closed.
    """
    contexts: dict[str, MigrationContext] = {}

    try:
        for name, target in targets.items():
            opts = dict(options[name])
            connection = connect(target, transactional=opts.get("transactional_ddl"))

            if _is_sqlite3(connection) and "transactional_ddl" not in opts:
                # connect() made the driver honour transactions.
                opts["transactional_ddl"] = True

            if multidb:
                # The multidb template renders each database's operations
                # into its own upgrade_<name>/downgrade_<name> functions; with
                # one history per database, the user's tokens apply.
                opts["upgrade_token"] = f"{name}_upgrades"
                opts["downgrade_token"] = f"{name}_downgrades"

            # configure() writes into the environment's options dict, which
            # the new context keeps a reference to. Give each context a dict
            # of its own, so no option of one database leaks to the next.
            env.context_opts = {}

            try:
                env.configure(
                    connection=connection, target_metadata=target.metadata, **opts
                )
            except BaseException:
                connection.close()
                raise

            contexts[name] = env.get_context()
    except BaseException:
        close_contexts(contexts)
        raise

    return contexts


def render_sql(
    env: EnvironmentContext,
    target: Target,
    options: cabc.Mapping[str, t.Any],
    fn: MigrationsFn,
    start: str | None,
    **kwargs: t.Any,
) -> str:
    """The SQL a migration function would run on a database, without
    connecting to it (Alembic's offline mode).

    The database's own options apply, so the version table's name and schema
    are those used online. SQLite's script is wrapped in a transaction, as
    its migrations are online.

    :param env: The environment the context is configured from.
    :param target: The database, whose URL gives the dialect.
    :param options: Its ``configure()`` options.
    :param fn: The migration function, called with ``start`` as the heads.
    :param start: The revision the database is taken to be at, or ``None``
        for base.
    :param kwargs: Passed to each revision's ``upgrade`` or ``downgrade``.
    """
    buffer = io.StringIO()
    opts = dict(options)

    if target.engine.dialect.name == "sqlite":
        opts.setdefault("transactional_ddl", True)

    env.context_opts = {}
    env.configure(
        url=target.engine.url,
        target_metadata=target.metadata,
        as_sql=True,
        output_buffer=buffer,
        starting_rev=start,
        **opts,
    )
    context = env.get_context()
    set_migrations_fn(context, fn)

    with Operations.context(context):
        with context.begin_transaction():
            context.run_migrations(**kwargs)

    return buffer.getvalue()


def connect(target: Target, transactional: bool | None = None) -> sa.Connection:
    """Open a connection to a database, with a message naming it if that
    fails.

    Python's ``sqlite3`` driver, also behind ``aiosqlite``, commits DDL
    statements as they run, outside any transaction. Unless ``transactional``
    is false, the connection is made to begin a real transaction instead, as
    SQLAlchemy's documentation describes, so a failed migration is rolled back
    on SQLite too. The driver's setting is restored when the connection is
    closed.

    :param target: The database.
    :param transactional: The ``transactional_ddl`` option, if set.
    :raise DatabaseError: If the database is unreachable, refuses the
        credentials, or its driver is missing.
    """
    aiosqlite = target.engine.dialect.driver == "aiosqlite"
    threads = set(threading.enumerate()) if aiosqlite else set()

    try:
        connection = target.engine.connect()
    except _CONNECT_ERRORS as e:
        if aiosqlite:
            # aiosqlite stops the thread of a connection that failed to open
            # without waiting for it, and the thread then reports to the
            # event loop, which must still be running: _async.run closes it
            # as soon as the call ends. The thread has nothing else to do.
            for thread in set(threading.enumerate()) - threads:
                thread.join(timeout=5)

        raise DatabaseError(
            target.name,
            safe_url(target.engine),
            _reason(e, target.engine),
            _fix(e),
        ) from e

    if transactional is not False and _is_sqlite3(connection):
        # The DBAPI connection: aiosqlite's adapter sets the level in the
        # driver's own thread.
        driver = connection.connection.dbapi_connection
        connection.info[_SQLITE_ISOLATION] = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        event.listen(connection, "begin", _sqlite_begin)

    return connection


#: What connecting raises when the database cannot be reached. Async drivers
#: such as asyncpg let a refused connection or an unknown host through as the
#: socket's own error, or time out with asyncio's (before Python 3.11 not a
#: TimeoutError).
_CONNECT_ERRORS = (
    sa_exc.DBAPIError,
    sa_exc.NoSuchModuleError,
    ImportError,
    OSError,
    asyncio.TimeoutError,
)

#: Where a connection keeps the isolation level its sqlite3 driver had.
_SQLITE_ISOLATION = "flask_alembic.sqlite_isolation_level"


def _is_sqlite3(connection: sa.Connection) -> bool:
    """Whether the connection's driver is Python's ``sqlite3``, directly or
    through ``aiosqlite``.
    """
    dialect = connection.dialect
    return dialect.name == "sqlite" and dialect.driver in ("pysqlite", "aiosqlite")


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _reason(error: BaseException, engine: sa.Engine) -> str:
    original, line = _first_line(error)
    return mask_password((line or type(original).__name__).rstrip("."), engine.url)


def _first_line(error: BaseException) -> tuple[BaseException, str]:
    """The driver's exception behind a database error (or the error itself),
    and the first line of its message.
    """
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return original, lines[0] if lines else ""


def _fix(error: BaseException) -> str:
    if isinstance(error, (ImportError, sa_exc.NoSuchModuleError)):
        return "Install the database driver the URL names."

    return (
        "Check that the server is running and that the URL and credentials are right."
    )


def mask_password(text: str, url: sa.URL) -> str:
    """Replace a URL's password in a text, in case a driver repeated it."""
    secrets = [str(url.password)] if url.password else []

    for key, value in url.query.items():
        if key.lower() in SECRET_QUERY_KEYS:
            secrets.extend([value] if isinstance(value, str) else value)

    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")

    return text


def close_contexts(contexts: cabc.Mapping[str, MigrationContext]) -> None:
    """Close the connection of each context, rolling back anything left open.

    A migration may change session settings (``SET search_path``,
    ``SET FOREIGN_KEY_CHECKS=0``), so the connection is discarded rather than
    returned to the pool the application's requests use. Pools that hold a
    single connection keep it, since discarding it would lose an in-memory
    SQLite database.
    """
    for context in contexts.values():
        connection = context.connection

        if connection is None:
            continue

        if not isinstance(connection.engine.pool, _SINGLE_CONNECTION_POOLS):
            connection.invalidate()
        elif _SQLITE_ISOLATION in connection.info:
            # The pool's one connection stays in use by the app.
            if connection.in_transaction():
                connection.rollback()

            event.remove(connection, "begin", _sqlite_begin)
            driver = connection.connection.dbapi_connection
            driver.isolation_level = connection.info.pop(_SQLITE_ISOLATION)  # type: ignore[union-attr]

        connection.close()


_SINGLE_CONNECTION_POOLS = (sa.pool.StaticPool, sa.pool.SingletonThreadPool)


def run(
    contexts: cabc.Mapping[str, MigrationContext],
    fns: cabc.Mapping[str, MigrationsFn],
    *,
    operation: str,
    together: bool,
    engine_names: bool = False,
    urls: cabc.Sequence[sa.URL] = (),
    lock: bool = False,
    lock_timeout: float = 60,
    **kwargs: t.Any,
) -> dict[str, BindRun]:
    """Run a migration function on each database, in the order given.

    :param contexts: The configured contexts, by database name.
    :param fns: The function of each database to run, called with its
        current heads and its context; returns the steps to run. Databases
        without one are left alone.
    :param operation: ``"upgrade"``, ``"downgrade"`` or ``"stamp"``, for the
        failure report.
    :param together: Whether the databases share one history. Then, as in
        Flask-Alembic 3, every database's transaction is begun before any
        migration runs and a failure rolls back all of them. Otherwise each
        database runs and commits in turn, and a failure leaves the ones
        before it done.
    :param engine_names: Pass each revision the database's name as
        ``engine_name``, as the ``multidb`` template's revisions expect.
    :param urls: Every database URL, whose passwords are masked in the report.
    :param lock: Take each database's migration lock before reading its
        revision, holding it until every database is done.
    :param lock_timeout: Seconds to wait for locks other processes hold.
    :param kwargs: Passed to each revision's ``upgrade`` or ``downgrade``.
    :return: What ran on each database, by name, in the order they ran.
    :raise MigrationError: If a revision fails, saying where every database
        stands. The revision's exception is the cause.
    :raise LockTimeoutError: If another process held a lock for longer than
        ``lock_timeout``. Nothing has run then.
    """
    trackers = {name: _Tracker(fns[name], name, not together) for name in fns}
    names = list(trackers)
    running: str | None = None
    after: dict[str, tuple[str, ...]] = {}

    for context in contexts.values():
        # End what earlier reads began (SQLAlchemy begins on first use): on
        # SQLite, an open read keeps another connection to the same file from
        # committing.
        if context.connection is not None and context.connection.in_transaction():
            context.connection.commit()

    with contextlib.ExitStack() as locked:
        if lock:
            waited = locked.enter_context(_hold_locks(contexts, names, lock_timeout))

            for name, seconds in waited.items():
                trackers[name].waited = seconds

        try:
            with contextlib.ExitStack() as stack:
                if together:
                    for name in names:
                        stack.enter_context(contexts[name].begin_transaction())

                for name in names:
                    running = name
                    _run_one(
                        contexts[name], trackers[name], together, engine_names, kwargs
                    )

                running = None
        except Exception as e:
            if running is None or not trackers[running].steps:
                # Nothing had run yet: the error is about the request, not a
                # revision, and is reported as it is.
                raise

            error = _failure(operation, running, contexts, trackers, together, urls, e)
            raise error from e

        # Read while the locks are still held, so the revisions are those
        # this run left, not those of a process that came after it.
        after = {name: _read_heads(contexts[name]) for name in names}

    return {name: trackers[name].result(operation, after[name]) for name in names}


def _read_heads(context: MigrationContext) -> tuple[str, ...]:
    """The revision ids a database's version table records now."""
    assert context.connection is not None

    with reading(context.connection):
        return tuple(context.get_current_heads())


def _hold_locks(
    contexts: cabc.Mapping[str, MigrationContext],
    names: cabc.Sequence[str],
    timeout: float,
) -> t.ContextManager[dict[str, float]]:
    """Take the migration lock of each database that has one."""
    found = {}

    for name in names:
        context = contexts[name]
        assert context.connection is not None
        lock = locks.make_lock(
            context.connection, context.version_table_schema, context.version_table
        )

        if lock is not None:
            found[name] = lock

    return locks.hold(found, timeout)


def _run_one(
    context: MigrationContext,
    tracker: _Tracker,
    together: bool,
    engine_names: bool,
    kwargs: dict[str, t.Any],
) -> None:
    set_migrations_fn(context, tracker)
    run_kwargs = dict(kwargs)

    if engine_names:
        run_kwargs["engine_name"] = tracker.name

    started = time.perf_counter()

    with contextlib.ExitStack() as own:
        if not together:
            own.enter_context(context.begin_transaction())

        _alembic.defer_version_writes(context)

        # EnvironmentContext.run_migrations would use the last configured
        # context only; run each one directly with its own operations.
        with Operations.context(context):
            context.run_migrations(**run_kwargs)

    tracker.seconds = time.perf_counter() - started
    tracker.finished = True


class _Tracker:
    """Wraps a migrations function to know which step is running."""

    def __init__(self, fn: MigrationsFn, name: str, announce: bool) -> None:
        self.fn = fn
        self.name = name
        self.announce = announce
        self.before: tuple[str, ...] = ()
        self.step: t.Any = None
        self.steps = 0
        #: The revisions whose function ran, in order.
        self.ran: list[Script] = []
        self.finished = False
        #: Seconds the run took, once finished.
        self.seconds = 0.0
        #: Seconds spent waiting for another process's lock, if it was held.
        self.waited: float | None = None

    def __call__(self, heads: t.Any, context: MigrationContext) -> t.Iterator[t.Any]:
        self.before = tuple(heads)
        steps = list(self.fn(heads, context))

        if self.waited is not None:
            # Another process migrated while this one waited; the heads were
            # read after the lock was taken.
            left = f"{len(steps)} still to run" if steps else "nothing left to run"
            log.info(
                "Bind '%s': waited %.1f s for another process's migration; now"
                " at %s, %s.",
                self.name,
                self.waited,
                ", ".join(self.before) or "<base>",
                left,
            )

        for step in steps:
            if self.announce and not self.steps:
                assert context.connection is not None
                url = safe_url(context.connection.engine)
                log.info("Bind '%s' (%s)", self.name, url)

            self.step = step
            self.steps += 1
            yield step
            # The step has run: its module need not stay in memory.
            _alembic.release_module(step)
            # Stamp steps run no revision and have none.
            script = getattr(step, "revision", None)

            if isinstance(script, Script):
                self.ran.append(script)

        self.step = None
        # In one transaction, the version table is written once, here.
        _alembic.write_versions(context)

    def result(self, operation: str, after: tuple[str, ...]) -> BindRun:
        """What the finished run did."""
        return BindRun(
            self.name, operation, self.before, after, tuple(self.ran), self.seconds
        )


def _failure(
    operation: str,
    name: str,
    contexts: cabc.Mapping[str, MigrationContext],
    trackers: cabc.Mapping[str, _Tracker],
    together: bool,
    urls: cabc.Sequence[sa.URL],
    error: Exception,
) -> MigrationError:
    """Describe a failed run: the revision, the cause, where each bind is."""
    outcomes = []

    for other, tracker in trackers.items():
        context = contexts[other]
        now: tuple[str, ...] | None

        try:
            now = tuple(context.get_current_heads())
        except Exception:
            now = None
        finally:
            if context.connection is not None and context.connection.in_transaction():
                context.connection.rollback()

        if other == name:
            state = "failed"
        elif tracker.finished:
            state = "done"

            if together and tracker.steps and now == tracker.before:
                state = "rolled back"
        else:
            state = "not started"

        before = tracker.before if tracker.steps or tracker.finished else (now or ())
        outcomes.append(BindOutcome(other, state, before, now))

    failed = contexts[name]
    script = getattr(trackers[name].step, "revision", None)
    partial = not failed.impl.transactional_ddl
    return MigrationError(
        operation,
        name,
        script.revision if script is not None else None,
        (script.doc or None) if script is not None else None,
        _show_path(getattr(script, "path", None)),
        describe_error(error, urls),
        outcomes,
        partial=partial,
        url=safe_url(failed.connection.engine) if failed.connection else None,
        dialect=failed.dialect.name,
    )


def describe_error(error: BaseException, urls: cabc.Sequence[sa.URL] = ()) -> str:
    """One line about an exception a revision raised, without passwords.

    For a database error this is the driver's message and the statement.
    """
    original, line = _first_line(error)

    if isinstance(original, HistoryError):
        # Its first line only counts the problems.
        line = " ".join(problem.message for problem in original.problems)

    text = f"{type(original).__name__}: {line}" if line else type(original).__name__
    statement = getattr(error, "statement", None)

    if statement:
        statement = " ".join(str(statement).split())

        if len(statement) > 200:
            statement = statement[:197] + "..."

        text += f" [SQL: {statement}]"

    for url in urls:
        text = mask_password(text, url)

    return text


def _show_path(path: str | None) -> str | None:
    """A path relative to the working directory, where it is inside it."""
    if not path:
        return None

    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
