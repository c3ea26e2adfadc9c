"""Passwords never show, and hostile input never lands a file outside the
version locations or runs code.

The password has characters that URL-encoding changes (``%@:/``) and
non-ASCII ones. PostgreSQL trusts its local clients, so any password works
there; on MariaDB a user with that password is created for the test and
dropped after it. Neither the password nor its URL-encoded forms may appear
in CLI output, in log records, in exception messages or in generated files.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import hashlib
import logging
import typing as t
import uuid
from pathlib import Path
from urllib.parse import quote
from urllib.parse import quote_plus

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import DatabaseError
from flask_alembic import MigrationError
from flask_alembic import TargetError

from .conftest import AppFactory
from .conftest import server_url
from .conftest import table_names
from .conftest import version_rows
from .test_verify import revision_file

PASSWORD = "p%@:é/ü"

#: The forms the password could leak in.
FORMS = sorted({PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD)})

#: The tests about passwords run on the backends that take one.
with_password = pytest.mark.parametrize(
    "backend", ["postgresql", "mariadb"], indirect=True
)

#: For tests that only write files: run them once, on SQLite.
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(params=["sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Plain SQLAlchemy engines."""
    return t.cast(str, request.param)


@pytest.fixture
def secret_url(
    backend: str, make_url: cabc.Callable[..., str]
) -> cabc.Iterator[sa.URL]:
    """A fresh database, reached with :data:`PASSWORD`."""
    url = sa.make_url(make_url())

    if backend == "postgresql":
        yield url.set(password=PASSWORD)
        return

    # PyMySQL sends the password encoded as Latin-1, so the server must hash
    # those bytes; "IDENTIFIED BY" over a UTF-8 connection would hash others.
    user = f"fa_u_{uuid.uuid4().hex[:8]}"
    digest = hashlib.sha1(hashlib.sha1(PASSWORD.encode("latin1")).digest())
    admin = sa.create_engine(server_url("mariadb"), isolation_level="AUTOCOMMIT")

    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "CREATE USER %s@'%%' IDENTIFIED BY PASSWORD %s",
                (user, "*" + digest.hexdigest().upper()),
            )
            conn.exec_driver_sql(f"GRANT ALL ON {url.database}.* TO %s@'%%'", (user,))

        yield url.set(username=user, password=PASSWORD)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP USER IF EXISTS %s@'%%'", (user,))

        admin.dispose()


def full(url: sa.URL) -> str:
    """A URL as a string, with its password, as an app configures it."""
    return url.render_as_string(hide_password=False)


def masked(url: sa.URL) -> str:
    return url.render_as_string(hide_password=True)


def assert_hidden(*texts: str) -> None:
    """No form of the password appears in any of the texts."""
    for text in texts:
        for form in FORMS:
            assert form not in text, f"{form!r} in {text!r}"


def files_text(root: Path) -> str:
    """The text of every Python file under a directory."""
    return "".join(p.read_text() for p in sorted(root.rglob("*.py")))


def run(app: Flask, *args: str, code: int = 0) -> Result:
    """Run ``flask db <args>``, check its exit code, that it shows no
    traceback unless asked and no password.
    """
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == code, result.output

    if "-v" not in args:
        assert "Traceback" not in result.output

    assert_hidden(result.output)
    return result


