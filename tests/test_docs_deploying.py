"""The examples of ``docs/deploying.md`` run as written.

The page's app is written to a project directory with its two revisions, and
loaded afresh for every command, as each ``flask`` process would load it. The
blocks marked with a ``% test: NAME`` comment are command transcripts whose
output must match exactly, the revisions, and the failure report. The page's
database is an SQLite file in the app's instance folder.

Output is compared as the page shows it: the project directory is
``/project``, the lock holder is the process the page shows, and spaces at
the ends of lines (SQLAlchemy's ``CREATE TABLE`` has some) are left out.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import re
import socket
import types
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from flask_alembic import Alembic
from flask_alembic.locks import make_lock

from .conftest import table_names
from .conftest import version_rows
from .test_docs_binds import load_page_app
from .test_docs_binds import parse_transcript
from .test_docs_binds import revision_functions

PAGE = Path(__file__).parent.parent / "docs" / "deploying.md"

#: A block the test runs: a ``% test: NAME`` line, then a fenced block.
_MARKED = re.compile(
    r"^% test: (?P<name>[\w ]+)\n```\w+\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL
)

#: An entry of the page's list of problem kinds: the kind, then its line.
_KIND = re.compile(
    r"^`(?P<kind>[a-z-]+)`\n: (?:.+\n)+\n  `(?P<line>.+)`$", re.MULTILINE
)

#: The last line of ``verify`` when it finds problems.
_FOUND = re.compile(r"^\d+ problems? found\.$", re.MULTILINE)

#: The process the page shows holding a lock.
PAGE_HOLDER = "pid 16909 on host vm"

#: The page's database URL, as the app's code gives it.
PAGE_URL = "sqlite:///shop.sqlite"


def blocks() -> dict[str, str]:
    """The page's marked blocks, by name."""
    found = {m["name"]: m["body"] for m in _MARKED.finditer(PAGE.read_text())}
    assert found, f"no '% test:' blocks in {PAGE}"
    return found


