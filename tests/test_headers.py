"""The header cache (:mod:`flask_alembic.headers`), revisions whose file is
executed only when they run, and version tables written once per run.

Every revision file written here appends its id to ``executed.log`` when
Python executes it, so a test sees which files a command executed and which
it took from the cache. A command that must see what changed runs on a new
app, as the next ``flask`` process would: an app keeps the history it read.
The autouse fixture in ``conftest.py`` lowers ``headers.RACY_NS`` to 50 ms;
:func:`settle` waits that long, so that the next command stores what was
just written.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import json
import os
import sys
import time
import types
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import BindOutcome
from flask_alembic import headers
from flask_alembic import HistoryError
from flask_alembic import MigrationError
from flask_alembic import Problem

from .cli.conftest import invoke
from .cli.conftest import lines
from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: For tests that only read files: run them once, on SQLite.
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

#: The file each revision file appends its id to when it is executed.
LOG = "executed.log"

#: The ids of a history written by :func:`chain`.
IDS = ("0001", "0002", "0003", "0004", "0005")

#: The file names of a history written by :func:`chain`.
NAMES = ("0001_one.py", "0002_two.py", "0003_three.py", "0004_four.py", "0005_five.py")


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines, so a test can listen to the app's engine."""
    return t.cast(str, request.param)


Reopen = t.Callable[..., Flask]


@pytest.fixture
def reopen(make_app: AppFactory, url: str) -> Reopen:
    """Make a new app on the test's database and ``tmp_path/migrations``, as
    the next ``flask`` process would. Keyword arguments are ``ALEMBIC``
    options; ``context`` is ``ALEMBIC_CONTEXT``.
    """

    def reopen(context: dict[str, t.Any] | None = None, **config: t.Any) -> Flask:
        return make_app(
            {"default": url}, sa.MetaData(), config=config, context=context
        )[0]

    return reopen


def ext(app: Flask) -> Alembic:
    """An app's extension; use it inside an app context."""
    return t.cast(Alembic, app.extensions["alembic"])


def write(
    root: Path,
    path: str,
    revision: str,
    down: str | tuple[str, ...] | list[str] | None = None,
    *,
    doc: str | None = None,
    labels: object = None,
    depends_on: object = None,
    upgrade: str = "pass",
    downgrade: str = "pass",
) -> Path:
    """Write a revision file that appends its id to ``root/executed.log``
    when it is executed, and return its path.

    :param path: Relative to ``root``, such as ``migrations/0001_one.py``.
    :param doc: The docstring; ``None`` writes none.
    :param upgrade: The body of ``upgrade()``, one statement per line.
    """
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)

    def body(code: str) -> str:
        return "\n".join(f"    {line}" for line in code.splitlines())

    docstring = f'"""{doc}"""\n' if doc is not None else ""
    file.write_text(
        f"{docstring}import sqlalchemy as sa\n"
        "from alembic import op\n"
        "\n"
        f"with open({str(root / LOG)!r}, 'a') as log:\n"
        f"    log.write({revision!r} + '\\n')\n"
        "\n"
        f"revision = {revision!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        f"depends_on = {depends_on!r}\n"
        "\n"
        "\n"
        "def upgrade():\n"
        f"{body(upgrade)}\n"
        "\n"
        "\n"
        "def downgrade():\n"
        f"{body(downgrade)}\n"
    )
    return file


def chain(root: Path, count: int = 3, fail: str | None = None) -> None:
    """Write a linear history of the first ``count`` of :data:`IDS`.

    :param fail: The id of a revision whose upgrade raises instead.
    """
    for ident in IDS[:count]:
        link(root, ident, fail=ident == fail)


#: The default ``down`` of :func:`link`: the id before in :data:`IDS`.
PREVIOUS = "previous"


def link(
    root: Path,
    ident: str,
    down: str | None = PREVIOUS,
    doc: str | None = None,
    *,
    name: str | None = None,
    fail: bool = False,
) -> Path:
    """Write one revision of :func:`chain`, which creates table ``t<id>``,
    or raises if ``fail``. Its docstring is ``create t<id>`` unless ``doc``
    is given; ``name`` replaces its file name.
    """
    index = IDS.index(ident)
    create = (
        f"op.create_table('t{ident}', sa.Column('id', sa.Integer, primary_key=True))"
    )

    if down == PREVIOUS:
        down = IDS[index - 1] if index else None

    return write(
        root,
        f"migrations/{name or NAMES[index]}",
        ident,
        down,
        doc=f"create t{ident}" if doc is None else doc,
        upgrade="raise RuntimeError('boom')" if fail else create,
        downgrade=f"op.drop_table('t{ident}')",
    )


def executed(root: Path) -> list[str]:
    """The ids of the revision files executed since the last call, in
    order.
    """
    log = root / LOG

    if not log.exists():
        return []

    ids = log.read_text().split()
    log.unlink()
    return ids


def settle() -> None:
    """Wait until every file written so far is older than
    ``headers.RACY_NS``, so the next command may store its header.
    """
    time.sleep(headers.RACY_NS / 1e9 + 0.01)


