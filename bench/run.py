"""Benchmark flask_alembic against raw Alembic, in one run.

Generates revision histories and a schema under ``bench/.work``, then runs
each scenario as a whole process, for this package (``flask db ...``) and
for a minimal Alembic project of its own making (``alembic.ini`` +
``env.py``), alternating between the two, several times after a warm-up.
Prints a table of median wall-clock times, their ratio, and peak memory.

    python bench/run.py                      # the default sizes, SQLite
    python bench/run.py --sizes 100,1000,3000 --backends sqlite,postgresql
    python bench/run.py --sizes 20 --runs 1  # a smoke run, as CI does

Ratios are what to read: the machine is shared and noisy, and both sides run
in the same conditions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import typing as t
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"

#: The server each backend runs on; SQLite uses a file in the work directory.
SERVERS = {
    "postgresql": os.environ.get(
        "FLASK_ALEMBIC_TEST_POSTGRESQL_URL",
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": os.environ.get(
        "FLASK_ALEMBIC_TEST_MARIADB_URL",
        "mysql+pymysql://root@127.0.0.1:3306/mysql",
    ),
}

#: The read-only scenarios, each a command both tools have.
READ_ONLY = {
    "heads": (["db", "heads"], ["heads"]),
    "current": (["db", "current"], ["current"]),
    "log": (["db", "log"], ["history"]),
    "branches": (["db", "branches"], ["branches"]),
    "show": (["db", "show", "head"], ["show", "head"]),
}

REVISION = '''\
"""step {n}

