"""The migration locks (``ALEMBIC["lock"]``, ``ALEMBIC["lock_timeout"]``),
with real ``flask db`` processes where it matters.

Each test writes a small app (:data:`APP`) and hand-written revisions into its
``tmp_path``; the processes get the database URLs and ``ALEMBIC`` from
environment variables. The test process holds a lock itself with
:func:`flask_alembic.locks.make_lock` to make others wait.

Revisions that must overlap do not sleep for a guessed time: the app counts,
in a directory, the processes that logged that they are waiting for the lock,
and the revision running under the lock waits until all the others are there
(see :data:`BARRIER`). So every run overlaps, however slow the machine.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import ConfigError
from flask_alembic import LockTimeoutError
from flask_alembic import MigrationError
from flask_alembic.locks import make_lock
from flask_alembic.locks import PostgresLock

from .cli.conftest import fails
from .cli.conftest import invoke
from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: The app each ``flask`` process loads. ``LOCKTEST_URLS`` maps bind names to
#: URLs; with more than one, each gets a metadata of its own.
APP = '''\
"""The app of tests/test_locks.py."""

import json
import logging
import os

import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic


class Arrived(logging.Handler):
    """Leaves a file named after the process in LOCKTEST_SYNC once it logs
    that it waits for the lock.
    """

    def emit(self, record):
        if "waiting for another process" in record.getMessage():
            path = os.path.join(os.environ["LOCKTEST_SYNC"], str(os.getpid()))
            open(path, "w").close()


if os.environ.get("LOCKTEST_SYNC"):
    logging.getLogger("flask_alembic.locks").addHandler(Arrived())

urls = json.loads(os.environ["LOCKTEST_URLS"])
engines = {name: sa.create_engine(url) for name, url in urls.items()}
app = Flask(__name__, root_path=os.path.dirname(os.path.abspath(__file__)))
app.config["ALEMBIC"] = json.loads(os.environ.get("LOCKTEST_ALEMBIC", "{}"))

if list(urls) == ["default"]:
    Alembic(app, metadatas=sa.MetaData(), engines=engines["default"])
else:
    Alembic(app, metadatas={name: sa.MetaData() for name in urls}, engines=engines)
'''

#: A hand-written revision file.
REVISION = '''\
"""{doc}"""

import os
import time

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
'''

#: Revision code that waits until ``LOCKTEST_WAITERS`` other processes are
#: waiting for the lock (at most 15 s, after which the test's assertions
#: fail), so that they all overlap the revision.
BARRIER = """\
sync = os.environ.get("LOCKTEST_SYNC")
if sync:
    deadline = time.monotonic() + 15
    while (
        len(os.listdir(sync)) < int(os.environ["LOCKTEST_WAITERS"])
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
"""

#: Creates ``item`` with one row.
CREATE_ITEM = """\
op.create_table("item", sa.Column("id", sa.Integer, primary_key=True))
op.execute("INSERT INTO item (id) VALUES (1)")
"""

#: Creates ``other``.
CREATE_OTHER = """\
op.create_table("other", sa.Column("id", sa.Integer, primary_key=True))
"""

#: How many ``flask db upgrade`` processes start at once.
PROCESSES = 6

#: The password put into PostgreSQL URLs. The server trusts local
#: connections, so it is never checked, but it must never be shown.
PASSWORD = "s3cr3t-Pw"

#: The line Alembic logs when revision 0001 runs on an empty database.
RAN_0001 = "INFO  [alembic.runtime.migration] Running upgrade  -> 0001, first"

#: The line of a process that waited, then found everything done.
WAITED = re.compile(
    r"INFO  \[flask_alembic\.runner\] Bind 'default': waited \d+\.\d s for"
    r" another process's migration; now at 0002, nothing left to run\."
)


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines, as the subprocess app uses."""
    return t.cast(str, request.param)


@dataclasses.dataclass
class Run:
    """A finished ``flask`` process."""

    code: int
    stdout: str
    stderr: str


@dataclasses.dataclass
class Project:
    """The app file and migrations in ``tmp_path``."""

    root: Path

    @property
    def app_file(self) -> Path:
        return self.root / "lockapp.py"

    def revision(
        self,
        revision: str,
        down: str | None,
        body: str,
        *,
        doc: str,
        directory: str = "migrations",
        labels: tuple[str, ...] | None = None,
    ) -> None:
        """Write a revision file whose ``upgrade()`` runs ``body``."""
        path = self.root / directory / f"{revision}_{doc.replace(' ', '_')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            REVISION.format(
                doc=doc,
                revision=revision,
                down=down,
                labels=labels,
                body=textwrap.indent(body, "    "),
            )
        )

    def history(self) -> None:
        """Revision 0001 creates ``item`` with one row and waits for the
        other processes; 0002 creates ``other``.
        """
        self.revision("0001", None, BARRIER + CREATE_ITEM, doc="first")
        self.revision("0002", "0001", CREATE_OTHER, doc="second")

    def start(
        self,
        urls: dict[str, str],
        config: dict[str, t.Any] | None = None,
        **env: str,
    ) -> subprocess.Popen[str]:
        """Start ``flask db upgrade``; ``env`` adds ``LOCKTEST_*`` variables."""
        environ = dict(os.environ)
        environ["LOCKTEST_URLS"] = json.dumps(urls)
        environ["LOCKTEST_ALEMBIC"] = json.dumps(config or {})
        environ.update({f"LOCKTEST_{key.upper()}": value for key, value in env.items()})
        flask = [sys.executable, "-m", "flask", "--app", str(self.app_file)]
        return subprocess.Popen(
            [*flask, "db", "upgrade"],
            env=environ,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def crowd(
        self, urls: dict[str, str], config: dict[str, t.Any] | None = None
    ) -> list[Run]:
        """Start :data:`PROCESSES` upgrades at once; the one that runs 0001
        waits until all the others wait for it.
        """
        sync = self.root / "sync"
        sync.mkdir()
        waiters = str(PROCESSES - 1)
        processes = [
            self.start(urls, config, sync=str(sync), waiters=waiters)
            for _ in range(PROCESSES)
        ]
        return [finish(process) for process in processes]


def finish(process: subprocess.Popen[str]) -> Run:
    """Wait for a process and collect its output."""
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise

    return Run(process.returncode, stdout, stderr)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The app file, and no revisions yet."""
    project = Project(tmp_path)
    project.app_file.write_text(APP)
    return project


def with_password(url: str) -> str:
    """A PostgreSQL URL with :data:`PASSWORD`; other URLs as they are."""
    parsed = sa.make_url(url)

    if parsed.get_backend_name() != "postgresql":
        return url

    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


def masked(url: str) -> str:
    """A URL as messages show it."""
    return sa.make_url(url).render_as_string(hide_password=True)


@pytest.fixture
def db(make_url: cabc.Callable[..., str]) -> str:
    """A fresh database on the test's backend; PostgreSQL's URL carries a
    password.
    """
    return with_password(make_url())


@contextlib.contextmanager
def connection(url: str) -> cabc.Iterator[sa.Connection]:
    """A connection of its own, closed and disposed afterwards."""
    engine = sa.create_engine(url)

    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@contextlib.contextmanager
def held(url: str, table: str = "alembic_version") -> cabc.Iterator[str]:
    """Hold a database's migration lock from the test process; yield the
    holder a waiting process reports.
    """
    with connection(url) as conn:
        lock = make_lock(conn, None, table)
        assert lock is not None
        assert lock.try_acquire()

        try:
            yield own_holder(conn)
        finally:
            lock.release()


def own_holder(conn: sa.Connection) -> str:
    """How another process describes this connection holding the lock."""
    dialect = conn.dialect.name

    if dialect == "postgresql":
        pid, application, client, since = conn.execute(
            sa.text(
                "SELECT pid, application_name, host(client_addr), backend_start"
                " FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            )
        ).one()
        conn.commit()
        assert application == ""
        return (
            f"PostgreSQL backend pid {pid}, client {client},"
            f" connected since {since:%Y-%m-%d %H:%M:%S}"
        )

    if dialect == "mysql":
        connection_id, host = conn.execute(
            sa.text(
                "SELECT ID, HOST FROM information_schema.PROCESSLIST"
                " WHERE ID = CONNECTION_ID()"
            )
        ).one()
        conn.commit()
        return f"connection id {connection_id}, user 'root' from {host}"

    return f"process pid {os.getpid()} on host {socket.gethostname()}"


def lock_is_free(url: str, table: str = "alembic_version") -> bool:
    """Whether a new connection gets the lock at once (it gives it back)."""
    with connection(url) as conn:
        lock = make_lock(conn, None, table)
        assert lock is not None

        if not lock.try_acquire():
            return False

        lock.release()
        return True


def scalar(url: str, sql: str) -> t.Any:
    """The value of one query."""
    with connection(url) as conn:
        return conn.execute(sa.text(sql)).scalar()


def gave_up(url: str, holder: str) -> str:
    """The message of a lock timeout of 0.5 s on the default bind."""
    return (
        f"Gave up after 0.5 s waiting for the migration lock of bind 'default'"
        f" ({masked(url)}), held by {holder}. Nothing was changed. Run the"
        " command again once that migration has finished, or raise"
        " ALEMBIC['lock_timeout']."
    )


def app_on(
    make_app: AppFactory,
    url: str,
    config: dict[str, t.Any] | None = None,
    metadata: sa.MetaData | None = None,
) -> tuple[Flask, Alembic]:
    """An in-process app on the project's migrations."""
    return make_app({"default": url}, metadata or sa.MetaData(), config=config)


# Many processes at once


def test_processes_apply_each_revision_once(
    project: Project, db: str, backend: str
) -> None:
    """Six processes upgrading one fresh database at once all succeed; one
    runs the revisions, the five others wait and then find nothing to run.
    """
    project.history()
    runs = project.crowd({"default": db})

    assert [run.code for run in runs] == [0] * PROCESSES, runs
    assert scalar(db, "SELECT count(*) FROM item") == 1
    assert version_rows(db) == ["0002"]
    assert table_names(db) == ["alembic_version", "item", "other"]
    ran = [run for run in runs if RAN_0001 in run.stderr.splitlines()]
    assert len(ran) == 1, [run.stderr for run in runs]
    others = [run for run in runs if run is not ran[0]]
    waited = [
        run
        for run in others
        if any(WAITED.fullmatch(line) for line in run.stderr.splitlines())
    ]
    assert len(waited) == PROCESSES - 1, [run.stderr for run in others]
    assert all("Running upgrade" not in run.stderr for run in others)
    assert all(PASSWORD not in run.stderr + run.stdout for run in runs)


def test_processes_per_bind(
    project: Project, make_url: cabc.Callable[..., str], backend: str
) -> None:
    """Six processes upgrading two binds with histories of their own all
    succeed, and each bind's revisions run once.
    """
    urls = {"default": with_password(make_url()), "auth": with_password(make_url())}
    project.history()
    project.revision(
        "a001",
        None,
        'op.create_table("account", sa.Column("id", sa.Integer, primary_key=True))\n'
        'op.execute("INSERT INTO account (id) VALUES (1)")\n',
        doc="accounts",
        directory="migrations/auth",
        labels=("auth",),
    )
    runs = project.crowd(urls, {"binds": {"auth": {}}})

    assert [run.code for run in runs] == [0] * PROCESSES, runs
    assert version_rows(urls["default"]) == ["0002"]
    assert version_rows(urls["auth"]) == ["a001"]
    assert scalar(urls["default"], "SELECT count(*) FROM item") == 1
    assert scalar(urls["auth"], "SELECT count(*) FROM account") == 1
    stderr = "".join(run.stderr for run in runs)
    assert stderr.count("Running upgrade  -> 0001") == 1
    assert stderr.count("Running upgrade  -> a001") == 1
    assert stderr.count("waiting for another process's migration") == PROCESSES - 1


# Waiting too long


def test_timeout_process(project: Project, db: str) -> None:
    """A process that cannot get the lock within lock_timeout exits 1 with
    one line naming the holder, and changes nothing.
    """
    project.history()

    with held(db) as holder:
        run = finish(project.start({"default": db}, {"lock_timeout": 0.5}))

    assert run.code == 1, run
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "Error" in line]
    assert errors == [f"Error: {gave_up(db, holder)}"]
    assert PASSWORD not in run.stderr + run.stdout
    assert table_names(db) == []


