"""Fixtures shared by every test.

Database tests run on SQLite, PostgreSQL and MariaDB. Each test gets fresh
databases of its own, dropped afterwards. The server URLs come from
``FLASK_ALEMBIC_TEST_POSTGRESQL_URL`` and ``FLASK_ALEMBIC_TEST_MARIADB_URL``.
When a variable is unset, the local default server is tried and the tests
skip with a reason if it is not there; when a variable is set, an unreachable
server fails the tests, so CI always exercises the real thing.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from flask_alembic import Alembic
from flask_alembic import headers

BACKENDS = ("sqlite", "postgresql", "mariadb")
INTEGRATIONS = ("flask_sqlalchemy", "flask_sqlalchemy_lite", "sqlalchemy")

_SERVER_DEFAULTS = {
    "postgresql": "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/mysql",
}
_server_checked: dict[str, str | None] = {}


@pytest.fixture(autouse=True)
def _cache_young_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the header cache keep files changed 50 ms ago instead of 2 s, so
    the commands of every test, which usually write their revision files
    just before, run on cached headers too. Linux's file times are at least
    this fine; tests/test_headers.py checks the 2 s default itself.
    """
    monkeypatch.setattr(headers, "RACY_NS", 50_000_000)


def server_url(backend: str) -> sa.URL:
    """The admin URL of a database server, or skip the test if it is not
    configured and not running locally.
    """
    variable = f"FLASK_ALEMBIC_TEST_{backend.upper()}_URL"
    configured = os.environ.get(variable)
    url = sa.make_url(configured or _SERVER_DEFAULTS[backend])

    if backend not in _server_checked:
        engine = sa.create_engine(url)

        try:
            with engine.connect():
                pass
        except sa.exc.OperationalError as e:
            _server_checked[backend] = str(e.orig).strip()
        else:
            _server_checked[backend] = None
        finally:
            engine.dispose()

    problem = _server_checked[backend]

    if problem is not None:
        if configured:
            pytest.fail(f"{variable} is set but the server is unreachable: {problem}")

        pytest.skip(f"no {backend} server (set {variable}): {problem}")

    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend the test runs on."""
    return t.cast(str, request.param)


@pytest.fixture(params=INTEGRATIONS)
def integration(request: pytest.FixtureRequest) -> str:
    """Where the engines come from: Flask-SQLAlchemy, -Lite or plain."""
    return t.cast(str, request.param)


@pytest.fixture
def make_url(backend: str, tmp_path: Path) -> cabc.Iterator[cabc.Callable[..., str]]:
    """Create a fresh, empty database on a backend and return its URL. It is
    dropped when the test ends.
    """
    created: list[tuple[str, sa.URL, str]] = []

    def make(on: str | None = None) -> str:
        on = on or backend
        name = f"fa_{uuid.uuid4().hex[:12]}"

        if on == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite')}"

        admin = server_url(on)
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")

        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            engine.dispose()

        created.append((on, admin, name))
        return admin.set(database=name).render_as_string(hide_password=False)

    yield make

    for on, admin, name in created:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")

        try:
            with engine.connect() as conn:
                if on == "postgresql":
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                else:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        finally:
            engine.dispose()


@pytest.fixture
def metadata() -> sa.MetaData:
    """Empty metadata for the test's models; tests add tables to it."""
    return sa.MetaData()


AppFactory = t.Callable[..., tuple[Flask, Alembic]]


@pytest.fixture
def make_app(
    tmp_path: Path, integration: str, make_url: cabc.Callable[..., str]
) -> cabc.Iterator[AppFactory]:
    """Build an app whose engines come from the test's integration.

    ``make_app(urls, metadatas, config=..., **alembic_kwargs)``: ``urls`` maps
    database names to URLs (``"default"`` is Flask-SQLAlchemy's default);
    ``metadatas`` is what to pass to ``Alembic(metadatas=...)``. With
    Flask-SQLAlchemy and a single ``"default"`` metadata, the metadata is given
    to ``SQLAlchemy(metadata=...)`` instead, as users do. Every engine is
    disposed when the test ends.
    """
    engines: list[sa.Engine] = []
    apps: list[tuple[Flask, t.Any]] = []

    def make(
        urls: dict[str, str],
        metadatas: t.Any,
        *,
        config: dict[str, t.Any] | None = None,
        context: dict[str, t.Any] | None = None,
        root_path: Path | None = None,
        **kwargs: t.Any,
    ) -> tuple[Flask, Alembic]:
        app = Flask("test_app", root_path=str(root_path or tmp_path))

        if config is not None:
            app.config["ALEMBIC"] = config

        if context is not None:
            app.config["ALEMBIC_CONTEXT"] = context

        if integration == "flask_sqlalchemy":
            from flask_sqlalchemy import SQLAlchemy

            app.config["SQLALCHEMY_DATABASE_URI"] = urls["default"]
            app.config["SQLALCHEMY_BINDS"] = {
                k: v for k, v in urls.items() if k != "default"
            }

            if isinstance(metadatas, sa.MetaData) and len(urls) == 1:
                db = SQLAlchemy(app, metadata=metadatas)
                metadatas = None
            else:
                db = SQLAlchemy(app)

            apps.append((app, db))
        elif integration == "flask_sqlalchemy_lite":
            from flask_sqlalchemy_lite import SQLAlchemy as Lite

            app.config["SQLALCHEMY_ENGINES"] = dict(urls)
            apps.append((app, Lite(app)))
        else:
            made = {k: sa.create_engine(v) for k, v in urls.items()}
            engines.extend(made.values())
            kwargs["engines"] = made["default"] if list(made) == ["default"] else made

        alembic = Alembic(app, metadatas=metadatas, **kwargs)
        return app, alembic

    yield make

    for app, db in apps:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()

    for engine in engines:
        engine.dispose()


@pytest.fixture
def url(make_url: cabc.Callable[..., str]) -> str:
    """A fresh database on the test's backend."""
    return make_url()


@pytest.fixture
def app(make_app: AppFactory, url: str, metadata: sa.MetaData) -> Flask:
    """An app with one database, the ``default`` one."""
    return make_app({"default": url}, metadata)[0]


@pytest.fixture
def alembic(app: Flask) -> cabc.Iterator[Alembic]:
    """The app's extension, used inside an app context."""
    with app.app_context():
        yield t.cast(Alembic, app.extensions["alembic"])


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invoke the app's ``flask db`` commands."""
    return app.test_cli_runner()


def version_rows(url: str, table: str = "alembic_version") -> list[str]:
    """The revision ids recorded in a database's version table, sorted."""
    engine = sa.create_engine(url)

    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                return []

            rows = conn.execute(sa.text(f"SELECT version_num FROM {table}"))
            return sorted(row[0] for row in rows)
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    """The tables in a database, sorted."""
    engine = sa.create_engine(url)

    try:
        with engine.connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