Revision ID: {rev}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down_repr}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t{n}")
'''

APP = """\
import os

import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic

app = Flask(__name__, root_path=os.path.dirname(__file__))
app.config["ALEMBIC"] = {"script_location": "migrations"}
alembic = Alembic(
    app,
    metadatas=sa.MetaData(),
    engines=sa.create_engine(os.environ["BENCH_URL"]),
)
"""

ENV = """\
from alembic import context
import sqlalchemy as sa

config = context.config
engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)

    with context.begin_transaction():
        context.run_migrations()
"""

INI = """\
[alembic]
script_location = raw
version_locations = migrations
sqlalchemy.url = {url}
"""


def rev_id(n: int) -> str:
    return f"{n:012x}"


def write_history(root: Path, size: int) -> None:
    """A linear history of ``size`` revisions, each creating a table."""
    migrations = root / "migrations"
    migrations.mkdir(parents=True)

    for n in range(size):
        down = rev_id(n - 1) if n else None
        (migrations / f"{rev_id(n)}_step_{n}.py").write_text(
            REVISION.format(
                n=n,
                rev=rev_id(n),
                down=down or "",
                down_repr=repr(down),
            )
        )


def write_projects(root: Path, url: str) -> None:
    """The Flask app, and the raw Alembic project, on the same history."""
    (root / "bench_app.py").write_text(APP)
    raw = root / "raw"
    raw.mkdir()
    (raw / "env.py").write_text(ENV)
    template = Path(sys.prefix).glob("lib/python*/site-packages/alembic/templates")
    source = next(template) / "generic" / "script.py.mako"
    shutil.copy(source, raw / "script.py.mako")
    shutil.copy(source, root / "migrations" / "script.py.mako")
    (root / "alembic.ini").write_text(INI.format(url=url.replace("%", "%%")))


class Database:
    """A fresh database for each upgrade run."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root

        if backend == "sqlite":
            self.url = f"sqlite:///{root / 'bench.sqlite'}"
        else:
            server = sa.make_url(SERVERS[backend])
            self.server = server
            self.name = f"fa_bench_{os.getpid()}"
            self.url = server.set(database=self.name).render_as_string(
                hide_password=False
            )

    def reset(self) -> None:
        if self.backend == "sqlite":
            for path in self.root.glob("bench.sqlite*"):
                path.unlink()
            return

        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")

        with engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name}")
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")

        engine.dispose()

    def drop(self) -> None:
        if self.backend != "sqlite":
            engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")

            with engine.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name}")

            engine.dispose()


def measure(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return its wall-clock seconds and peak memory in MiB."""
    # Progress lines go to a file: a pipe nobody reads while waiting would
    # fill up and stop the process.
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)

        if process.returncode:
            stderr.seek(0)
            sys.exit(f"{' '.join(args)} failed:\n{stderr.read().decode()}")

    return elapsed, usage.ru_maxrss / 1024


class Result(t.NamedTuple):
    scenario: str
    size: int
    backend: str
    ours: float
    raw: float
    ours_mib: float
    raw_mib: float


def run_scenario(
    name: str,
    ours: list[str],
    raw: list[str],
    root: Path,
    env: dict[str, str],
    runs: int,
    before: t.Callable[[], None] | None = None,
) -> tuple[float, float, float, float]:
    """Alternate the two commands, after one warm-up each; medians."""
    python = [sys.executable]
    commands = {
        "ours": [*python, "-m", "flask", "--app", "bench_app", *ours],
        "raw": [*python, "-m", "alembic", "-c", "alembic.ini", *raw],
    }
    times: dict[str, list[float]] = {"ours": [], "raw": []}
    peaks: dict[str, list[float]] = {"ours": [], "raw": []}

    for index in range(runs + 1):
        for side, command in commands.items():
            if before is not None:
                before()

            elapsed, peak = measure(command, root, env)

            if index:  # the first run of each side is the warm-up
                times[side].append(elapsed)
                peaks[side].append(peak)

    return (
        statistics.median(times["ours"]),
        statistics.median(times["raw"]),
        max(peaks["ours"]),
        max(peaks["raw"]),
    )


def bench(size: int, backend: str, runs: int, scenarios: list[str]) -> list[Result]:
    root = WORK / f"{backend}-{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    write_history(root, size)
    database = Database(backend, root)
    write_projects(root, database.url)
    env = {**os.environ, "BENCH_URL": database.url, "PYTHONPATH": str(root)}
    # Compiled modules are kept, as on a developer's machine, for both sides.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = []

    try:
        # The floor: importing the app alone.
        if "import" in scenarios:
            floor = [sys.executable, "-c", "import bench_app"]
            database.reset()
            times = []
            peaks = []

            for index in range(runs + 1):
                elapsed, peak = measure(floor, root, env)

                if index:
                    times.append(elapsed)
                    peaks.append(peak)

            median = statistics.median(times)
            results.append(
                Result("import app", size, backend, median, median, max(peaks), 0)
            )

        if "upgrade" in scenarios:
            ours, raw, ours_mib, raw_mib = run_scenario(
                "upgrade",
                ["db", "upgrade"],
                ["upgrade", "heads"],
                root,
                env,
                runs,
                before=database.reset,
            )
            results.append(
                Result("upgrade", size, backend, ours, raw, ours_mib, raw_mib)
            )

        # Read-only commands on an up-to-date database.
        database.reset()
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", "alembic.ini", "upgrade", "heads"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )

        for name, (ours_args, raw_args) in READ_ONLY.items():
            if name not in scenarios:
                continue

            ours, raw, ours_mib, raw_mib = run_scenario(
                name, ours_args, raw_args, root, env, runs
            )
            results.append(Result(name, size, backend, ours, raw, ours_mib, raw_mib))
    finally:
        database.drop()

    return results


def print_table(results: list[Result]) -> None:
    header = [
        "scenario",
        "size",
        "backend",
        "flask_alembic s",
        "alembic s",
        "ratio",
        "flask_alembic MiB",
        "alembic MiB",
    ]
    rows = [header]

    for r in results:
        if r.scenario == "import app":
            rows.append(
                [r.scenario, str(r.size), r.backend, f"{r.ours:.3f}", "-", "-"]
                + [f"{r.ours_mib:.1f}", "-"]
            )
            continue

        rows.append(
            [
                r.scenario,
                str(r.size),
                r.backend,
                f"{r.ours:.3f}",
                f"{r.raw:.3f}",
                f"{r.ours / r.raw:.2f}",
                f"{r.ours_mib:.1f}",
                f"{r.raw_mib:.1f}",
            ]
        )

    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--sizes", default="100,1000", help="Revision counts.")
    parser.add_argument("--backends", default="sqlite", help="sqlite,postgresql,...")
    parser.add_argument("--runs", type=int, default=5, help="Runs after a warm-up.")
    parser.add_argument(
        "--scenarios",
        default=",".join(["import", "upgrade", *READ_ONLY]),
        help="Which scenarios to run.",
    )
    options = parser.parse_args()
    scenarios = options.scenarios.split(",")
    results = []

    for backend in options.backends.split(","):
        for size in [int(s) for s in options.sizes.split(",")]:
            results.extend(bench(size, backend, options.runs, scenarios))

    print_table(results)


if __name__ == "__main__":
    main()