def test_timeout_api(make_app: AppFactory, project: Project, db: str) -> None:
    """Alembic.upgrade() raises LockTimeoutError saying which bind, where,
    how long and who holds the lock.
    """
    project.history()
    app, alembic = app_on(make_app, db, {"lock_timeout": 0.5})

    with held(db) as holder, app.app_context():
        with pytest.raises(LockTimeoutError) as info:
            alembic.upgrade()

    error = info.value
    assert (error.name, error.url, error.timeout, error.holder) == (
        "default",
        masked(db),
        0.5,
        holder,
    )
    assert str(error) == gave_up(db, holder)
    assert table_names(db) == []


def test_timeout_zero_tries_once(
    make_app: AppFactory, project: Project, db: str
) -> None:
    """lock_timeout 0 tries the lock once and gives up at once."""
    project.history()
    app, alembic = app_on(make_app, db, {"lock_timeout": 0})

    with held(db) as holder, app.app_context():
        with pytest.raises(LockTimeoutError) as info:
            alembic.upgrade()

    assert info.value.timeout == 0
    assert info.value.holder == holder
    assert str(info.value).startswith(
        "Gave up after 0 s waiting for the migration lock of bind 'default'"
    )
    assert table_names(db) == []


# Released


@pytest.mark.parametrize("fails_at", [None, "0002"])
def test_released_afterwards(
    make_app: AppFactory,
    project: Project,
    db: str,
    backend: str,
    fails_at: str | None,
) -> None:
    """After an upgrade in this process, whether it succeeded or a revision
    raised, another connection takes the lock at once.
    """
    project.revision("0001", None, CREATE_ITEM, doc="first")
    body = 'raise RuntimeError("broken")' if fails_at else CREATE_OTHER
    project.revision("0002", "0001", body, doc="second")
    app, alembic = app_on(make_app, db, {"lock_timeout": 0})

    with app.app_context():
        if fails_at:
            with pytest.raises(MigrationError) as info:
                alembic.upgrade()

            assert info.value.revision == fails_at
        else:
            alembic.upgrade()

    if not fails_at:
        assert version_rows(db) == ["0002"]
    elif backend == "mariadb":
        # Without transactional DDL, each revision is committed as it ends.
        assert version_rows(db) == ["0001"]
    else:
        # One database runs in one transaction: 0001 is rolled back too.
        assert version_rows(db) == []

    assert lock_is_free(db)