def with_functions(path: Path, functions: str) -> None:
    """Replace the functions of a generated revision file, from ``upgrade``
    to the end, with the page's.
    """
    source = path.read_text()
    new, count = re.subn(
        r"^def upgrade\(\).*",
        lambda _: functions.strip("\n") + "\n",
        source,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert count == 1, source
    path.write_text(new)


def normalize(text: str) -> str:
    """Text without spaces at the ends of lines, or blank lines at the end."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


class Project:
    """The page's app and revisions in a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code = blocks()["app"]
        assert f'"{PAGE_URL}"' in self.code
        self.url = f"sqlite:///{root / 'instance' / 'shop.sqlite'}"

    def load(self) -> t.ContextManager[tuple[types.ModuleType, Flask]]:
        """Load the app as the next ``flask`` process would."""
        return load_page_app(self.root, self.code)

    def invoke(self, *args: str, code: int = 0) -> Result:
        """Run ``flask db <args>`` in a new app and check its exit code."""
        with self.load() as (_, app):
            result = app.test_cli_runner().invoke(args=["db", *args])

        assert result.exit_code == code, result.output
        return result

    def show(self, text: str) -> str:
        """Output as the page shows it."""
        text = text.replace(
            f"pid {os.getpid()} on host {socket.gethostname()}", PAGE_HOLDER
        )
        return normalize(text.replace(str(self.root), "/project"))

    def run(self, block: str) -> None:
        """Run a console block's commands, checking each one's output."""
        for args, expected in parse_transcript(block):
            with self.load() as (_, app):
                result = app.test_cli_runner().invoke(args=["db", *args])

            shown = result.stdout if result.exit_code == 0 else result.output
            # Progress lines go to stderr, and the page leaves them out.
            shown = "\n".join(
                line for line in shown.splitlines() if not line.startswith("INFO  [")
            )
            assert self.show(shown) == normalize(expected), (args, result.output)
            # A command that prints an error, or finds problems, exits 1.
            failed = "Error: " in expected or _FOUND.search(expected)
            assert result.exit_code == (1 if failed else 0), (args, result.output)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The page's app with its two revisions, 1000 and 1001, not applied.

    Commands run in the project directory, as ``flask`` would from there:
    the failure report shows revision files relative to it, and
    ``--output-dir sql`` is inside it.
    """
    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path)
    functions = revision_functions(blocks()["revisions"])

    for message in ("create users", "add email"):
        project.invoke("revision", message, "--empty")

    assert sorted(functions) == [
        "migrations/1000_create_users.py",
        "migrations/1001_add_email.py",
    ]

    for path, text in functions.items():
        with_functions(tmp_path / path, text)

    return project


def test_page_blocks() -> None:
    """The page marks every block this test needs."""
    assert set(blocks()) == {
        "app",
        "revisions",
        "plan",
        "deploy",
        "timeout",
        "failing",
        "failure",
        "sql",
        "output dir",
        "verify heads",
        "verify database",
    }


def test_plan_sql_and_deploy(project: Project, tmp_path: Path) -> None:
    """``upgrade --plan`` and ``upgrade --sql`` print what the page shows
    without touching the database, ``--output-dir`` writes the same SQL to a
    file, and the deploy transcript upgrades.
    """
    page = blocks()
    project.run(page["plan"])
    project.run(page["sql"])
    project.run(page["output dir"])

    printed = project.invoke("upgrade", "--sql").stdout
    assert (tmp_path / "sql" / "default.sql").read_text() == printed
    assert table_names(project.url) == []

    project.run(page["deploy"])
    assert version_rows(project.url) == ["1001"]
    assert table_names(project.url) == ["alembic_version", "user"]


def test_lock_timeout(project: Project, tmp_path: Path) -> None:
    """While another process holds the lock, ``upgrade`` gives up after
    ``lock_timeout`` with the page's error, naming the holder, and changes
    nothing; once the lock is free it upgrades.
    """
    assert '"lock_timeout": 300' in project.code
    project.code = project.code.replace('"lock_timeout": 300', '"lock_timeout": 2')
    (tmp_path / "instance").mkdir(exist_ok=True)
    engine = sa.create_engine(project.url)

    try:
        with engine.connect() as connection:
            lock = make_lock(connection, None, "alembic_version")
            assert lock is not None
            assert lock.try_acquire()

            try:
                project.run(blocks()["timeout"])
                assert table_names(project.url) == []
            finally:
                lock.release()
    finally:
        engine.dispose()

    lock_file = tmp_path / "instance" / "shop.sqlite.alembic_version.lock"
    assert (
        lock_file.read_text() == f"pid {os.getpid()} on host {socket.gethostname()}\n"
    )

    project.invoke("upgrade")
    assert version_rows(project.url) == ["1001"]


def test_failure_report(project: Project, tmp_path: Path) -> None:
    """A revision that fails prints the page's report, and the database is
    left where it started.
    """
    page = blocks()
    project.invoke("upgrade")

    with project.load() as (module, app):
        with app.app_context(), module.db.engine.begin() as conn:
            conn.execute(
                sa.insert(module.User),
                [
                    {"name": "ann", "email": "Ann@example.com"},
                    {"name": "anne", "email": "ann@example.com"},
                ],
            )

    functions = revision_functions(page["failing"])
    assert list(functions) == ["migrations/1002_unique_emails.py"]
    project.invoke("revision", "unique emails", "--empty")
    with_functions(
        tmp_path / "migrations/1002_unique_emails.py", functions.popitem()[1]
    )

    result = project.invoke("upgrade", code=1)
    report = result.output[result.output.index("Error: ") :]
    assert project.show(report) == normalize(page["failure"])
    assert version_rows(project.url) == ["1001"]


def test_verify_heads(project: Project) -> None:
    """Two heads in one branch: ``verify`` lists them, ``upgrade`` refuses,
    and after the merge the history is clean and the plan runs all three.
    """
    project.invoke("upgrade")
    project.invoke("revision", "add orders", "--empty")
    project.invoke("revision", "add phone", "--empty", "--parent", "1001", "--splice")

    project.run(blocks()["verify heads"])
    assert version_rows(project.url) == ["1001"]


def test_verify_database(project: Project) -> None:
    """A database stamped with an unknown revision: ``verify`` reports it,
    ``--no-database`` does not, ``upgrade`` refuses, and ``stamp --purge``
    repairs the version table.
    """
    project.invoke("upgrade")
    engine = sa.create_engine(project.url)

    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'a1b2c3'"))
    finally:
        engine.dispose()

    project.run(blocks()["verify database"])
    assert version_rows(project.url) == ["1001"]


def _write_revision(path: Path, rev: str, down: str | None, doc: str) -> None:
    """A revision file with empty functions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'"""{doc}"""\n\nrevision = "{rev}"\ndown_revision = {down!r}\n'
        "branch_labels = ()\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )


def _problem_lines(project: Project, database: bool = True) -> list[str]:
    """What ``verify`` prints for each problem, as the page shows it."""
    with project.load() as (module, app), app.app_context():
        alembic: Alembic = module.alembic
        return [project.show(str(p)) for p in alembic.verify(database=database)]


def _set_up_kind(kind: str, project: Project, root: Path) -> None:
    """Make the app's history or database have a problem of this kind, as
    the page's list describes it.
    """
    migrations = root / "migrations"

    if kind == "unloadable":
        (migrations / "1004_bad.py").write_text(
            'revision = "1004"\ndown_revision = "1001"\ndef upgrade(:\n    pass\n'
        )
    elif kind == "duplicate-id":
        _write_revision(migrations / "1002_add_phone.py", "1001", "1000", "add phone")
    elif kind == "missing-revision":
        _write_revision(migrations / "1003_add_orders.py", "1003", "0999", "add orders")
    elif kind == "cycle":
        path = migrations / "1000_create_users.py"
        source = path.read_text()
        assert "down_revision: Union[str, Sequence[str], None] = None" in source
        path.write_text(
            source.replace(
                "down_revision: Union[str, Sequence[str], None] = None",
                "down_revision: Union[str, Sequence[str], None] = '1001'",
            )
        )
    elif kind == "multiple-heads":
        project.invoke("revision", "add orders", "--empty")
        project.invoke(
            "revision", "add phone", "--empty", "--parent", "1001", "--splice"
        )
    elif kind == "unowned-file":
        _write_revision(migrations / "old" / "0999_old_start.py", "0999", None, "old")
    elif kind == "unknown-revision-in-database":
        project.invoke("upgrade")
        engine = sa.create_engine(project.url)

        try:
            with engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE alembic_version SET version_num = 'a1b2c3'")
                )
        finally:
            engine.dispose()
    elif kind == "no-version-table":
        project.invoke("upgrade")
        engine = sa.create_engine(project.url)

        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE alembic_version"))
        finally:
            engine.dispose()
    else:
        raise AssertionError(kind)


