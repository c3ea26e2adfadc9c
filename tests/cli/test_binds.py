"""``flask db`` with per-bind histories (``ALEMBIC["binds"]``).

The app has three binds on three backends at once: ``default`` on SQLite,
``auth`` on PostgreSQL and ``analytics`` on MariaDB. ``analytics`` is declared
first but depends on ``auth``, so the binds run default, auth, analytics (and
the other way round for downgrade). Each test creates its own three
databases. The PostgreSQL URL carries a password, which must never be shown.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import table_names
from ..conftest import version_rows
from .conftest import fails
from .conftest import fix_rev_ids
from .conftest import invoke
from .conftest import lines

# The databases come from make_url(on=...), whatever the test's backend is:
# run each test once.
pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite"], indirect=True, ids=["three-backends"]
)

#: The binds: analytics depends on auth, so it runs after it.
BINDS = {"analytics": {"depends_on": ["auth"]}, "auth": {}}

#: New revisions get these ids, in order.
IDS = tuple(str(1795310540 + 100 * n) for n in range(8))

#: The password put into the PostgreSQL URL when it has none.
SECRET = "s3cr3t-pw"

RUNNER = "INFO  [flask_alembic.runner] "
MIGRATION = "INFO  [alembic.runtime.migration] "

#: A database where autogenerate has run: Alembic created its version table.
COMPARED: tuple[list[str], list[str]] = ([], ["alembic_version"])

STATUS_HEADER = (
    "branch     bind       path                  head        current     pending"
)


@dataclasses.dataclass
class Three:
    """An app's three databases, models and migrations."""

    make_app: AppFactory
    monkeypatch: pytest.MonkeyPatch
    root: Path
    urls: dict[str, str]
    metadatas: dict[str, sa.MetaData]
    #: The password in the PostgreSQL URL.
    secret: str

    def open(self) -> FlaskCliRunner:
        """A runner for a new app on the databases and migrations, which reads
        the revision files again, as the next ``flask`` process would. New
        revisions get the ids of :data:`IDS` not used yet.
        """
        app, alembic = self.make_app(self.urls, self.metadatas, config={"binds": BINDS})
        used = {p.name.split("_")[0] for p in self.root.rglob("migrations/**/*.py")}
        fix_rev_ids(alembic, self.monkeypatch, [i for i in IDS if i not in used])
        return app.test_cli_runner()

    def shown(self, bind: str) -> str:
        """A bind's URL as it is shown, with its password masked."""
        return sa.make_url(self.urls[bind]).render_as_string(hide_password=True)

    def file(self, *parts: str) -> Path:
        """A path in the migrations directory."""
        return self.root.joinpath("migrations", *parts)


