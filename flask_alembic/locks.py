"""Locks that keep two processes from migrating one database at once.

Each database gets the lock its server offers: a session advisory lock on
PostgreSQL, ``GET_LOCK`` on MariaDB and MySQL, and an exclusive ``flock`` on a
file beside an SQLite database. Each lock is named after the database and its
version table, so two histories in one database never wait for each other.

Locks are taken by polling, so that a wait can be interrupted, can time out
with a report of who holds the lock, and behaves the same on every backend.
No Flask here.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import types
import typing as t

import sqlalchemy as sa

from .errors import LockTimeoutError
from .targets import reading
from .targets import safe_url

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: How long to sleep between two tries of a lock that is held, in seconds.
POLL_INTERVAL = 0.1


class Lock:
    """A lock on one database's version table. Subclasses know how their
    server takes, releases and describes it.
    """

    #: What the lock is called, also the order locks are taken in.
    key: str

    def __init__(self, connection: sa.Connection, schema: str | None, table: str):
        self.connection = connection
        self.table = f"{schema}.{table}" if schema else table

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting."""
        raise NotImplementedError

    def release(self) -> None:
        """Give the lock back."""
        raise NotImplementedError

    def holder(self) -> str | None:
        """Who holds the lock, as far as the database can tell."""
        return None

    def _scalar(self, sql: str, **params: t.Any) -> t.Any:
        """Run a query outside any migration transaction and end the
        transaction it began, so that a lock taken never waits on a
        transaction.
        """
        with reading(self.connection) as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def _first(self, sql: str, **params: t.Any) -> t.Any:
        """The first row of a query, run as :meth:`_scalar` runs one."""
        with reading(self.connection) as connection:
            return connection.execute(sa.text(sql), params).first()


class PostgresLock(Lock):
    """A session-level advisory lock. PostgreSQL scopes these to the current
    database; the two keys are a fixed namespace and a hash of the version
    table's name.
    """

    #: The first key of every flask_alembic advisory lock.
    NAMESPACE = 0x464C_4142  # "FLAB"

    def __init__(self, connection: sa.Connection, schema: str | None, table: str):
        super().__init__(connection, schema, table)
        self.key = f"postgresql:{connection.engine.url.database}:{self.table}"
        self.id = _int_hash(self.table)

    def try_acquire(self) -> bool:
        return bool(
            self._scalar(
                "SELECT pg_try_advisory_lock(:ns, :id)", ns=self.NAMESPACE, id=self.id
            )
        )

    def release(self) -> None:
        self._scalar(
            "SELECT pg_advisory_unlock(:ns, :id)", ns=self.NAMESPACE, id=self.id
        )

    def holder(self) -> str | None:
        row = self._first(
            "SELECT a.pid, a.application_name, host(a.client_addr),"
            " a.backend_start FROM pg_locks l JOIN pg_stat_activity a"
            " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid = :ns AND l.objid = :id AND l.objsubid = 2"
            " AND l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            ns=self.NAMESPACE,
            id=self.id,
        )

        if row is None:
            return None

        pid, application, client, since = row
        parts = [f"PostgreSQL backend pid {pid}"]

        if application:
            parts.append(f"application '{application}'")

        parts.append(f"client {client or 'local socket'}")
        parts.append(f"connected since {since:%Y-%m-%d %H:%M:%S}")
        return ", ".join(parts)


class MySQLLock(Lock):
    """A ``GET_LOCK`` named lock. These are server-wide, so the name holds the
    database's name as well as the version table's, hashed when it would be
    longer than the 64 characters the server allows.
    """

    def __init__(self, connection: sa.Connection, schema: str | None, table: str):
        super().__init__(connection, schema, table)
        database = schema or self._scalar("SELECT DATABASE()")
        name = f"flask_alembic:{database}.{table}"

        if len(name) > 64:
            name = "flask_alembic:" + hashlib.sha1(name.encode()).hexdigest()

        self.name = name
        self.key = f"mysql:{name}"

    def try_acquire(self) -> bool:
        return bool(self._scalar("SELECT GET_LOCK(:name, 0)", name=self.name) == 1)

    def release(self) -> None:
        self._scalar("SELECT RELEASE_LOCK(:name)", name=self.name)

    def holder(self) -> str | None:
        holder_id = self._scalar("SELECT IS_USED_LOCK(:name)", name=self.name)

        if holder_id is None:
            return None

        row = self._first(
            "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = :id",
            id=holder_id,
        )
        text = f"connection id {holder_id}"

        if row is not None:
            user, host = row
            text += f", user '{user}' from {host}"

        return text