def cache_path(location: Path) -> Path:
    """The header cache file of a version location."""
    return location / "__pycache__" / headers.FILENAME


def entries(location: Path) -> dict[str, t.Any]:
    """The header cache's entries of a version location, by file name."""
    data = json.loads(cache_path(location).read_text())
    assert data["format"] == headers.FORMAT
    return t.cast(dict[str, t.Any], data["entries"])


def run(app: Flask, *args: str) -> list[str]:
    """Run ``flask db <args>`` on an app, check it succeeded, and return its
    output lines without progress lines.
    """
    return lines(invoke(app.test_cli_runner(), *args).output)


def outputs(app: Flask, ids: cabc.Iterable[str]) -> list[str]:
    """The output of ``heads -v``, ``log -v`` and ``show`` of each id."""
    return [*run(app, "heads", "-v"), *run(app, "log", "-v"), *run(app, "show", *ids)]


# The header cache: hits, and every way a file can change.


@only_sqlite
def test_second_command_executes_nothing(reopen: Reopen, tmp_path: Path) -> None:
    """The first command executes every revision file and stores its header;
    the next commands execute none, and their output is unchanged.
    """
    chain(tmp_path)
    settle()
    first = outputs(reopen(), IDS[:3])
    assert executed(tmp_path) == list(IDS[:3])

    migrations = tmp_path / "migrations"
    cached = entries(migrations)
    assert sorted(cached) == list(NAMES[:3])
    assert cached["0002_two.py"][1:] == ["0002", "0001", None, None, "create t0002"]
    stat = os.stat(migrations / "0002_two.py")
    assert cached["0002_two.py"][0] == [
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        stat.st_ino,
    ]

    again = reopen()
    assert outputs(again, IDS[:3]) == first
    assert run(again, "current") == []
    assert executed(tmp_path) == []


def branchy(root: Path) -> list[str]:
    """Write a history that uses every kind of header value, and return its
    ids. No revision gets two branch labels: Alembic prints a revision's
    labels in an order that can differ between two loads of one history (it
    spreads them by walking a set of revision objects).
    """
    write(root, "migrations/a_base.py", "0001", doc="base\n\nA longer text.")
    write(root, "migrations/b_left.py", "0002", "0001", doc="left", labels=["left"])
    write(root, "migrations/c_right.py", "0003", ["0001"])
    write(root, "migrations/d_merge.py", "0004", ("0002", "0003"), doc="merge")
    write(
        root,
        "migrations/e_after.py",
        "0005",
        "0004",
        doc="Unicode: é ✓",
        depends_on=["0006"],
    )
    write(root, "migrations/f_other.py", "0006", doc="other", labels=("other",))
    write(root, "migrations/g_needs.py", "0007", "0006", depends_on=("0002",))
    write(root, "migrations/h_third.py", "0008", doc="third", labels="third")
    write(root, "migrations/i_needs.py", "0009", "0008", depends_on="left")
    return ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009"]


@only_sqlite
def test_output_same_without_cache(reopen: Reopen, tmp_path: Path) -> None:
    """What commands show from cached headers is what they show with the
    cache off: ids, parents, labels, dependencies and docstrings.
    """
    ids = branchy(tmp_path)
    settle()
    run(reopen(), "heads")
    assert len(executed(tmp_path)) == len(ids)

    def everything(app: Flask) -> list[str]:
        return [
            *outputs(app, ids),
            *run(app, "heads", "--resolve-dependencies"),
            *run(app, "branches", "-v"),
            *run(app, "log", "--start", "0002", "--end", "heads"),
        ]

    cached = everything(reopen())
    assert executed(tmp_path) == []
    assert cached == everything(reopen(cache=False))
    assert sorted(executed(tmp_path)) == ids
    # The values did come through, not only the same gaps on both sides.
    for line in (
        "Merges: 0002, 0003",
        "Also depends on: 0006",
        "Branch names: other",
        "Unicode: é ✓",
    ):
        assert line in [line.strip() for line in cached]


#: ``flask db log`` of the history :func:`chain` writes by default.
LOG_OF_CHAIN = [
    "0002 -> 0003 (head), create t0003",
    "0001 -> 0002, create t0002",
    "<base> -> 0001, create t0001",
]


def edit_body(root: Path) -> None:
    """Change what ``0002`` does, and so its size."""
    link(root, "0002", fail=True)


def keep_size_and_mtime(root: Path) -> None:
    """Reword ``0002``'s docstring in place, keeping its size, and set its
    modification time back: only its change time differs.
    """
    path = root / "migrations/0002_two.py"
    before = path.stat()
    link(root, "0002", doc="CREATE T0002")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def replace(root: Path) -> None:
    """Write a new ``0002`` of the same size beside it, give it the old
    modification time, and rename it over the old one, as editors that save
    atomically do: a new inode.
    """
    path = root / "migrations/0002_two.py"
    before = path.stat()
    new = link(root, "0002", doc="CREATE T0002", name="0002_two.tmp")
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ino != before.st_ino


def reword(root: Path) -> None:
    """Change only ``0002``'s docstring."""
    link(root, "0002", doc="create the t0002 table")