@pytest.fixture
def three(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Three:
    """Three fresh databases, each with a table in its models: ``post`` in
    default, ``user`` in auth, ``event`` in analytics. Commands run in the
    app's root, so paths in messages are relative to it.
    """
    auth = sa.make_url(make_url(on="postgresql"))

    if auth.password is None:
        # The local server trusts its clients, so any password connects.
        auth = auth.set(password=SECRET)

    urls = {
        "default": make_url(on="sqlite"),
        "auth": auth.render_as_string(hide_password=False),
        "analytics": make_url(on="mariadb"),
    }
    metadatas = {name: sa.MetaData() for name in urls}

    for bind, table in (("default", "post"), ("auth", "user"), ("analytics", "event")):
        sa.Table(table, metadatas[bind], sa.Column("id", sa.Integer, primary_key=True))

    monkeypatch.chdir(tmp_path)
    return Three(make_app, monkeypatch, tmp_path, urls, metadatas, str(auth.password))


def steps(result: Result) -> list[str]:
    """The progress lines of a command that say what ran where: each bind as
    it starts, and each revision.
    """
    return [
        line
        for line in result.stderr.splitlines()
        if line.startswith((RUNNER, MIGRATION))
        and not line.startswith((f"{MIGRATION}Context impl", f"{MIGRATION}Will assume"))
    ]


def run(runner: FlaskCliRunner, three: Three, *args: str, code: int = 0) -> Result:
    """Run a command, and check that it shows no password and no traceback."""
    result = invoke(runner, *args, code=code)
    assert three.secret not in result.output
    assert "Traceback" not in result.output
    return result


def history(three: Three) -> tuple[str, str, str]:
    """Autogenerate the first revision of each bind, and return their ids:
    posts, users and events.
    """
    runner = three.open()
    invoke(runner, "revision", "create posts")
    invoke(runner, "revision", "create users", "--bind", "auth")
    invoke(runner, "revision", "create events", "--bind", "analytics")
    return IDS[0], IDS[1], IDS[2]


def upgraded(three: Three) -> tuple[str, str, str]:
    """:func:`history`, applied to every bind."""
    ids = history(three)
    invoke(three.open(), "upgrade")
    return ids


def state(three: Three) -> dict[str, tuple[list[str], list[str]]]:
    """Each database's version rows and tables."""
    return {
        name: (version_rows(url), table_names(url)) for name, url in three.urls.items()
    }


def test_revision_bind(three: Three) -> None:
    """``revision --bind NAME`` compares that bind's models and database
    only, and writes into ``migrations/NAME/`` as the first revision of the
    bind's branch.
    """
    runner = three.open()
    posts, users, events = IDS[:3]
    result = run(runner, three, "revision", "create posts")
    posts_file = three.file(f"{posts}_create_posts.py")
    assert lines(result.stdout) == [f"Generating {posts_file} ...  done"]
    result = run(runner, three, "revision", "create users", "--bind", "auth")
    users_file = three.file("auth", f"{users}_create_users.py")
    assert lines(result.stdout) == [f"Generating {users_file} ...  done"]
    result = run(runner, three, "revision", "create events", "--bind", "analytics")
    events_file = three.file("analytics", f"{events}_create_events.py")
    assert lines(result.stdout) == [f"Generating {events_file} ...  done"]

    assert sorted(
        p.relative_to(three.root).as_posix() for p in three.root.rglob("*.py")
    ) == [
        f"migrations/{posts}_create_posts.py",
        f"migrations/analytics/{events}_create_events.py",
        f"migrations/auth/{users}_create_users.py",
    ]

    for path, label, table in (
        (posts_file, "default", "post"),
        (users_file, "auth", "user"),
        (events_file, "analytics", "event"),
    ):
        source = path.read_text()
        assert "down_revision: Union[str, Sequence[str], None] = None" in source
        assert f"branch_labels: Union[str, Sequence[str], None] = ('{label}',)" in (
            source
        )
        # analytics depends on auth as a bind, not on its revisions
        assert "depends_on: Union[str, Sequence[str], None] = None" in source
        created = [t for t in ("post", "user", "event") if f"'{t}'" in source]
        assert created == [table]

    # Nothing was applied: autogenerate only made each version table.
    assert state(three) == dict.fromkeys(three.urls, COMPARED)


def test_revision_bind_continues(three: Three) -> None:
    """A bind's next revision follows its own head, in its directory, and
    only that bind has to be up to date.
    """
    _, users, events = history(three)
    runner = three.open()
    run(runner, three, "upgrade", "--bind", "auth")
    three.metadatas["auth"].tables["user"].append_column(sa.Column("name", sa.Text))
    runner = three.open()
    result = run(runner, three, "revision", "add name", "--bind", "auth")
    name_file = three.file("auth", f"{IDS[3]}_add_name.py")
    assert lines(result.stdout) == [f"Generating {name_file} ...  done"]
    source = name_file.read_text()
    assert f"down_revision: Union[str, Sequence[str], None] = '{users}'" in source
    assert "branch_labels: Union[str, Sequence[str], None] = ()" in source
    assert "op.add_column('user', sa.Column('name'" in source

    # analytics was not upgraded.
    assert fails(runner, "revision", "x", "--bind", "analytics") == (
        f"Error: Database 'analytics' is not up to date: 1 pending revision"
        f" ({events}). Run 'flask db upgrade' first."
    )
    # A branch of another bind is refused.
    assert fails(
        runner, "revision", "x", "--empty", "--bind", "auth", "--branch", "analytics"
    ) == (
        "Error: Branch 'analytics' runs on bind 'analytics', not 'auth'. Leave"
        " out --bind, or pick a branch of bind 'auth'."
    )
    assert not three.file("analytics", f"{IDS[4]}_x.py").exists()


def test_upgrade(three: Three) -> None:
    """``upgrade`` runs every bind in dependency order, saying which bind
    each revision runs on, with its password masked.
    """
    posts, users, events = history(three)
    result = run(three.open(), three, "upgrade")
    assert steps(result) == [
        f"{RUNNER}Bind 'default' ({three.shown('default')})",
        f"{MIGRATION}Running upgrade  -> {posts}, create posts",
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running upgrade  -> {users}, create users",
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running upgrade  -> {events}, create events",
    ]
    assert "***" in three.shown("auth")
    assert result.stdout == ""
    assert state(three) == {
        "default": ([posts], ["alembic_version", "post"]),
        "auth": ([users], ["alembic_version", "user"]),
        "analytics": ([events], ["alembic_version", "event"]),
    }

    # Nothing left to run: no bind is announced.
    result = run(three.open(), three, "upgrade")
    assert steps(result) == []


def test_upgrade_bind(three: Three) -> None:
    """``upgrade --bind`` runs only the binds named, in dependency order
    whatever the order they are named in.
    """
    posts, users, events = history(three)
    result = run(three.open(), three, "upgrade", "--bind", "auth")
    assert steps(result) == [
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running upgrade  -> {users}, create users",
    ]
    assert state(three) == {
        "default": COMPARED,
        "auth": ([users], ["alembic_version", "user"]),
        "analytics": COMPARED,
    }

    result = run(
        three.open(), three, "upgrade", "--bind", "analytics", "--bind", "default"
    )
    assert steps(result) == [
        f"{RUNNER}Bind 'default' ({three.shown('default')})",
        f"{MIGRATION}Running upgrade  -> {posts}, create posts",
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running upgrade  -> {events}, create events",
    ]
    assert [rows for rows, _ in state(three).values()] == [[posts], [users], [events]]


def test_upgrade_revision_of_one_bind(three: Three) -> None:
    """A revision or a branch as the target moves only the bind it belongs
    to; naming another bind with it is refused.
    """
    _, users, events = history(three)
    runner = three.open()
    assert fails(runner, "upgrade", users, "--bind", "default") == (
        f"Error: '{users}' belongs to bind 'auth', which this upgrade does not"
        " include. Add --bind auth, or leave out --bind."
    )
    result = run(runner, three, "upgrade", users)
    assert steps(result) == [
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running upgrade  -> {users}, create users",
    ]
    assert [rows for rows, _ in state(three).values()] == [[], [users], []]

    # So does a branch's head or base.
    result = run(three.open(), three, "upgrade", "analytics@head")
    assert steps(result) == [
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running upgrade  -> {events}, create events",
    ]
    result = run(three.open(), three, "downgrade", "auth@base")
    assert steps(result) == [
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running downgrade {users} -> , create users",
    ]
    assert [rows for rows, _ in state(three).values()] == [[], [], [events]]


def test_status(three: Three) -> None:
    """``status`` has a row per bind, each read from its own database."""
    assert lines(run(three.open(), three, "status").stdout) == [
        "branch     bind       path                  head  current  pending",
        "default    default    migrations            -     -        0",
        "auth       auth       migrations/auth       -     -        0",
        "analytics  analytics  migrations/analytics  -     -        0",
        "Up to date: 3 branches.",
    ]

    posts, users, events = history(three)
    assert lines(run(three.open(), three, "status").stdout) == [
        "branch     bind       path                  head        current  pending",
        f"default    default    migrations            {posts}  -        1",
        f"auth       auth       migrations/auth       {users}  -        1",
        f"analytics  analytics  migrations/analytics  {events}  -        1",
        "3 revisions pending on 3 branches. Run 'flask db upgrade' to apply them.",
    ]

    invoke(three.open(), "upgrade", "--bind", "auth")
    runner = three.open()
    assert lines(run(runner, three, "status").stdout) == [
        STATUS_HEADER,
        f"default    default    migrations            {posts}  -           1",
        f"auth       auth       migrations/auth       {users}  {users}  0",
        f"analytics  analytics  migrations/analytics  {events}  -           1",
        "2 revisions pending on 2 branches. Run 'flask db upgrade' to apply them.",
    ]
    assert lines(run(runner, three, "status", "--bind", "auth").stdout) == [
        "branch  bind  path             head        current     pending",
        f"auth    auth  migrations/auth  {users}  {users}  0",
        "Up to date: 1 branch.",
    ]
    assert lines(
        run(runner, three, "status", "--bind", "analytics", "--bind", "auth").stdout
    ) == [
        STATUS_HEADER,
        f"auth       auth       migrations/auth       {users}  {users}  0",
        f"analytics  analytics  migrations/analytics  {events}  -           1",
        "1 revision pending on 1 branch. Run 'flask db upgrade' to apply them.",
    ]

    invoke(runner, "upgrade")
    assert lines(run(three.open(), three, "status").stdout) == [
        STATUS_HEADER,
        f"default    default    migrations            {posts}  {posts}  0",
        f"auth       auth       migrations/auth       {users}  {users}  0",
        f"analytics  analytics  migrations/analytics  {events}  {events}  0",
        "Up to date: 3 branches.",
    ]


def test_current_heads_log(three: Three) -> None:
    """``current``, ``heads`` and ``log`` show the revisions of the binds
    asked for; ``current`` names the bind when it shows several.
    """
    posts, users, events = upgraded(three)
    runner = three.open()
    invoke(runner, "revision", "add kind", "--empty", "--bind", "analytics")
    kind = IDS[3]
    runner = three.open()

    assert lines(run(runner, three, "current").stdout) == [
        f"default: <base> -> {posts} (default) (head), create posts",
        f"auth: <base> -> {users} (auth) (head), create users",
        f"analytics: <base> -> {events} (analytics), create events",
    ]
    assert lines(
        run(runner, three, "current", "--bind", "analytics", "--bind", "auth").stdout
    ) == [
        f"auth: <base> -> {users} (auth) (head), create users",
        f"analytics: <base> -> {events} (analytics), create events",
    ]
    assert lines(run(runner, three, "current", "--bind", "auth").stdout) == [
        f"<base> -> {users} (auth) (head), create users"
    ]

    # Alembic's order, not the binds'.
    assert sorted(lines(run(runner, three, "heads").stdout)) == sorted(
        [
            f"<base> -> {posts} (default) (head), create posts",
            f"<base> -> {users} (auth) (head), create users",
            f"{events} -> {kind} (analytics) (head), add kind",
        ]
    )
    assert lines(run(runner, three, "heads", "--bind", "analytics").stdout) == [
        f"{events} -> {kind} (analytics) (head), add kind"
    ]
    assert lines(
        run(runner, three, "heads", "--bind", "default", "--bind", "auth").stdout
    ) == [
        f"<base> -> {posts} (default) (head), create posts",
        f"<base> -> {users} (auth) (head), create users",
    ]

    assert lines(run(runner, three, "log", "--bind", "analytics").stdout) == [
        f"{events} -> {kind} (analytics) (head), add kind",
        f"<base> -> {events} (analytics), create events",
    ]
    assert lines(run(runner, three, "log", "--bind", "auth").stdout) == [
        f"<base> -> {users} (auth) (head), create users"
    ]


def test_check_behind(three: Three) -> None:
    """``check`` refuses a bind that is behind, naming it; ``check --bind``
    on a bind that is up to date passes.
    """
    _, _, events = history(three)
    invoke(three.open(), "upgrade", "--bind", "default", "--bind", "auth")
    runner = three.open()
    assert fails(runner, "check", hidden=three.secret) == (
        "Error: Database 'analytics' is not up to date: 1 pending revision"
        f" ({events}). Run 'flask db upgrade' first."
    )
    result = run(runner, three, "check", "--bind", "auth")
    assert result.stdout == "No changes detected.\n"

    # --check-heads names the binds that are behind.
    result = run(runner, three, "current", "--check-heads", code=1)
    assert result.stdout == "Database 'analytics' is not on all head revisions\n"
    result = run(
        runner, three, "current", "--check-heads", "--bind", "analytics", code=1
    )
    assert result.stdout == "Database is not on all head revisions\n"
    run(runner, three, "current", "--check-heads", "--bind", "auth")


def test_check_drift_in_one_bind(three: Three) -> None:
    """``check`` fails on a bind whose models changed, naming it; ``check
    --bind`` on a clean bind passes.
    """
    upgraded(three)
    sa.Table(
        "visit",
        three.metadatas["analytics"],
        sa.Column("id", sa.Integer, primary_key=True),
    )
    runner = three.open()
    result = run(runner, three, "check", code=1)
    assert result.stdout == "Changes detected.\n  analytics:\n    added table 'visit'\n"
    result = run(runner, three, "check", "--bind", "analytics", code=1)
    assert result.stdout == "Changes detected.\n  added table 'visit'\n"
    result = run(runner, three, "check", "--bind", "auth")
    assert result.stdout == "No changes detected.\n"
    result = run(runner, three, "check", "--bind", "default", "--bind", "auth")
    assert result.stdout == "No changes detected.\n"


def test_downgrade(three: Three) -> None:
    """``downgrade`` needs ``--bind`` for a count; ``--bind`` moves that
    bind only; ``base`` moves every bind, in reverse dependency order.
    """
    posts, users, events = upgraded(three)
    runner = three.open()
    assert fails(runner, "downgrade", hidden=three.secret) == (
        "Error: A number of revisions to downgrade differs from bind to bind. Name"
        " the bind to downgrade: --bind NAME (the binds are default, auth,"
        " analytics)."
    )
    assert fails(runner, "upgrade", "+1") == (
        "Error: A number of revisions to upgrade differs from bind to bind. Name"
        " the bind to upgrade: --bind NAME (the binds are default, auth, analytics)."
    )
    assert [rows for rows, _ in state(three).values()] == [[posts], [users], [events]]

    result = run(runner, three, "downgrade", "--bind", "auth")
    assert steps(result) == [
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running downgrade {users} -> , create users",
    ]
    assert state(three) == {
        "default": ([posts], ["alembic_version", "post"]),
        "auth": ([], ["alembic_version"]),
        "analytics": ([events], ["alembic_version", "event"]),
    }

    result = run(three.open(), three, "downgrade", "base")
    assert steps(result) == [
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running downgrade {events} -> , create events",
        f"{RUNNER}Bind 'default' ({three.shown('default')})",
        f"{MIGRATION}Running downgrade {posts} -> , create posts",
    ]
    assert state(three) == {name: ([], ["alembic_version"]) for name in three.urls}


def test_stamp(three: Three) -> None:
    """``stamp --bind`` sets one bind's version table without running its
    revisions; ``stamp`` alone sets every bind's.
    """
    posts, users, events = history(three)
    result = run(three.open(), three, "stamp", "--bind", "analytics")
    assert steps(result) == [
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running stamp_revision  -> {events}",
    ]
    assert state(three) == {
        "default": COMPARED,
        "auth": COMPARED,
        "analytics": ([events], ["alembic_version"]),
    }

    result = run(three.open(), three, "stamp")
    assert steps(result) == [
        f"{RUNNER}Bind 'default' ({three.shown('default')})",
        f"{MIGRATION}Running stamp_revision  -> {posts}",
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running stamp_revision  -> {users}",
    ]
    assert [rows for rows, _ in state(three).values()] == [[posts], [users], [events]]

    run(three.open(), three, "stamp", "base", "--bind", "auth")
    assert [rows for rows, _ in state(three).values()] == [[posts], [], [events]]
    assert table_names(three.urls["auth"]) == ["alembic_version"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "nope",
            "Error: Unknown bind 'nope'. The binds are: default, auth, analytics.",
        ),
        (
            "auht",
            "Error: Unknown bind 'auht'. Did you mean 'auth'? The binds are:"
            " default, auth, analytics.",
        ),
    ],
)
def test_unknown_bind(three: Three, name: str, message: str) -> None:
    """An unknown ``--bind`` is one error line on every command, and changes
    nothing.
    """
    history(three)
    runner = three.open()
    before = sorted(three.root.rglob("*.py"))

    for command in (
        ["upgrade"],
        ["downgrade"],
        ["stamp"],
        ["current"],
        ["heads"],
        ["log"],
        ["check"],
        ["status"],
        ["revision", "x"],
        ["revision", "x", "--empty"],
    ):
        assert fails(runner, *command, "--bind", name) == message, command

    # --bind repeated, with a known one first
    assert fails(runner, "upgrade", "--bind", "auth", "--bind", name) == message
    assert sorted(three.root.rglob("*.py")) == before
    assert state(three) == dict.fromkeys(three.urls, COMPARED)