def test_released_from_pooled_connection(
    make_app: AppFactory, project: Project, db: str, backend: str
) -> None:
    """An upgrade through an engine with a connection pool leaves no lock
    behind in the pool's connections.
    """
    project.history()
    app, alembic = app_on(make_app, db)

    with app.app_context():
        assert isinstance(alembic.engines["default"].pool, sa.pool.QueuePool)
        alembic.upgrade()
        # Check while the app's engine and its pool are still alive.
        assert lock_is_free(db)

        if backend == "postgresql":
            advisory = scalar(
                db,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                f" AND classid = {PostgresLock.NAMESPACE} AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            assert PostgresLock.NAMESPACE == 1179402562
            assert advisory == 0
        elif backend == "mariadb":
            name = f"flask_alembic:{sa.make_url(db).database}.alembic_version"
            assert scalar(db, f"SELECT IS_USED_LOCK('{name}')") is None

    assert version_rows(db) == ["0002"]


def test_sigterm_rolls_back_and_releases(
    project: Project, db: str, backend: str
) -> None:
    """SIGTERM during a revision ends the process with status 143, rolls the
    revision back where DDL is transactional, and releases the lock.
    """
    project.revision("0001", None, CREATE_ITEM + "time.sleep(30)\n", doc="first")
    process = project.start({"default": db})
    assert process.stderr is not None
    seen = []

    for line in process.stderr:
        seen.append(line)

        if line.startswith(RAN_0001):
            break

    assert seen and seen[-1].startswith(RAN_0001), seen
    process.send_signal(signal.SIGTERM)
    run = finish(process)

    assert run.code == 143, run
    assert lock_is_free(db)
    assert version_rows(db) == []

    if backend != "mariadb":
        # MariaDB commits each DDL statement as it runs.
        assert table_names(db) == []


# Commands that do not lock


#: Every command that only reads, with the arguments it needs.
READ_ONLY = [
    ["current"],
    ["heads"],
    ["status"],
    ["log"],
    ["check"],
    ["verify"],
    ["upgrade", "--plan"],
    ["upgrade", "--sql"],
    ["downgrade", "--plan"],
    ["downgrade", "--sql", "0002:0001"],
    ["stamp", "--sql", "0001"],
]


def test_read_only_commands_never_wait(
    make_app: AppFactory, project: Project, db: str
) -> None:
    """While another process holds the lock, the read-only commands run
    without waiting, while upgrade gives up.
    """
    project.history()
    metadata = sa.MetaData()
    sa.Table("item", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("other", metadata, sa.Column("id", sa.Integer, primary_key=True))
    app, _ = app_on(make_app, db, {"lock_timeout": 0.5}, metadata)
    runner = app.test_cli_runner()
    invoke(runner, "upgrade")

    with held(db) as holder:
        for args in READ_ONLY:
            result = invoke(runner, *args)
            assert "waiting" not in result.output, args

        assert fails(runner, "upgrade") == f"Error: {gave_up(db, holder)}"

    assert version_rows(db) == ["0002"]


# Turning the lock off, and what it covers


@pytest.mark.parametrize(
    ("config", "locked"),
    [({}, True), ({"lock": True}, True), ({"lock": False}, False)],
)
def test_lock_setting(
    make_app: AppFactory,
    project: Project,
    db: str,
    config: dict[str, t.Any],
    locked: bool,
) -> None:
    """With ALEMBIC["lock"] false, upgrade runs while another process holds
    the lock; otherwise it gives up.
    """
    project.history()
    app, _ = app_on(make_app, db, {**config, "lock_timeout": 0.5})
    runner = app.test_cli_runner()

    with held(db) as holder:
        if locked:
            assert fails(runner, "upgrade") == f"Error: {gave_up(db, holder)}"
        else:
            invoke(runner, "upgrade")

    assert version_rows(db) == ([] if locked else ["0002"])


def test_other_database_not_blocked(
    make_app: AppFactory,
    project: Project,
    make_url: cabc.Callable[..., str],
) -> None:
    """The lock of one database does not block an upgrade of another on the
    same server (another file on SQLite).
    """
    project.history()
    first, second = with_password(make_url()), with_password(make_url())
    app, _ = app_on(make_app, second, {"lock_timeout": 0.5})

    with held(first):
        invoke(app.test_cli_runner(), "upgrade")

    assert version_rows(second) == ["0002"]
    assert version_rows(first) == []


def test_other_version_table_not_blocked(
    make_app: AppFactory, project: Project, db: str
) -> None:
    """The lock of another version table in the same database does not
    block an upgrade.
    """
    project.history()
    app, _ = app_on(make_app, db, {"lock_timeout": 0.5})

    with held(db, table="other_version"):
        invoke(app.test_cli_runner(), "upgrade")

    assert version_rows(db) == ["0002"]


# Configuration


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"lock_timeout": -1},
            "ALEMBIC.lock_timeout: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            {"lock_timeout": "soon"},
            "ALEMBIC.lock_timeout: Input should be a valid number, unable to parse"
            " string as a number (got 'soon')",
        ),
        (
            {"lock": "maybe"},
            "ALEMBIC.lock: Input should be a valid boolean, unable to interpret"
            " input (got 'maybe')",
        ),
        ({"lock": None}, "ALEMBIC.lock: Input should be a valid boolean (got None)"),
    ],
)
def test_config_invalid(
    make_app: AppFactory, url: str, config: dict[str, t.Any], problem: str
) -> None:
    """Invalid lock settings are a ConfigError naming the key."""
    with pytest.raises(ConfigError) as info:
        app_on(make_app, url, config)

    assert str(info.value) == f"The Alembic configuration has 1 problem:\n  {problem}"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("value", "locked"), [("yes", True), ("no", False)])
def test_config_lock_string(
    make_app: AppFactory,
    project: Project,
    url: str,
    value: str,
    locked: bool,
) -> None:
    """Pydantic reads "yes" and "no" as booleans, as from an environment
    variable.
    """
    project.history()
    app, _ = app_on(make_app, url, {"lock": value, "lock_timeout": 0.5})
    runner = app.test_cli_runner()

    with held(url) as holder:
        if locked:
            assert fails(runner, "upgrade") == f"Error: {gave_up(url, holder)}"
        else:
            invoke(runner, "upgrade")

    assert version_rows(url) == ([] if locked else ["0002"])
