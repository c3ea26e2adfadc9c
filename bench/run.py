"""Benchmark flask_alembic against raw Alembic, in one run.

Generates revision histories and a schema under ``bench/.work``, then runs
each scenario as a whole process, for this package (``flask db ...``) and
for a minimal Alembic project of its own making (``alembic.ini`` +
``env.py``) on the same files and database, alternating between the two and
the floor (importing the Flask app alone), several times after a warm-up.
Prints a table of median wall-clock times, their ratios, and peak memory.
A second floor, importing the app and ending as ``flask db`` commands end
(without the interpreter's last walks of every object), shows what the
command itself costs.

    python bench/run.py                      # the default sizes, SQLite
    python bench/run.py --sizes 100,1000,3000 --backends sqlite,postgresql
    python bench/run.py --sizes 20 --tables 10 --runs 1   # CI's smoke run

Histories: ``linear`` (each revision creates a table of one column, without
a key: PostgreSQL's default lock table holds about 6400 locks per
transaction, which 3000 tables with keys and sequences would exceed),
``branchy`` (an
unlabelled trunk where every fourth revision merges two, and four labelled
branches whose revisions sometimes depend on the trunk) and ``schema`` (no
revisions; a model of ``--tables`` tables of 10 columns with indexes and
foreign keys, for ``check`` and for autogenerating the first revision).

PostgreSQL and MariaDB need their drivers, which ``pip install -e '.[dev]'``
installs with the rest of what the tests need.

Ratios are what to read: the machine may be shared and noisy, and all sides
run in the same conditions, in turn.
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

import alembic
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

#: The read-only scenarios: the ``flask db`` arguments, and raw Alembic's
#: (``None`` where it has no such command; those are compared to the floor
#: only). ``{head}`` is the newest revision's id.
READ_ONLY: dict[str, tuple[list[str], list[str] | None]] = {
    "heads": (["heads"], ["heads"]),
    "current": (["current"], ["current"]),
    "status": (["status"], None),
    "log": (["log"], ["history"]),
    "branches": (["branches"], ["branches"]),
    "show": (["show", "{head}"], ["show", "{head}"]),
}

SCENARIOS = ["upgrade", *READ_ONLY, "check", "revision"]

REVISION = '''\
"""step {n}

Revision ID: {rev}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    op.create_table("t{n}", sa.Column("id", sa.Integer))


def downgrade():
    op.drop_table("t{n}")