def test_failed_upgrade_in_middle_bind(three: Three) -> None:
    """A revision failing on the second bind stops the upgrade: the first
    bind stays done, the failing one is rolled back, the last is not started,
    and one error block says so, without a traceback or a password. Once
    fixed, upgrading again runs only what is left.
    """
    posts, users, events = history(three)
    runner = three.open()
    invoke(runner, "revision", "add sessions", "--empty", "--bind", "auth")
    sessions = IDS[3]
    sessions_file = three.file("auth", f"{sessions}_add_sessions.py")
    create = '    op.create_table("session", sa.Column("id", sa.Integer))\n'
    fixed = sessions_file.read_text().replace("    pass\n", create, 1)
    broken = fixed.replace(create, create + '    op.execute("SELECT * FROM nosuch")\n')
    assert broken != fixed
    sessions_file.write_text(broken)

    result = run(three.open(), three, "upgrade", code=1)
    assert isinstance(result.exception, SystemExit)
    assert steps(result) == [
        f"{RUNNER}Bind 'default' ({three.shown('default')})",
        f"{MIGRATION}Running upgrade  -> {posts}, create posts",
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running upgrade  -> {users}, create users",
        f"{MIGRATION}Running upgrade {users} -> {sessions}, add sessions",
    ]
    assert result.stdout == ""
    assert lines(result.stderr) == [
        f"Error: Upgrade failed on bind 'auth' at revision {sessions} \"add"
        f' sessions" (migrations/auth/{sessions}_add_sessions.py):',
        '  UndefinedTable: relation "nosuch" does not exist [SQL: SELECT * FROM'
        " nosuch]",
        f"  Database: postgresql, {three.shown('auth')}",
        "Where each bind is now:",
        f"  default    done, at {posts}",
        "  auth       failed, rolled back to <base>, where it started",
        "  analytics  not started, at <base>",
        "Fix the cause, then run 'flask db upgrade' again: binds that are done"
        " have nothing left to run.",
    ]
    # PostgreSQL rolled back every revision of the bind.
    assert state(three) == {
        "default": ([posts], ["alembic_version", "post"]),
        "auth": COMPARED,
        "analytics": COMPARED,
    }

    sessions_file.write_text(fixed)
    result = run(three.open(), three, "upgrade")
    assert steps(result) == [
        f"{RUNNER}Bind 'auth' ({three.shown('auth')})",
        f"{MIGRATION}Running upgrade  -> {users}, create users",
        f"{MIGRATION}Running upgrade {users} -> {sessions}, add sessions",
        f"{RUNNER}Bind 'analytics' ({three.shown('analytics')})",
        f"{MIGRATION}Running upgrade  -> {events}, create events",
    ]
    assert state(three) == {
        "default": ([posts], ["alembic_version", "post"]),
        "auth": ([sessions], ["alembic_version", "session", "user"]),
        "analytics": ([events], ["alembic_version", "event"]),
    }


def test_downgrade_relative_to_revision(three: Three) -> None:
    """``downgrade REV-1 --bind NAME`` goes one revision below REV, as
    Alembic and shared histories allow.
    """
    _, users, _ = upgraded(three)
    runner = three.open()
    invoke(runner, "revision", "two", "--empty", "--bind", "auth")
    two = IDS[3]
    invoke(three.open(), "upgrade", "--bind", "auth")
    result = three.open().invoke(args=["db", "downgrade", f"{two}-1", "--bind", "auth"])
    assert result.exit_code == 0, result.output
    assert version_rows(three.urls["auth"]) == [users]
