"""Autogenerate asks the database fewer questions than Alembic alone would
(``_alembic.quick_reflection``) and pauses the garbage collector
(``_gc.sparing``), with the same answers.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import typing as t

import pytest
import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.runtime.migration import MigrationContext

from flask_alembic import _alembic
from flask_alembic import _gc
from flask_alembic import Alembic

from .conftest import AppFactory

#: The schema the database has; the models below differ from it.
POSTGRESQL_SCHEMA = [
    "CREATE SCHEMA other",
    # serial and bigserial keys: their sequences are owned by the key.
    "CREATE TABLE a (id serial PRIMARY KEY, name varchar(20))",
    "CREATE TABLE b (id bigserial PRIMARY KEY)",
    # A default from a sequence another column owns: kept.
    "CREATE TABLE c (id serial PRIMARY KEY,"
    " borrowed integer DEFAULT nextval('a_id_seq'))",
    # A sequence nobody owns: kept, and asked about as Alembic would.
    "CREATE SEQUENCE free_seq",
    "CREATE TABLE d (n integer DEFAULT nextval('free_seq'))",
    # A name that prints quoted; one that prints with a schema.
    'CREATE TABLE "Odd" ("Key" serial PRIMARY KEY)',
    "CREATE SEQUENCE other.seq",
    "CREATE TABLE e (n integer DEFAULT nextval('other.seq'))",
    # Not an integer: Alembic leaves these alone whoever owns the sequence.
    "CREATE TABLE f (n numeric DEFAULT nextval('free_seq'))",
    # Only in the database: dropped by the revision, rendered with defaults.
    "CREATE TABLE gone (id serial PRIMARY KEY, m integer DEFAULT nextval('free_seq'))",
]

SQLITE_SCHEMA = [
    "CREATE TABLE a (id INTEGER PRIMARY KEY, code VARCHAR(20) UNIQUE,"
    " n INTEGER CHECK (n > 0), CONSTRAINT uq_a UNIQUE (id, n))",
    "CREATE INDEX ix_a_n ON a (n)",
    "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER,"
    " CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES a (id),"
    " CONSTRAINT ck_b_id CHECK (id < 1000))",
    "CREATE INDEX ix_b_a ON b (a_id, id)",
    "CREATE TABLE gone (id INTEGER PRIMARY KEY, x TEXT UNIQUE)",
    "CREATE INDEX ix_gone_x ON gone (x)",
]


def models(backend: str) -> sa.MetaData:
    """Models that differ from the schema in tables, columns and indexes."""
    metadata = sa.MetaData()

    if backend == "postgresql":
        sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True))
        sa.Table("b", metadata, sa.Column("id", sa.BigInteger, primary_key=True))
        sa.Table(
            "c",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("borrowed", sa.Integer),
        )
        sa.Table("d", metadata, sa.Column("n", sa.Integer))
        sa.Table("Odd", metadata, sa.Column("Key", sa.Integer, primary_key=True))
        sa.Table("e", metadata, sa.Column("n", sa.Integer), sa.Column("new", sa.Text))
        sa.Table("f", metadata, sa.Column("n", sa.Numeric))
    else:
        sa.Table(
            "a",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(20)),
            sa.Column("n", sa.Integer, index=True),
            sa.UniqueConstraint("code", name="uq_a_code"),
        )
        sa.Table(
            "b",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a_id", sa.Integer, sa.ForeignKey("a.id", name="fk_b_a")),
            sa.Column("new", sa.Integer),
            sa.UniqueConstraint("new", name="uq_b_new"),
        )

    sa.Table("added", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return metadata


@contextlib.contextmanager
def statements() -> t.Iterator[collections.Counter[str]]:
    """Count the statements, with their parameters, run on any engine during
    the block.
    """
    counts: collections.Counter[str] = collections.Counter()

    def count(*args: t.Any) -> None:
        counts[f"{args[2]} {args[3]!r}"] += 1

    sa.event.listen(sa.Engine, "before_cursor_execute", count)

    try:
        yield counts
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)


@pytest.fixture
def compared(backend: str, make_app: AppFactory, url: str) -> t.Iterator[Alembic]:
    engine = sa.create_engine(url)

    with engine.begin() as connection:
        for sql in POSTGRESQL_SCHEMA if backend == "postgresql" else SQLITE_SCHEMA:
            connection.exec_driver_sql(sql)

    engine.dispose()
    app, alembic = make_app(
        {"default": url},
        models(backend),
        config={"context": {"compare_server_default": True}},
    )

    with app.app_context():
        yield alembic


def render(alembic: Alembic) -> str:
    script = alembic.produce_migrations()
    assert script.upgrade_ops is not None and script.downgrade_ops is not None
    return "\n".join(
        render_python_code(ops) for ops in (script.upgrade_ops, script.downgrade_ops)
    )


@contextlib.contextmanager
def plain_alembic(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    """Compare as Alembic alone does."""

    @contextlib.contextmanager
    def nothing(context: MigrationContext) -> t.Iterator[None]:
        yield

    with monkeypatch.context() as patch:
        patch.setattr(_alembic, "quick_reflection", nothing)
        yield


@pytest.mark.parametrize("integration", ["sqlalchemy"])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_revision_fewer_queries(
    backend: str,
    compared: Alembic,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The rendered revision and Alembic's log lines are the same as with
    Alembic's own reflection; the queries are fewer, and none is repeated.
    """
    alembic = compared
    caplog.set_level(logging.INFO, "alembic")

    with plain_alembic(monkeypatch), statements() as before:
        expected = render(alembic)

    def detected() -> list[str]:
        return [r.getMessage() for r in caplog.records if "Detected" in r.getMessage()]

    logged = detected()
    caplog.clear()

    with statements() as after:
        assert render(alembic) == expected

    assert detected() == logged
    assert "drop_table('gone')" in expected
    assert "create_table('added'" in expected

    if backend == "postgresql":
        owner_queries = [s for s in before if "pg_depend" in s]
        assert sum(before[s] for s in owner_queries) == 9
        # One for every owned sequence; Alembic's own for each column whose
        # sequence nobody owns: d.n, gone.m (free_seq) and e.n (other.seq).
        assert sum(after[s] for s in after if "pg_depend" in s) == 4
        # Serial keys lose their default; borrowed ones keep theirs.
        assert "nextval('a_id_seq'::regclass)" in expected
        assert "nextval('free_seq'::regclass)" in expected
        assert "nextval('other.seq'::regclass)" in expected
        assert "Odd_Key_seq" not in expected
        assert sorted(m for m in logged if "SERIAL" in m) == [
            "Detected sequence named 'Odd_Key_seq' as owned by integer column"
            " 'Odd(Key)', assuming SERIAL and omitting",
            "Detected sequence named 'a_id_seq' as owned by integer column"
            " 'a(id)', assuming SERIAL and omitting",
            "Detected sequence named 'b_id_seq' as owned by integer column"
            " 'b(id)', assuming SERIAL and omitting",
            "Detected sequence named 'c_id_seq' as owned by integer column"
            " 'c(id)', assuming SERIAL and omitting",
            "Detected sequence named 'gone_id_seq' as owned by integer column"
            " 'gone(id)', assuming SERIAL and omitting",
        ]
    else:
        assert max(before.values()) > 1
        assert max(after.values()) == 1
        assert sum(after.values()) < sum(before.values())


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_answers_kept_for_one_connection_and_block(url: str) -> None:
    """Inside the block the comparison's connection gets the answers it got
    first; other connections, and everyone after the block, read afresh,
    also when the block fails.
    """
    engine = sa.create_engine(url)

    def columns(connection: sa.Connection) -> list[str]:
        return [c["name"] for c in sa.inspect(connection).get_columns("t")]

    with engine.connect() as ours, engine.connect() as other:
        ours.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        ours.commit()
        context = MigrationContext.configure(ours)

        with pytest.raises(ZeroDivisionError):
            with _alembic.quick_reflection(context):
                assert columns(ours) == ["a"]
                other.exec_driver_sql("ALTER TABLE t ADD COLUMN b INTEGER")
                other.commit()
                assert columns(other) == ["a", "b"]
                assert columns(ours) == ["a"]
                1 / 0  # noqa: B018

        assert "_get_table_pragma" not in vars(engine.dialect)
        assert "_get_table_sql" not in vars(engine.dialect)
        assert columns(ours) == ["a", "b"]

    engine.dispose()