def api(app: Flask) -> Alembic:
    return t.cast(Alembic, app.extensions["alembic"])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Log records of INFO and above."""
    caplog.set_level(logging.INFO)
    return caplog


@with_password
def test_password_works(secret_url: sa.URL) -> None:
    """The test's URL really connects with the password, and not without it,
    so the other tests exercise a password the database checked.
    """
    engine = sa.create_engine(secret_url)

    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


@with_password
def test_successful_run(
    make_app: AppFactory,
    make_url: cabc.Callable[..., str],
    secret_url: sa.URL,
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
) -> None:
    """Revision, upgrade, current, status and verify on a bind whose URL has
    the password show its URL masked, in output and in the log.
    """
    metadata = sa.MetaData()
    sa.Table("item", metadata, sa.Column("id", sa.Integer, primary_key=True))

    def app() -> Flask:
        return make_app(
            {"default": full(secret_url), "auth": make_url(on="sqlite")},
            {"default": metadata, "auth": sa.MetaData()},
            config={"binds": {"auth": {}}},
        )[0]

    run(app(), "revision", "create items")
    result = run(app(), "upgrade")
    line = f"INFO  [flask_alembic.runner] Bind 'default' ({masked(secret_url)})"
    assert line in result.stderr.splitlines()
    assert f"Bind 'default' ({masked(secret_url)})" in logs.text
    assert "item" in table_names(full(secret_url))
    run(app(), "current")
    run(app(), "status")
    run(app(), "check")
    assert run(app(), "verify").stdout == "No problems found.\n"

    engine = sa.create_engine(secret_url)

    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('dead')"))
    finally:
        engine.dispose()

    out = run(app(), "verify", code=1).stdout
    assert f"bind 'default' ({masked(secret_url)}) is at revision 'dead'" in out
    assert_hidden(logs.text, files_text(tmp_path))


@with_password
def test_unreachable_host(
    make_app: AppFactory, secret_url: sa.URL, logs: pytest.LogCaptureFixture
) -> None:
    """A server that cannot be reached is named by its masked URL."""
    url = secret_url.set(port=1)
    app = make_app({"default": full(url)}, sa.MetaData())[0]
    result = run(app, "upgrade", code=1)
    assert result.stderr.startswith(
        f"Error: Could not use database 'default' ({masked(url)}): "
    )
    assert run(app, "verify", code=1).stdout.startswith(
        f"Could not use database 'default' ({masked(url)}): "
    )
    run(app, "upgrade", "-v", code=1)

    with app.app_context(), pytest.raises(DatabaseError) as info:
        api(app).upgrade()

    assert info.value.url == masked(url)
    assert_hidden(str(info.value), logs.text)


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_wrong_password(
    make_app: AppFactory, secret_url: sa.URL, logs: pytest.LogCaptureFixture
) -> None:
    """A password the server refuses is not shown either."""
    url = secret_url.set(password=f"x{PASSWORD}")
    app = make_app({"default": full(url)}, sa.MetaData())[0]
    result = run(app, "upgrade", code=1)
    assert result.stderr.startswith(
        f"Error: Could not use database 'default' ({masked(url)}): "
    )
    assert "Access denied" in result.stderr
    run(app, "upgrade", "-v", code=1)
    run(app, "verify", code=1)

    with app.app_context(), pytest.raises(DatabaseError) as info:
        api(app).upgrade()

    assert_hidden(str(info.value), logs.text)


@with_password
def test_failing_revision(
    make_app: AppFactory,
    secret_url: sa.URL,
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
) -> None:
    """A revision whose exception repeats the URL with its password, and the
    password alone, is reported with both masked, with and without ``-v``.
    """
    revision_file(
        tmp_path,
        "migrations/0001_leaky.py",
        "0001",
        upgrade="url = op.get_bind().engine.url\n"
        "raise RuntimeError(\n"
        "    f'cannot use {url.render_as_string(hide_password=False)} or {url}'\n"
        "    f' with {url.password}'\n"
        ")",
        doc="leaky",
    )
    app = make_app({"default": full(secret_url)}, sa.MetaData())[0]
    result = run(app, "upgrade", code=1)
    assert (
        f"  RuntimeError: cannot use {masked(secret_url)} or {masked(secret_url)}"
        " with ***"
    ) in result.stderr.splitlines()
    verbose = run(app, "upgrade", "-v", code=1)
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "with ***" in verbose.stderr

    with app.app_context(), pytest.raises(MigrationError) as info:
        api(app).upgrade()

    assert info.value.url == masked(secret_url)
    assert_hidden(str(info.value), info.value.reason, logs.text)
    assert version_rows(full(secret_url)) == []


@with_password
def test_target_error(
    make_app: AppFactory, secret_url: sa.URL, logs: pytest.LogCaptureFixture
) -> None:
    """Two binds on one database and version table are refused naming the
    database by its masked URL.
    """
    app = make_app(
        {"default": full(secret_url), "auth": full(secret_url)},
        {"default": sa.MetaData(), "auth": sa.MetaData()},
        config={"binds": {"auth": {}}},
    )[0]
    result = run(app, "upgrade", code=1)
    assert masked(secret_url) in result.stderr
    assert "'auth'" in result.stderr
    run(app, "verify", code=1)

    with app.app_context(), pytest.raises(TargetError) as info:
        api(app).upgrade()

    assert_hidden(str(info.value), logs.text)


#: Messages that would break a naive template: quotes closing the
#: docstring, backslashes, newlines, code and template syntax.
HOSTILE = [
    'evil """ \\ end\\n\nimport os; os.system("touch {pwned}")\n\'\'\' """"',
    "ends with a backslash \\",
    '"starts with a quote',
    "${__import__('os').system('touch {pwned}')} <% x = 1 %> %(name)s {name}",
    "tab\there\nnext line \\x00 \\N{BULLET}",
]