_KINDS_IN_FILES = (
    "unloadable",
    "duplicate-id",
    "missing-revision",
    "cycle",
    "multiple-heads",
    "unowned-file",
    "unknown-revision-in-database",
    "no-version-table",
)


def page_kind_lines() -> dict[str, str]:
    """The example line of each problem kind in the page's list."""
    return {m["kind"]: m["line"] for m in _KIND.finditer(PAGE.read_text())}


def test_page_lists_every_kind() -> None:
    """The page's list has an example line for every kind a Problem has."""
    assert set(page_kind_lines()) == {*_KINDS_IN_FILES, "unreachable"}


@pytest.mark.parametrize("kind", _KINDS_IN_FILES)
def test_problem_kind_line(kind: str, project: Project, tmp_path: Path) -> None:
    """``verify`` reports each kind of problem with the page's example line,
    made the way the page says.
    """
    _set_up_kind(kind, project, tmp_path)
    lines = _problem_lines(project)
    assert page_kind_lines()[kind] in lines, lines


def test_unreachable_line(project: Project) -> None:
    """A database that refuses connections is an ``unreachable`` problem with
    the page's line, its password masked.
    """
    page_url = "postgresql+psycopg2://shop:s3cret@127.0.0.1:5999/shop"
    project.code = project.code.replace(f'"{PAGE_URL}"', repr(page_url))
    line = page_kind_lines()["unreachable"]
    assert _problem_lines(project) == [line]
    assert "s3cret" not in line


#: What the page says each server tells about a lock's holder.
HOLDERS = {
    "sqlite": (r"process pid \d+ on host \S+", "SQLite"),
    "postgresql": (
        r"PostgreSQL backend pid \d+, application 'deploy', client \S+,"
        r" connected since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
        "PostgreSQL",
    ),
    "mariadb": (r"connection id \d+, user '[^']+' from \S+", "MariaDB and MySQL"),
}


def page_holders() -> dict[str, str]:
    """The example holder of each server in the page's list."""
    text = " ".join(PAGE.read_text().split())
    return dict(re.findall(r"- ([\w ]+): `([^`]+)`", text))


def test_page_holders() -> None:
    """The page's example holders have the form the test expects."""
    examples = page_holders()

    for pattern, name in HOLDERS.values():
        assert re.fullmatch(pattern, examples[name]), (name, examples[name])


def test_lock_timeout_holder(
    backend: str, make_url: cabc.Callable[..., str], project: Project
) -> None:
    """On each backend, a lock held by another connection makes ``upgrade``
    give up with the page's message, naming the holder as the page says.
    """
    url = make_url()
    project.code = project.code.replace(f'"{PAGE_URL}"', repr(url))
    project.code = project.code.replace('"lock_timeout": 300', '"lock_timeout": 0')
    args = {"application_name": "deploy"} if backend == "postgresql" else {}
    engine = sa.create_engine(url, connect_args=args)

    try:
        with engine.connect() as connection:
            lock = make_lock(connection, None, "alembic_version")
            assert lock is not None
            assert lock.try_acquire()

            try:
                result = project.invoke("upgrade", code=1)
            finally:
                lock.release()
    finally:
        engine.dispose()

    # The page's message, with this test's timeout, database and holder.
    (_, page_error), *_ = parse_transcript(blocks()["timeout"])
    template = re.escape(page_error.strip().replace(" 2 s ", " 0 s "))
    page_url = re.escape("sqlite:////project/instance/shop.sqlite")
    page_holder = re.escape(f"process {PAGE_HOLDER}")
    # Flask-SQLAlchemy adds the charset to a MySQL URL.
    shown_url = re.escape(_masked(url)) + r"(\?charset=utf8mb4)?"
    pattern = template.replace(page_url, shown_url).replace(
        page_holder, HOLDERS[backend][0]
    )
    assert re.fullmatch(pattern, lines_of(result.output)[-1]), result.output
    assert table_names(url) == []


def _masked(url: str) -> str:
    """A URL as errors show it."""
    return sa.make_url(url).render_as_string(hide_password=True)


def lines_of(text: str) -> list[str]:
    """The lines of a command's output, without progress lines."""
    return [line for line in text.splitlines() if not line.startswith("INFO  [")]