class Node:
    """An object in a reference cycle."""

    other: Node


def cycles(count: int) -> list[Node]:
    nodes = []

    for _ in range(count):
        a, b = Node(), Node()
        a.other, b.other = b, a
        nodes.append(a)

    return nodes


@pytest.fixture
def collector() -> t.Iterator[None]:
    enabled = gc.isenabled()
    gc.enable()

    try:
        yield
    finally:
        gc.unfreeze()

        if not enabled:
            gc.disable()


@pytest.mark.usefixtures("collector")
def test_collector_paused_then_not_walking_the_block() -> None:
    """The collector is off in the block and on after it; what the block
    made is not in the youngest generation, so the next collection does not
    walk it, and its garbage is still collected by a full collection.
    """
    with _gc.sparing():
        assert not gc.isenabled()
        kept = cycles(20_000)
        cycles(1_000)  # garbage

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(node) in young for node in kept)
    assert gc.collect() >= 2_000


@pytest.mark.usefixtures("collector")
def test_collector_keeps_the_apps_frozen_objects() -> None:
    """Objects the app froze (as before forking workers) stay frozen."""
    gc.freeze()
    frozen = gc.get_freeze_count()

    with _gc.sparing():
        cycles(100)

    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_collector_left_off_if_it_was_off() -> None:
    """An app that turned the collector off keeps it off."""
    enabled = gc.isenabled()
    gc.disable()

    try:
        with _gc.sparing():
            pass

        assert not gc.isenabled()
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize("integration", ["sqlalchemy"])
@pytest.mark.parametrize("backend", ["postgresql"])
def test_owners_asked_again_by_the_next_comparison(
    compared: Alembic, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A second comparison in the same app context sees a sequence's new
    owner; between comparisons Alembic's own hook is back in place.
    """
    caplog.set_level(logging.INFO, "alembic.ddl.postgresql")
    render(compared)
    assert "'c(borrowed)'" not in caplog.text
    context = compared.migration_contexts["default"]
    assert "autogen_column_reflect" not in vars(context.impl)
    engine = sa.create_engine(url)

    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER SEQUENCE a_id_seq OWNED BY c.borrowed")

    engine.dispose()
    caplog.clear()
    render(compared)
    assert (
        "Detected sequence named 'a_id_seq' as owned by integer column"
        " 'c(borrowed)', assuming SERIAL and omitting"
    ) in caplog.messages


@pytest.mark.usefixtures("collector")
def test_history_read_with_collector_paused() -> None:
    """The revision map reads and links the revisions with the collector
    paused, and it runs again once the map is built.
    """
    from alembic.script.revision import Revision

    enabled_while_reading = []

    def read() -> list[Revision]:
        enabled_while_reading.append(gc.isenabled())
        return [Revision("a", None), Revision("b", "a")]

    revision_map = _alembic._CheckedRevisionMap(read)
    assert revision_map.heads == ("b",)
    assert enabled_while_reading == [False]
    assert gc.isenabled()