@only_sqlite
@pytest.mark.parametrize("message", HOSTILE)
def test_hostile_message(
    make_app: AppFactory, url: str, tmp_path: Path, message: str
) -> None:
    """A message with quotes, backslashes, newlines and code makes a file
    that parses, whose docstring starts with the message exactly.
    """
    message = message.replace("{pwned}", str(tmp_path / "PWNED"))
    app = make_app({"default": url}, sa.MetaData())[0]
    run(app, "revision", message, "--empty")
    (file,) = (tmp_path / "migrations").glob("*.py")
    tree = ast.parse(file.read_text())
    doc = ast.get_docstring(tree, clean=False)
    assert doc is not None
    assert doc.split("\n\nRevision ID: ")[0] == message
    # Only the docstring and the usual statements: no call at module level.
    assert not [
        node
        for node in tree.body
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant)
    ]
    assert not (tmp_path / "PWNED").exists()


def test_hostile_message_upgrade(
    make_app: AppFactory, url: str, tmp_path: Path
) -> None:
    """Upgrading runs the revision's migration and nothing from its
    message.
    """
    pwned = tmp_path / "PWNED"
    message = HOSTILE[0].replace("{pwned}", str(pwned))
    metadata = sa.MetaData()
    sa.Table("item", metadata, sa.Column("id", sa.Integer, primary_key=True))
    app = make_app({"default": url}, metadata)[0]
    run(app, "revision", message)
    result = run(make_app({"default": url}, metadata)[0], "upgrade")
    (file,) = (tmp_path / "migrations").glob("*.py")
    ident = file.name.split("_")[0]
    assert version_rows(url) == [ident]
    assert table_names(url) == ["alembic_version", "item"]
    assert not pwned.exists()
    assert "os.system" in result.stderr


def snapshot(root: Path) -> set[Path]:
    """Every file and directory under a directory, and beside it."""
    return set(root.rglob("*")) | set(root.parent.iterdir())


@only_sqlite
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--path", "other"],
            "Error: The path 'other' is not a version location, so a revision"
            " there would never run. Use one of: migrations; or declare the"
            " directory as a branch's path in ALEMBIC['branches'].",
        ),
        (
            ["--path", "../outside"],
            "Error: The path '../outside' is not a version location, so a"
            " revision there would never run. Use one of: migrations; or declare"
            " the directory as a branch's path in ALEMBIC['branches'].",
        ),
        (
            ["-l", "a@b"],
            "Error: The label 'a@b' is not allowed: use letters, digits, '_', '.'"
            " and '-' only, starting with a letter, digit or '_'.",
        ),
        (
            ["-l", "../../x"],
            "Error: The label '../../x' is not allowed: use letters, digits, '_',"
            " '.' and '-' only, starting with a letter, digit or '_'.",
        ),
        (
            ["--branch", "../evil"],
            "Error: The branch name '../evil' is not allowed: use letters, digits,"
            " '_', '.' and '-' only, starting with a letter, digit or '_'.",
        ),
    ],
    ids=["path", "path-outside", "label", "label-dots", "branch"],
)
def test_hostile_revision_options(
    make_app: AppFactory, url: str, tmp_path: Path, args: list[str], error: str
) -> None:
    """A path outside the version locations, or a label or branch name that
    is not a plain name, is refused with one line, and nothing is written.
    """
    app = make_app({"default": url}, sa.MetaData())[0]
    run(app, "mkdir")
    before = snapshot(tmp_path)
    result = run(app, "revision", "hello", "--empty", *args, code=1)
    assert result.stderr.splitlines() == [error]
    assert snapshot(tmp_path) == before


@only_sqlite
def test_hostile_rev_id(
    make_app: AppFactory, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``rev_id()`` that returns a path is refused, and nothing is
    written.
    """
    app, alembic = make_app({"default": url}, sa.MetaData())
    monkeypatch.setattr(alembic, "rev_id", lambda: "../../x")
    run(app, "mkdir")
    before = snapshot(tmp_path)
    result = run(app, "revision", "hello", "--empty", code=1)
    assert result.stderr.splitlines() == [
        "Error: The revision id '../../x' from rev_id() is not allowed: use"
        " letters, digits, '_', '.' and '-' only, starting with a letter, digit"
        " or '_'."
    ]
    assert snapshot(tmp_path) == before