def reparent(root: Path) -> None:
    """Make ``0003`` follow ``0001`` instead of ``0002``."""
    link(root, "0003", "0001")


def add(root: Path) -> None:
    """Add ``0004`` on top."""
    link(root, "0004")


def delete(root: Path) -> None:
    """Delete ``0003``."""
    (root / "migrations/0003_three.py").unlink()


def rename(root: Path) -> None:
    """Rename ``0002``'s file, keeping its content."""
    migrations = root / "migrations"
    (migrations / "0002_two.py").rename(migrations / "0002_renamed.py")


@only_sqlite
@pytest.mark.parametrize(
    ("change", "log", "ran"),
    [
        pytest.param(edit_body, LOG_OF_CHAIN, ["0002"], id="body"),
        pytest.param(
            keep_size_and_mtime,
            [LOG_OF_CHAIN[0], "0001 -> 0002, CREATE T0002", LOG_OF_CHAIN[2]],
            ["0002"],
            id="same size and mtime",
        ),
        pytest.param(
            replace,
            [LOG_OF_CHAIN[0], "0001 -> 0002, CREATE T0002", LOG_OF_CHAIN[2]],
            ["0002"],
            id="replaced",
        ),
        pytest.param(
            reword,
            [LOG_OF_CHAIN[0], "0001 -> 0002, create the t0002 table", LOG_OF_CHAIN[2]],
            ["0002"],
            id="docstring",
        ),
        pytest.param(
            reparent,
            [
                "0001 -> 0002 (head), create t0002",
                "0001 -> 0003 (head), create t0003",
                "<base> -> 0001 (branchpoint), create t0001",
            ],
            ["0003"],
            id="down_revision",
        ),
        pytest.param(
            add,
            [
                "0003 -> 0004 (head), create t0004",
                "0002 -> 0003, create t0003",
                *LOG_OF_CHAIN[1:],
            ],
            ["0004"],
            id="added",
        ),
        pytest.param(
            delete,
            ["0001 -> 0002 (head), create t0002", LOG_OF_CHAIN[2]],
            [],
            id="deleted",
        ),
        pytest.param(rename, LOG_OF_CHAIN, ["0002"], id="renamed"),
    ],
)
def test_change_seen_by_next_command(
    reopen: Reopen,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: t.Callable[[Path], None],
    log: list[str],
    ran: list[str],
) -> None:
    """The command after a revision file changed executes that file, and
    only it, and shows what it says now; once the file is old enough, it is
    cached again.
    """
    # Python's own bytecode cache trusts a source file whose size and
    # modification time (in whole seconds) are unchanged: it would run the
    # old code of the changes that keep both, whatever the header cache did.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    change(tmp_path)

    app = reopen()
    assert run(app, "log") == log
    assert executed(tmp_path) == ran
    seen = outputs(app, ["0002"])
    assert seen == outputs(reopen(cache=False), ["0002"])

    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    assert outputs(reopen(), ["0002"]) == seen
    assert executed(tmp_path) == []
    migrations = tmp_path / "migrations"
    assert sorted(entries(migrations)) == sorted(
        p.name for p in migrations.glob("*.py")
    )