class SQLiteLock(Lock):
    """An exclusive ``flock`` on ``<database file>.<version table>.lock``.
    The file stays after the lock is released; it holds the process id and
    host of the last holder, which a timeout reports.
    """

    def __init__(
        self,
        connection: sa.Connection,
        schema: str | None,
        table: str,
        path: str,
    ) -> None:
        super().__init__(connection, schema, table)
        self.path = f"{path}.{table}.lock"
        self.key = f"sqlite:{self.path}"
        self.file: t.IO[str] | None = None

    def try_acquire(self) -> bool:
        assert fcntl is not None
        file = open(self.path, "a+", encoding="utf-8")

        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        except BaseException:
            file.close()
            raise

        file.seek(0)
        file.truncate()
        file.write(f"pid {os.getpid()} on host {socket.gethostname()}\n")
        file.flush()
        self.file = file
        return True

    def release(self) -> None:
        if self.file is not None:
            assert fcntl is not None
            fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
            self.file.close()
            self.file = None

    def holder(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as file:
                text = file.read().strip()
        except OSError:
            return None

        return f"process {text}" if text else None


def _int_hash(text: str) -> int:
    """A stable, non-negative 31-bit hash of a text."""
    digest = hashlib.sha1(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def make_lock(connection: sa.Connection, schema: str | None, table: str) -> Lock | None:
    """The lock for a database's version table, or ``None`` where there is
    nothing to lock (an in-memory SQLite database) or no lock is known for
    the database (which is logged).
    """
    dialect = connection.dialect.name

    if dialect == "postgresql":
        return PostgresLock(connection, schema, table)

    if dialect in ("mysql", "mariadb"):
        return MySQLLock(connection, schema, table)

    if dialect == "sqlite":
        path = _sqlite_file(connection, schema)

        if not path:
            # In memory: no other process can see it.
            return None

        if fcntl is None:  # pragma: no cover - Windows
            log.warning("No file locks on this system: '%s' is not locked.", path)
            return None

        return SQLiteLock(connection, schema, table, path)

    log.warning(
        "No migration lock is known for %s databases: '%s' is not locked.",
        dialect,
        safe_url(connection.engine),
    )
    return None


def _sqlite_file(connection: sa.Connection, schema: str | None) -> str | None:
    """The file of an SQLite database (``main`` or an attached schema)."""
    with reading(connection):
        rows = connection.exec_driver_sql("PRAGMA database_list").all()

    for _seq, name, file in rows:
        if name == (schema or "main"):
            return str(file) or None

    return None


@contextlib.contextmanager
def hold(
    locks: cabc.Mapping[str, Lock], timeout: float
) -> cabc.Iterator[dict[str, float]]:
    """Take every lock, in the order of their keys, and release them all on
    the way out, whatever ends the block.

    A SIGTERM while the locks are held ends the process through Python's own
    exit, so transactions roll back and locks are released before it dies.

    :param locks: The lock of each database, by name.
    :param timeout: Seconds to wait in all before giving up.
    :return: How long each database's lock was waited for, for those whose
        lock another process held.
    :raise LockTimeoutError: If a lock is still held by another process
        after ``timeout``. The locks already taken are released.
    """
    deadline = time.monotonic() + timeout
    waited: dict[str, float] = {}
    taken: list[Lock] = []

    with contextlib.ExitStack() as stack:
        stack.callback(_release_all, taken)
        stack.enter_context(_exit_on_sigterm())

        for name, lock in sorted(locks.items(), key=lambda item: item[1].key):
            started = time.monotonic()
            announced = False

            while not lock.try_acquire():
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        name, safe_url(lock.connection.engine), timeout, lock.holder()
                    )

                if not announced:
                    holder = lock.holder()
                    log.info(
                        "Bind '%s': waiting for another process's migration to"
                        " finish%s.",
                        name,
                        f" ({holder})" if holder else "",
                    )
                    announced = True

                time.sleep(POLL_INTERVAL)

            taken.append(lock)

            if announced:
                waited[name] = time.monotonic() - started

        yield waited


def _release_all(locks: list[Lock]) -> None:
    for lock in reversed(locks):
        connection = lock.connection

        try:
            if connection.in_transaction():
                connection.rollback()

            lock.release()
        except Exception:
            # The connection is broken or closed: the server has let go of
            # its session locks, and the connection is discarded.
            log.debug("Could not release %s", lock.key, exc_info=True)


@contextlib.contextmanager
def _exit_on_sigterm() -> cabc.Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` while the block runs, where the
    process has not set its own handler and this is the main thread.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def terminate(signum: int, frame: types.FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)

    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