'''

MODELS = """\
import sqlalchemy as sa

metadata = sa.MetaData()

for n in range({tables}):
    parent = (
        sa.Column("parent_id", sa.Integer, sa.ForeignKey(f"s{{n - 1}}.id"), index=True)
        if n
        else sa.Column("parent_id", sa.Integer)
    )
    sa.Table(
        f"s{{n}}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("code", sa.String(20), unique=True),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean),
        sa.Column("created", sa.DateTime),
        sa.Column("notes", sa.Text),
        sa.Column("score", sa.Float),
        parent,
        sa.Index(f"ix_s{{n}}_name_count", "name", "count"),
    )
"""

APP = """\
import os

import sqlalchemy as sa
from flask import Flask

from bench_models import metadata
from flask_alembic import Alembic

app = Flask(__name__, root_path=os.path.dirname(__file__))
app.config["ALEMBIC"] = {"script_location": "migrations"}
alembic = Alembic(
    app, metadatas=metadata, engines=sa.create_engine(os.environ["BENCH_URL"])
)
"""

ENV = """\
from alembic import context
import sqlalchemy as sa

from bench_models import metadata

config = context.config
engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)

    with context.begin_transaction():
        context.run_migrations()
"""

INI = """\
[alembic]
script_location = raw
version_locations = migrations
sqlalchemy.url = {url}
"""


QUICK_FLOOR = "import bench_app, gc; gc.collect(); gc.freeze()"


class Revision(t.NamedTuple):
    n: int
    down: str | tuple[str, ...] | None
    labels: tuple[str, ...] | None = None
    depends: str | None = None

    @property
    def id(self) -> str:
        return rev_id(self.n)


def rev_id(n: int) -> str:
    return f"{n:012x}"


def linear(size: int) -> list[Revision]:
    """Each revision follows the one before."""
    return [Revision(n, rev_id(n - 1) if n else None) for n in range(size)]


def branchy(size: int) -> list[Revision]:
    """Half the revisions on an unlabelled trunk, in blocks of four: one,
    two that follow it side by side, and a merge of those two. The other
    half on four labelled branches from base, every tenth revision of which
    also depends on the newest trunk revision so far.
    """
    revisions: list[Revision] = []
    trunk: str | None = None
    branches: list[str | None] = [None] * 4
    n = 0

    while n < size:
        if (n // 4) % 2 == 0 and size - n >= 4:
            first = Revision(n, trunk)
            left = Revision(n + 1, first.id)
            right = Revision(n + 2, first.id)
            merge = Revision(n + 3, (left.id, right.id))
            revisions += [first, left, right, merge]
            trunk = merge.id
            n += 4
            continue

        branch = n % 4
        down = branches[branch]
        labels = (f"branch{branch + 1}",) if down is None else None
        depends = trunk if n % 10 == 0 and down is not None else None
        revisions.append(Revision(n, down, labels, depends))
        branches[branch] = rev_id(n)
        n += 1

    return revisions


HISTORIES: dict[str, t.Callable[[int], list[Revision]]] = {
    "linear": linear,
    "branchy": branchy,
}


def write_history(root: Path, revisions: list[Revision]) -> None:
    migrations = root / "migrations"
    migrations.mkdir(parents=True)

    for r in revisions:
        (migrations / f"{r.id}_step_{r.n}.py").write_text(
            REVISION.format(
                n=r.n, rev=r.id, down=r.down, labels=r.labels, depends=r.depends
            )
        )


def write_projects(root: Path, url: str, tables: int) -> None:
    """The Flask app and the raw Alembic project, on the same files."""
    (root / "migrations").mkdir(exist_ok=True)
    (root / "bench_models.py").write_text(MODELS.format(tables=tables))
    (root / "bench_app.py").write_text(APP)
    raw = root / "raw"
    raw.mkdir()
    (raw / "env.py").write_text(ENV)
    source = Path(alembic.__file__).parent / "templates/generic/script.py.mako"
    shutil.copy(source, raw / "script.py.mako")
    shutil.copy(source, root / "migrations" / "script.py.mako")
    (root / "alembic.ini").write_text(INI.format(url=url.replace("%", "%%")))


class Database:
    """A fresh database for each run that changes it."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root

        if backend == "sqlite":
            self.url = f"sqlite:///{root / 'bench.sqlite'}"
        else:
            self.server = sa.make_url(SERVERS[backend])
            self.name = f"fa_bench_{os.getpid()}"
            self.url = self.server.set(database=self.name).render_as_string(
                hide_password=False
            )

    def reset(self) -> None:
        if self.backend == "sqlite":
            for path in self.root.glob("bench.sqlite*"):
                path.unlink()
            return

        self._server(f"DROP DATABASE IF EXISTS {self.name}")
        self._server(f"CREATE DATABASE {self.name}")

    def drop(self) -> None:
        if self.backend != "sqlite":
            self._server(f"DROP DATABASE IF EXISTS {self.name}")

    def _server(self, sql: str) -> None:
        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")

        with engine.connect() as connection:
            connection.exec_driver_sql(sql)

        engine.dispose()


def measure(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return its wall-clock seconds and peak memory in MiB."""
    # Output goes to a file: a pipe nobody reads while waiting would fill up
    # and stop the process.
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started

        if os.waitstatus_to_exitcode(status):
            output.seek(0)
            sys.exit(f"{' '.join(args)} failed:\n{output.read().decode()}")

    return elapsed, usage.ru_maxrss / 1024


class Result(t.NamedTuple):
    scenario: str
    history: str
    size: int
    backend: str
    floor: float
    quick_floor: float
    ours: float
    raw: float | None
    floor_mib: float
    ours_mib: float
    raw_mib: float | None


class Bench:
    """One work directory: a history, a database, the two projects."""

    def __init__(
        self, history: str, size: int, backend: str, tables: int, runs: int
    ) -> None:
        self.history = history
        self.size = size
        self.backend = backend
        self.runs = runs
        self.root = WORK / f"{backend}-{history}-{size}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.revisions = HISTORIES[history](size) if history in HISTORIES else []

        if self.revisions:
            write_history(self.root, self.revisions)

        self.database = Database(backend, self.root)
        # The histories get an empty model, so the floor is the app alone.
        write_projects(self.root, self.database.url, 0 if self.revisions else tables)
        self.env = {
            **os.environ,
            "BENCH_URL": self.database.url,
            "PYTHONPATH": str(self.root),
        }
        # Compiled modules are kept, as on a developer's machine, for all.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def commands(
        self, ours: list[str], raw: list[str] | None
    ) -> dict[str, list[str] | None]:
        python = sys.executable
        head = self.revisions[-1].id if self.revisions else "head"
        return {
            "floor": [python, "-c", "import bench_app"],
            # The floor again, ending as a flask db command ends: without
            # the interpreter's last walks of every object.
            "quick floor": [python, "-c", QUICK_FLOOR],
            "ours": [
                *[python, "-m", "flask", "--app", "bench_app", "db"],
                *[arg.format(head=head) for arg in ours],
            ],
            "raw": None
            if raw is None
            else [
                *[python, "-m", "alembic", "-c", "alembic.ini"],
                *[arg.format(head=head) for arg in raw],
            ],
        }

    def run(
        self,
        name: str,
        ours: list[str],
        raw: list[str] | None,
        before: t.Callable[[], None] | None = None,
    ) -> Result:
        """Alternate the floor and the two commands, after one warm-up
        each; medians, and the highest peak memory.
        """
        commands = self.commands(ours, raw)
        times: dict[str, list[float]] = {side: [] for side in commands}
        peaks: dict[str, list[float]] = {side: [] for side in commands}

        for index in range(self.runs + 1):
            for side, command in commands.items():
                if command is None:
                    continue

                if before is not None:
                    before()

                elapsed, peak = measure(command, self.root, self.env)

                if index:  # the first run of each is the warm-up
                    times[side].append(elapsed)
                    peaks[side].append(peak)

        def median(side: str) -> float | None:
            return statistics.median(times[side]) if times[side] else None

        def highest(side: str) -> float | None:
            return max(peaks[side]) if peaks[side] else None

        return Result(
            name,
            self.history,
            self.size,
            self.backend,
            statistics.median(times["floor"]),
            statistics.median(times["quick floor"]),
            statistics.median(times["ours"]),
            median("raw"),
            max(peaks["floor"]),
            max(peaks["ours"]),
            highest("raw"),
        )

    def upgrade_raw(self) -> None:
        """Bring a fresh database to the newest revisions."""
        self.database.reset()
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", "alembic.ini", "upgrade", "heads"],
            cwd=self.root,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def remove_new_revisions(self) -> None:
        for path in (self.root / "migrations").glob("*.py"):
            path.unlink()

    def create_schema(self) -> None:
        self.database.reset()
        namespace: dict[str, t.Any] = {}
        exec((self.root / "bench_models.py").read_text(), namespace)
        engine = sa.create_engine(self.database.url)
        namespace["metadata"].create_all(engine)
        engine.dispose()

    def scenarios(self, names: list[str]) -> list[Result]:
        results = []

        try:
            if self.revisions:
                if "upgrade" in names:
                    results.append(
                        self.run(
                            "upgrade",
                            ["upgrade"],
                            ["upgrade", "heads"],
                            before=self.database.reset,
                        )
                    )

                read_only = [name for name in READ_ONLY if name in names]

                if read_only:
                    self.upgrade_raw()

                for name in read_only:
                    ours, raw = READ_ONLY[name]
                    results.append(self.run(name, ours, raw))
            else:
                if "check" in names:
                    self.create_schema()
                    results.append(self.run("check", ["check"], ["check"]))

                if "revision" in names:
                    self.database.reset()

                    def before() -> None:
                        self.remove_new_revisions()

                    results.append(
                        self.run(
                            "revision",
                            ["revision", "initial"],
                            ["revision", "--autogenerate", "-m", "initial"],
                            before=before,
                        )
                    )
        finally:
            self.database.drop()

        return results


COLUMNS = [
    "scenario",
    "history",
    "size",
    "backend",
    "flask_alembic s",
    "alembic s",
    "ratio",
    "floor s",
    "x floor",
    "x quick floor",
    "flask_alembic MiB",
    "alembic MiB",
    "+MiB",
]


def rows(results: list[Result]) -> list[list[str]]:
    out = []

    for r in results:
        out.append(
            [
                r.scenario,
                r.history,
                str(r.size),
                r.backend,
                f"{r.ours:.3f}",
                "-" if r.raw is None else f"{r.raw:.3f}",
                "-" if r.raw is None else f"{r.ours / r.raw:.2f}",
                f"{r.floor:.3f}",
                f"{r.ours / r.floor:.2f}",
                f"{r.ours / r.quick_floor:.2f}",
                f"{r.ours_mib:.1f}",
                "-" if r.raw_mib is None else f"{r.raw_mib:.1f}",
                "-" if r.raw_mib is None else f"{r.ours_mib - r.raw_mib:+.1f}",
            ]
        )

    return out


def slopes(results: list[Result]) -> list[list[str]]:
    """The cost of each further revision, between the smallest and largest
    size of each scenario: what the table's times are once the costs every
    run pays (starting Python, importing) are taken out.
    """
    groups: dict[tuple[str, str, str], list[Result]] = {}

    for r in results:
        groups.setdefault((r.scenario, r.history, r.backend), []).append(r)

    out = []

    for (scenario, history, backend), found in groups.items():
        if len(found) < 2 or any(r.raw is None for r in found):
            continue

        low = min(found, key=lambda r: r.size)
        high = max(found, key=lambda r: r.size)
        assert low.raw is not None and high.raw is not None
        count = high.size - low.size
        ours = (high.ours - low.ours) / count * 1000
        raw = (high.raw - low.raw) / count * 1000
        out.append(
            [
                scenario,
                history,
                f"{low.size}-{high.size}",
                backend,
                f"{ours:.3f}",
                f"{raw:.3f}",
                f"{ours / raw:.2f}" if raw > 0 else "-",
            ]
        )

    return out


SLOPE_COLUMNS = [
    "scenario",
    "history",
    "sizes",
    "backend",
    "flask_alembic ms/rev",
    "alembic ms/rev",
    "ratio",
]


def print_table(results: list[Result], markdown: bool) -> None:
    show(COLUMNS, rows(results), markdown)
    per_revision = slopes(results)

    if per_revision:
        print()
        show(SLOPE_COLUMNS, per_revision, markdown)


def show(columns: list[str], body: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))

        for row in body:
            print("| " + " | ".join(row) + " |")

        return

    table = [columns, *body]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]

    for row in table:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--sizes", default="100,1000", help="Revision counts.")
    parser.add_argument(
        "--histories", default="linear,branchy,schema", help="Which histories."
    )
    parser.add_argument("--backends", default="sqlite", help="sqlite,postgresql,...")
    parser.add_argument("--tables", type=int, default=300, help="Tables in the model.")
    parser.add_argument("--runs", type=int, default=5, help="Runs after a warm-up.")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="Which scenarios to run."
    )
    parser.add_argument("--markdown", action="store_true", help="A Markdown table.")
    options = parser.parse_args()
    names = options.scenarios.split(",")
    results = []

    for backend in options.backends.split(","):
        for history in options.histories.split(","):
            sizes = [int(s) for s in options.sizes.split(",")]

            if history == "schema":
                sizes = [options.tables]

            for size in sizes:
                bench = Bench(history, size, backend, options.tables, options.runs)
                found = bench.scenarios(names)
                results.extend(found)

                # Each row as it is measured, in case a later one fails.
                for row in rows(found):
                    print("  ".join(row), file=sys.stderr, flush=True)

    print_table(results, options.markdown)


if __name__ == "__main__":
    main()