@only_sqlite
def test_stale_bytecode_not_cached(
    reopen: Reopen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python trusts a revision's compiled bytecode while the file's size and
    modification time, to the second, are unchanged. A file edited in place
    that keeps both is read from its source, so the cache stores what the
    file says now, not what the bytecode says.
    """
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    # Running the cached revisions compiles them into __pycache__.
    run(reopen(), "upgrade")
    assert list((tmp_path / "migrations/__pycache__").glob("0002_two.*.pyc"))
    keep_size_and_mtime(tmp_path)
    settle()
    assert "    CREATE T0002" in run(reopen(), "show", "0002")
    assert "    CREATE T0002" in run(reopen(), "show", "0002")


def test_unloadable_then_fixed(reopen: Reopen, tmp_path: Path) -> None:
    """A cached file that stops loading is reported by the next command, and
    by the one after; fixed, it is read and cached again.
    """
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    path = tmp_path / "migrations/0002_two.py"
    path.write_text('"""broken"""\nrevision = "0002"\ndef upgrade(:\n    pass\n')
    unloadable = Problem(
        "unloadable",
        "migrations/0002_two.py: cannot be loaded: SyntaxError on line 3:"
        " invalid syntax",
        ("migrations/0002_two.py",),
    )

    for _ in range(2):
        app = reopen()

        with app.app_context():
            with pytest.raises(HistoryError) as e:
                ext(app).heads()

            assert e.value.problems[0] == unloadable
            assert ext(app).verify(database=False)[0] == unloadable

        settle()

    migrations = tmp_path / "migrations"
    assert sorted(entries(migrations)) == ["0001_one.py", "0003_three.py"]
    link(tmp_path, "0002")
    executed(tmp_path)
    assert run(reopen(), "log") == LOG_OF_CHAIN
    assert executed(tmp_path) == ["0002"]
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    assert run(reopen(), "log") == LOG_OF_CHAIN
    assert executed(tmp_path) == []


@only_sqlite
def test_racy_window_default(
    reopen: Reopen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default of 2 s, a file modified or changed less than 2 s ago
    is executed by every command and not stored; once both its times are
    older, it is stored.
    """
    monkeypatch.setattr(headers, "RACY_NS", 2_000_000_000)
    chain(tmp_path, 1)
    path = tmp_path / "migrations/0001_one.py"
    migrations = tmp_path / "migrations"

    run(reopen(), "heads")
    assert executed(tmp_path) == ["0001"]
    assert not cache_path(migrations).exists()

    # An old modification time is not enough: setting it changed the file's
    # change time, which is now.
    old = time.time_ns() - 3_600_000_000_000
    os.utime(path, ns=(old, old))
    run(reopen(), "heads")
    assert executed(tmp_path) == ["0001"]
    assert not cache_path(migrations).exists()

    changed = path.stat().st_ctime_ns
    time.sleep(max(0, changed + 2_050_000_000 - time.time_ns()) / 1e9)
    run(reopen(), "heads")
    assert executed(tmp_path) == ["0001"]
    assert sorted(entries(migrations)) == ["0001_one.py"]
    run(reopen(), "heads")
    assert executed(tmp_path) == []


@only_sqlite
def test_future_mtime_not_cached(reopen: Reopen, tmp_path: Path) -> None:
    """A file modified "in the future", as after a clock change or a copy
    from another machine, is not stored until that time has passed.
    """
    chain(tmp_path, 2)
    future = time.time_ns() + 3_600_000_000_000
    os.utime(tmp_path / "migrations/0002_two.py", ns=(future, future))
    settle()

    run(reopen(), "heads")
    assert executed(tmp_path) == ["0001", "0002"]
    run(reopen(), "heads")
    assert executed(tmp_path) == ["0002"]
    assert sorted(entries(tmp_path / "migrations")) == ["0001_one.py"]


@only_sqlite
def test_cache_off(reopen: Reopen, tmp_path: Path) -> None:
    """With ``ALEMBIC["cache"] = False``, every command executes every file,
    writes no cache, and does not read one that exists.
    """
    chain(tmp_path)
    settle()
    migrations = tmp_path / "migrations"

    for _ in range(2):
        assert run(reopen(cache=False), "log") == LOG_OF_CHAIN
        assert executed(tmp_path) == list(IDS[:3])

    assert not cache_path(migrations).exists()

    # A cache entry that lies about 0002's docstring: the cache believes it,
    # which shows it is read.
    run(reopen(), "heads")
    executed(tmp_path)
    data = json.loads(cache_path(migrations).read_text())
    data["entries"]["0002_two.py"][5] = "from the cache"
    cache_path(migrations).write_text(json.dumps(data))
    lie = cache_path(migrations).read_bytes()
    assert run(reopen(), "log")[1] == "0001 -> 0002, from the cache"
    assert executed(tmp_path) == []

    assert run(reopen(cache=False), "log") == LOG_OF_CHAIN
    assert executed(tmp_path) == list(IDS[:3])
    assert cache_path(migrations).read_bytes() == lie


def entry_of_0002(change: t.Callable[[list[t.Any]], t.Any]) -> t.Callable[..., bytes]:
    """A corruption of the cache file that replaces ``0002``'s entry by what
    ``change`` returns for it.
    """

    def corrupt(data: dict[str, t.Any]) -> bytes:
        data["entries"]["0002_two.py"] = change(data["entries"]["0002_two.py"])
        return json.dumps(data).encode()

    return corrupt


def replaced_item(index: int, value: object) -> t.Callable[[list[t.Any]], t.Any]:
    """Replace one item of a cache entry."""
    return lambda entry: [*entry[:index], value, *entry[index + 1 :]]


@only_sqlite
@pytest.mark.parametrize(
    ("corrupt", "ran"),
    [
        pytest.param(lambda data: b"\xff\xfe\x00{", IDS[:3], id="not UTF-8"),
        pytest.param(lambda data: b'{"format": 1, "entr', IDS[:3], id="cut short"),
        pytest.param(lambda data: b"", IDS[:3], id="empty"),
        pytest.param(lambda data: b"[1, 2]", IDS[:3], id="a list"),
        pytest.param(
            lambda data: json.dumps({**data, "format": 99}).encode(),
            IDS[:3],
            id="other format",
        ),
        pytest.param(
            lambda data: json.dumps({"entries": data["entries"]}).encode(),
            IDS[:3],
            id="no format",
        ),
        pytest.param(
            lambda data: json.dumps({"format": 1, "entries": [1]}).encode(),
            IDS[:3],
            id="entries not a dict",
        ),
        pytest.param(entry_of_0002(lambda entry: None), ["0002"], id="null entry"),
        pytest.param(entry_of_0002(lambda entry: "0002"), ["0002"], id="text entry"),
        pytest.param(
            entry_of_0002(lambda entry: entry[:3]), ["0002"], id="short entry"
        ),
        pytest.param(
            entry_of_0002(replaced_item(0, "key")), ["0002"], id="key not a list"
        ),
        pytest.param(
            entry_of_0002(replaced_item(1, 2)), ["0002"], id="revision a number"
        ),
        pytest.param(
            entry_of_0002(replaced_item(2, {"x": 1})), ["0002"], id="down a dict"
        ),
        pytest.param(
            entry_of_0002(replaced_item(3, [1, 2])), ["0002"], id="labels numbers"
        ),
        pytest.param(
            entry_of_0002(replaced_item(4, {"tuple": [None]})),
            ["0002"],
            id="depends_on tuple of null",
        ),
        pytest.param(
            entry_of_0002(replaced_item(5, ["doc"])), ["0002"], id="doc a list"
        ),
    ],
)
def test_corrupt_cache(
    reopen: Reopen,
    tmp_path: Path,
    corrupt: t.Callable[[dict[str, t.Any]], bytes],
    ran: list[str],
) -> None:
    """A cache file that cannot be read, or an entry that does not hold what
    it should, is ignored: the files are executed, commands work, and the
    cache is written again.
    """
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    path = cache_path(tmp_path / "migrations")
    good = json.loads(path.read_text())
    path.write_bytes(corrupt(json.loads(path.read_text())))

    result = invoke(reopen().test_cli_runner(), "log")
    assert result.output.splitlines() == LOG_OF_CHAIN
    assert executed(tmp_path) == list(ran)
    assert json.loads(path.read_text()) == good


@only_sqlite
@pytest.mark.parametrize(
    "blocked",
    ["__pycache__ is a file", "read-only file system", "cache is a directory"],
)
def test_unwritable_cache(
    reopen: Reopen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blocked: str
) -> None:
    """Where the cache cannot be written, commands work as without it and
    say nothing about it.
    """
    chain(tmp_path)
    settle()
    migrations = tmp_path / "migrations"
    pycache = migrations / "__pycache__"

    if blocked == "__pycache__ is a file":
        pycache.write_text("")
    elif blocked == "read-only file system":
        # Permissions would not stop root, who runs CI here: the file system
        # refuses the cache's final rename instead, as a read-only one would.
        replace = os.replace

        def refuse(source: str, target: str) -> None:
            if target.endswith(headers.FILENAME):
                raise OSError(30, "Read-only file system", target)

            replace(source, target)

        monkeypatch.setattr(os, "replace", refuse)
    else:
        cache_path(migrations).mkdir(parents=True)

    for _ in range(2):
        result = invoke(reopen().test_cli_runner(), "log")
        assert result.output.splitlines() == LOG_OF_CHAIN
        assert executed(tmp_path) == list(IDS[:3])

    if pycache.is_dir():
        assert list(pycache.glob("*.tmp")) == []


def fake_stat(
    size: int = 300, mtime: int = 1_000, ctime: int = 2_000, inode: int = 7
) -> os.stat_result:
    """What :class:`~flask_alembic.headers.HeaderCache` reads of a file's
    ``os.stat()``; the times are long past.
    """
    return t.cast(
        os.stat_result,
        types.SimpleNamespace(
            st_size=size, st_mtime_ns=mtime, st_ctime_ns=ctime, st_ino=inode
        ),
    )


@pytest.mark.parametrize("changed", ["size", "mtime", "ctime", "inode"])
def test_key(tmp_path: Path, changed: str) -> None:
    """A stored header is given back, with its tuples and lists as they were,
    only while the file's size, modification and change times and inode are
    all unchanged. (A real file's change time always moves with its inode,
    so only this test can tell the inode is part of the key.)
    """
    header = headers.Header("0002", ("0001",), ["left"], None, "doc")
    cache = headers.HeaderCache(str(tmp_path))
    cache.put("0002_two.py", fake_stat(), header)
    cache.save()

    assert headers.HeaderCache(str(tmp_path)).get("0002_two.py", fake_stat()) == header
    other = fake_stat(**{changed: 5})
    assert headers.HeaderCache(str(tmp_path)).get("0002_two.py", other) is None


@only_sqlite
def test_values_that_cannot_be_cached(reopen: Reopen, tmp_path: Path) -> None:
    """A file whose header values JSON cannot hold as they are, such as a set
    of branch labels, is executed by every command; the others are cached.
    """
    write(tmp_path, "migrations/0001_one.py", "0001", doc="one", labels={"core"})
    write(tmp_path, "migrations/0002_two.py", "0002", "0001", doc="two")
    settle()

    for ran in (["0001", "0002"], ["0001"], ["0001"]):
        assert run(reopen(), "log") == [
            "0001 -> 0002 (core) (head), two",
            "<base> -> 0001 (core), one",
        ]
        assert executed(tmp_path) == ran

    assert sorted(entries(tmp_path / "migrations")) == ["0002_two.py"]


@only_sqlite
def test_recursive_version_locations(reopen: Reopen, tmp_path: Path) -> None:
    """With ``recursive_version_locations``, files in subdirectories are
    cached under their path in the location, two files of the same name are
    two entries, and a change in a subdirectory is seen.
    """
    write(tmp_path, "migrations/0001_base.py", "0001", doc="base")
    write(tmp_path, "migrations/2024/0002_next.py", "0002", "0001", doc="next")
    write(tmp_path, "migrations/2024/q4/0003_last.py", "0003", "0002", doc="last")
    write(tmp_path, "migrations/2025/0002_next.py", "0004", "0003", doc="same name")
    settle()
    config = {"recursive_version_locations": True}
    log = [
        "0003 -> 0004 (head), same name",
        "0002 -> 0003, last",
        "0001 -> 0002, next",
        "<base> -> 0001, base",
    ]

    assert run(reopen(**config), "log") == log
    assert sorted(executed(tmp_path)) == ["0001", "0002", "0003", "0004"]
    assert sorted(entries(tmp_path / "migrations")) == [
        "0001_base.py",
        "2024/0002_next.py",
        "2024/q4/0003_last.py",
        "2025/0002_next.py",
    ]
    assert run(reopen(**config), "log") == log
    assert executed(tmp_path) == []

    write(tmp_path, "migrations/2024/q4/0003_last.py", "0003", "0002", doc="reworded")
    log[1] = "0002 -> 0003, reworded"
    assert run(reopen(**config), "log") == log
    assert executed(tmp_path) == ["0003"]


@only_sqlite
def test_cache_per_version_location(reopen: Reopen, tmp_path: Path) -> None:
    """Each version location caches its own files, in its own
    ``__pycache__``.
    """
    write(tmp_path, "migrations/0001_base.py", "0001", doc="base")
    write(tmp_path, "extra/0002_more.py", "0002", "0001", doc="more")
    settle()
    config = {"version_locations": ["extra"]}
    run(reopen(**config), "heads")
    assert sorted(executed(tmp_path)) == ["0001", "0002"]
    assert sorted(entries(tmp_path / "migrations")) == ["0001_base.py"]
    assert sorted(entries(tmp_path / "extra")) == ["0002_more.py"]
    assert run(reopen(**config), "log") == [
        "0001 -> 0002 (head), more",
        "<base> -> 0001, base",
    ]
    assert executed(tmp_path) == []


# Revisions' files are executed when they run.


@only_sqlite
def test_upgrade_executes_only_what_runs(
    reopen: Reopen, tmp_path: Path, url: str
) -> None:
    """With a cached history, commands that read it execute no file, and
    ``upgrade`` and ``downgrade`` execute the files of the revisions they
    run, each once, in the order they run.
    """
    chain(tmp_path, 5)
    settle()
    app = reopen()

    with app.app_context():
        ext(app).upgrade("0002")

    executed(tmp_path)
    assert version_rows(url) == ["0002"]

    app = reopen()
    assert run(app, "current") == ["0001 -> 0002, create t0002"]
    assert run(app, "heads") == ["0004 -> 0005 (head), create t0005"]
    assert len(run(app, "log")) == 5
    assert executed(tmp_path) == []

    run(app, "upgrade")
    assert executed(tmp_path) == ["0003", "0004", "0005"]
    assert version_rows(url) == ["0005"]

    run(reopen(), "downgrade", "0002")
    assert executed(tmp_path) == ["0005", "0004", "0003"]
    assert version_rows(url) == ["0002"]
    assert table_names(url) == ["alembic_version", "t0001", "t0002"]


@only_sqlite
def test_module_released_after_its_step(
    reopen: Reopen, tmp_path: Path, url: str
) -> None:
    """Once a revision has run, its module is let go: the same app running
    it again executes its file again.
    """
    chain(tmp_path, 2)
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    app = reopen()

    with app.app_context():
        ext(app).upgrade()
        assert executed(tmp_path) == ["0001", "0002"]
        ext(app).downgrade("base")
        assert executed(tmp_path) == ["0002", "0001"]

    assert version_rows(url) == []


@only_sqlite
@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda root: link(root, "0002", None), id="down_revision"),
        pytest.param(lambda root: link(root, "0002", doc="reworded"), id="docstring"),
        pytest.param(
            lambda root: write(root, "migrations/0002_two.py", "0009", "0001"),
            id="revision",
        ),
    ],
)
def test_changed_while_running(
    reopen: Reopen,
    tmp_path: Path,
    url: str,
    rewrite: t.Callable[[Path], object],
) -> None:
    """A file whose header changed after the history was read, and before
    its revision ran, stops the upgrade with an error naming the file, and
    nothing is applied.
    """
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    executed(tmp_path)
    app = reopen()

    with app.app_context():
        alembic = ext(app)
        assert alembic.script_directory.revision_map.heads == ("0003",)
        rewrite(tmp_path)

        with pytest.raises(MigrationError) as e:
            alembic.upgrade()

    # 0001 ran before 0002 was executed and found changed; the run is one
    # transaction, rolled back.
    path = "migrations/0002_two.py"
    assert (e.value.revision, e.value.outcomes[0].now) == ("0002", ())
    assert isinstance(e.value.__cause__, HistoryError)
    assert [str(p) for p in e.value.__cause__.problems] == [
        f"{path}: changed while the command was running. Run it again."
    ]
    assert table_names(url) == []


@only_sqlite
def test_changed_while_running_says_so(reopen: Reopen, tmp_path: Path) -> None:
    """The error of ``flask db upgrade`` when a file changed while it ran
    says which file changed, and that running it again is the fix.
    """
    chain(tmp_path)
    settle()
    run(reopen(), "heads")
    # Running 0001 rewords 0002, after the history was read.
    path = tmp_path / "migrations" / "0002_two.py"
    write(
        tmp_path,
        "migrations/0001_one.py",
        "0001",
        doc="create t0001",
        upgrade="import pathlib\n"
        f"path = pathlib.Path({str(path)!r})\n"
        "path.write_text(path.read_text().replace('t0002', 'the t0002 table'))",
    )
    settle()
    output = invoke(reopen().test_cli_runner(), "upgrade", code=1).output
    assert (
        "  HistoryError: migrations/0002_two.py: changed while the command was"
        " running. Run it again.\n"
    ) in output


# The version table is written once per run, where the run is one transaction.


@contextlib.contextmanager
def version_writes(app: Flask) -> cabc.Iterator[list[str]]:
    """Record the verb of each statement that changes the version table of
    the app's engine inside the block.
    """
    engine = ext(app).engines["default"]
    found: list[str] = []

    def record(
        conn: sa.Connection, cursor: t.Any, statement: str, *args: t.Any
    ) -> None:
        verb = statement.split(None, 1)[0].upper()

        if "alembic_version" in statement and verb in ("INSERT", "UPDATE", "DELETE"):
            found.append(verb)

    sa.event.listen(engine, "before_cursor_execute", record)

    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("start", "once", "each"),
    [
        ("0001", ["UPDATE"], ["UPDATE"] * 3),
        (None, ["INSERT"], ["INSERT"] + ["UPDATE"] * 3),
    ],
    ids=["stamped", "base"],
)
def test_upgrade_writes_version_once(
    reopen: Reopen,
    tmp_path: Path,
    url: str,
    backend: str,
    start: str | None,
    once: list[str],
    each: list[str],
) -> None:
    """An upgrade that is one transaction (SQLite, PostgreSQL) writes the
    version table once, at the end; on MariaDB, whose DDL statements commit
    themselves, it writes it after each step.
    """
    chain(tmp_path, 4)
    app = reopen()

    with app.app_context():
        if start is not None:
            ext(app).stamp(start)

        with version_writes(app) as writes:
            ext(app).upgrade()

    assert version_rows(url) == ["0004"]
    assert writes == (each if backend == "mariadb" else once)


@pytest.mark.parametrize(
    ("target", "once", "each"),
    [
        ("0001", ["UPDATE"], ["UPDATE"] * 3),
        ("base", ["DELETE"], ["UPDATE"] * 3 + ["DELETE"]),
    ],
)
def test_downgrade_writes_version_once(
    reopen: Reopen,
    tmp_path: Path,
    url: str,
    backend: str,
    target: str,
    once: list[str],
    each: list[str],
) -> None:
    """A downgrade in one transaction writes the version table once; on
    MariaDB after each step.
    """
    chain(tmp_path, 4)
    app = reopen()

    with app.app_context():
        ext(app).upgrade()

        with version_writes(app) as writes:
            ext(app).downgrade(target)

    rows = ["0001"] if target == "0001" else []
    assert version_rows(url) == rows
    assert table_names(url) == ["alembic_version", *(f"t{r}" for r in rows)]
    assert writes == (each if backend == "mariadb" else once)


def test_failure_leaves_version_at_start(
    reopen: Reopen, tmp_path: Path, url: str, backend: str
) -> None:
    """When the third revision of an upgrade fails, a database that ran it
    in one transaction is back where it started, tables and version table
    alike; MariaDB keeps the first two, and its version table says so.
    """
    chain(tmp_path, 4, fail="0004")
    app = reopen()

    with app.app_context():
        ext(app).stamp("0001")

        with pytest.raises(MigrationError) as e:
            ext(app).upgrade()

    if backend == "mariadb":
        now = ["0003"]
        assert table_names(url) == ["alembic_version", "t0002", "t0003"]
    else:
        now = ["0001"]
        assert table_names(url) == ["alembic_version"]

    assert version_rows(url) == now
    assert e.value.revision == "0004"
    assert e.value.outcomes == [BindOutcome("default", "failed", ("0001",), tuple(now))]


@pytest.mark.parametrize(
    "context",
    [{"transaction_per_migration": True}, {"transactional_ddl": False}],
    ids=["transaction_per_migration", "no transactional_ddl"],
)
def test_step_transactions_write_each_step(
    reopen: Reopen,
    tmp_path: Path,
    url: str,
    context: dict[str, t.Any],
) -> None:
    """With a transaction per step, as ``transaction_per_migration`` or
    ``transactional_ddl = False`` make on every backend, each step commits
    with its own version row, so a failure keeps the steps before it.
    """
    chain(tmp_path, 4, fail="0004")
    app = reopen(context=context)

    with app.app_context():
        ext(app).stamp("0001")

        with version_writes(app) as writes, pytest.raises(MigrationError):
            ext(app).upgrade()

    assert writes == ["UPDATE", "UPDATE"]
    assert version_rows(url) == ["0003"]
    assert table_names(url) == ["alembic_version", "t0002", "t0003"]


def test_offline_sql_writes_each_step(reopen: Reopen, tmp_path: Path) -> None:
    """Offline SQL is not deferred: it updates the version table after
    each step, as Alembic writes it.
    """
    chain(tmp_path, 4)
    app = reopen()

    with app.app_context():
        sql = ext(app).sql("upgrade", "0001:0004")["default"]

    assert sql.count("UPDATE alembic_version") == 3


def branches_and_merge(root: Path) -> None:
    """Write two lines, ``a1 <- a2`` and ``b1``, and ``m1`` merging them."""
    for ident, down in [("a1", None), ("a2", "a1"), ("b1", None), ("m1", ("a2", "b1"))]:
        write(
            root,
            f"migrations/{ident}.py",
            ident,
            down,
            doc=ident,
            upgrade=f"op.create_table('t{ident}', sa.Column('id', sa.Integer,"
            " primary_key=True))",
            downgrade=f"op.drop_table('t{ident}')",
        )


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(
            [
                ("upgrade", ("a2", "b1"), ["a2", "b1"]),
                ("upgrade", "heads", ["m1"]),
                ("downgrade", "b1", ["a2", "b1"]),
                ("downgrade", "a1", ["a1", "b1"]),
                ("upgrade", "heads", ["m1"]),
                ("downgrade", "a1", ["a1", "b1"]),
                ("downgrade", "base", []),
            ],
            id="upgrade and downgrade",
        ),
        pytest.param(
            [
                ("stamp", "a1", ["a1"]),
                ("stamp", ("a2", "b1"), ["a2", "b1"]),
                ("stamp", "heads", ["m1"]),
                ("stamp", "b1", ["b1"]),
                ("stamp", ("a1", "b1"), ["a1", "b1"]),
                ("stamp", "base", []),
            ],
            id="stamp",
        ),
    ],
)
def test_branches_and_merge_rows(
    reopen: Reopen,
    tmp_path: Path,
    url: str,
    backend: str,
    steps: list[tuple[str, t.Any, list[str]]],
) -> None:
    """Runs that create, merge and split branches leave exactly the heads
    they reached in the version table, the same whether it is written once
    per run or after each step (MariaDB).
    """
    branches_and_merge(tmp_path)
    app = reopen()
    before: list[str] = []

    for operation, target, rows in steps:
        with app.app_context():
            with version_writes(app) as writes:
                getattr(ext(app), operation)(target)

        assert version_rows(url) == rows, (operation, target)

        if backend != "mariadb":
            # One statement per row changed: an UPDATE for each row replaced,
            # then a DELETE or an INSERT for each row left over.
            gone, new = set(before) - set(rows), set(rows) - set(before)
            assert len(writes) == max(len(gone), len(new)), (operation, target)

        before = rows


def test_stamp_purge_rows(reopen: Reopen, tmp_path: Path, url: str) -> None:
    """``stamp --purge`` empties a version table holding revisions no file
    defines, then writes the heads it stamps.
    """
    branches_and_merge(tmp_path)
    app = reopen()

    with app.app_context():
        ext(app).stamp(("a1", "b1"))

    engine = sa.create_engine(url)

    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE alembic_version SET version_num = 'gone'"
                    " WHERE version_num = 'b1'"
                )
            )
    finally:
        engine.dispose()

    with app.app_context():
        ext(app).stamp("heads", purge=True)

    assert version_rows(url) == ["m1"]
    assert table_names(url) == ["alembic_version"]


@pytest.mark.parametrize(
    "header",
    [
        headers.Header("b", None, None, None, None),
        headers.Header("b", "a", None, None, "doc"),
        headers.Header("b", "", None, None, None),
        headers.Header("b", ("a",), None, None, None),
        headers.Header("b", ("a", "c"), None, None, None),
        headers.Header("b", ["a", "c"], None, None, None),
        headers.Header("b", "a", "label", None, None),
        headers.Header("b", "a", ("x", "y"), "c", None),
        headers.Header("b", None, None, ("c", "d"), None),
        headers.Header("b", "b", None, None, None),
        headers.Header("b", "a", None, "b", None),
        headers.Header("b-1", "a", None, None, None),
    ],
)
def test_cached_script_as_alembic_builds_it(header: headers.Header) -> None:
    """A revision built from a cached header has what Alembic's constructor
    gives it, or raises what it raises.
    """
    from alembic.script import Script

    from flask_alembic import _alembic

    assert _alembic._plain_scripts_match()
    module = t.cast(types.ModuleType, _alembic._LazyModule(header, "/m/b.py"))

    try:
        expected: object = vars(Script(module, header.revision, "/m/b.py"))
    except Exception as e:
        expected = (type(e), str(e))

    try:
        built: object = vars(_alembic._cached_script(header, "/m/b.py", str))
    except Exception as e:
        built = (type(e), str(e))

    if isinstance(built, dict) and isinstance(expected, dict):
        assert isinstance(built.pop("module"), _alembic._LazyModule)
        assert isinstance(expected.pop("module"), _alembic._LazyModule)

    assert built == expected
