"""The Python API of the :class:`Alembic` extension against a database, on
every backend and with engines from every integration.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations import MigrationScript
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from alembic.util import CommandError
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import NotUpToDateError
from flask_alembic import UnknownRevisionError

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: The revision ids of the history ``write_history`` writes, oldest first.
HISTORY = ["a1", "b2", "c3"]
#: The table each revision of the history creates.
TABLES = {"a1": "ta", "b2": "tb", "c3": "tc"}


def write_revision(
    directory: Path, rev: str, down: str | None, table: str, *, kwarg: bool = False
) -> None:
    """Write a revision file that creates a table, as a user would have
    generated it. With ``kwarg``, the table name is passed to ``upgrade``.
    """
    upgrade_args = "table" if kwarg else ""
    name = "table" if kwarg else repr(table)
    (directory / f"{rev}_create_{table}.py").write_text(
        f'"""create {table}"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade({upgrade_args}):\n"
        f"    op.create_table({name}, sa.Column('id', sa.Integer, primary_key=True))\n"
        "\n\n"
        "def downgrade():\n"
        f"    op.drop_table({table!r})\n"
    )


def write_history(root: Path, ids: list[str] = HISTORY) -> list[str]:
    """Write a linear history in the app's migrations folder, each revision
    creating one table named after it.
    """
    down = None

    for rev in ids:
        write_revision(root / "migrations", rev, down, TABLES.get(rev, f"t{rev}"))
        down = rev

    return ids


@pytest.fixture
def history(alembic: Alembic, tmp_path: Path) -> list[str]:
    """The ids of a three-revision linear history, not yet applied."""
    return write_history(tmp_path)


def ids(revs: t.Iterable[Script | None]) -> list[str]:
    """The ids of revisions, in order."""
    return [r.revision for r in revs if r is not None]


def user_table(metadata: sa.MetaData) -> sa.Table:
    """Add a model table to the metadata."""
    return sa.Table("user", metadata, sa.Column("id", sa.Integer, primary_key=True))


def described(diffs: list[t.Any]) -> list[tuple[str, str]]:
    """Autogenerate's differences as (kind, table name) pairs, sorted. Tables
    do not compare equal with ``==``, so they are named instead.
    """
    return sorted((diff[0], diff[1].name) for diff in diffs)


def read(revs: list[Script | None]) -> str:
    """The source of the single revision revision() returned."""
    (rev,) = revs
    assert rev is not None
    return Path(rev.path).read_text()


# Properties that connect


def test_migration_contexts(alembic: Alembic, metadata: sa.MetaData, url: str) -> None:
    """There is one migration context, 'default', connected to the database."""
    contexts = alembic.migration_contexts
    assert list(contexts) == ["default"]
    context = contexts["default"]
    assert isinstance(context, MigrationContext)
    assert context.connection is not None
    assert not context.connection.closed
    assert context.connection.engine.url.database == sa.make_url(url).database
    assert context.opts["target_metadata"] is metadata
    assert context.opts["compare_server_default"] is True
    assert alembic.migration_contexts is contexts
    assert alembic.migration_context is context
    assert alembic.context is context


def test_context_options_from_config(
    make_app: AppFactory, url: str, metadata: sa.MetaData
) -> None:
    """ALEMBIC_CONTEXT options are passed to the migration context."""
    app, alembic = make_app(
        {"default": url}, metadata, context={"version_table": "my_versions"}
    )

    with app.app_context():
        assert alembic.migration_context.version_table == "my_versions"
        user_table(metadata)
        alembic.revision("init")
        alembic.upgrade()

    assert version_rows(url) == []
    assert len(version_rows(url, "my_versions")) == 1


def test_ops(alembic: Alembic, url: str) -> None:
    """ops has an Operations per database; op is the default one and runs DDL."""
    ops = alembic.ops
    assert list(ops) == ["default"]
    assert isinstance(ops["default"], Operations)
    assert alembic.op is ops["default"]
    assert alembic.op.migration_context is alembic.migration_context
    alembic.op.create_table("made_by_op", sa.Column("id", sa.Integer))
    connection = alembic.migration_context.connection
    assert connection is not None
    connection.commit()
    assert table_names(url) == ["made_by_op"]


def test_connections_closed_when_app_context_ends(app: Flask) -> None:
    """The connections the contexts opened are returned when the app context ends."""
    alembic = t.cast(Alembic, app.extensions["alembic"])

    with app.app_context():
        context = alembic.migration_context
        connection = context.connection
        assert connection is not None
        engine = connection.engine
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]

    assert connection.closed
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

    with app.app_context():
        assert alembic.migration_context is not context
        assert alembic.current() == ()

    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_connections_closed_after_error(app: Flask) -> None:
    """An exception in the app context still returns the connections."""
    alembic = t.cast(Alembic, app.extensions["alembic"])

    with pytest.raises(ZeroDivisionError):
        with app.app_context():
            connection = alembic.migration_context.connection
            assert connection is not None
            engine = connection.engine
            1 / 0  # noqa: B018

    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


# run_migrations


def test_run_migrations(alembic: Alembic, tmp_path: Path, url: str) -> None:
    """run_migrations calls fn with the heads and context and passes kwargs on."""
    write_revision(tmp_path / "migrations", "k1", None, "unused", kwarg=True)
    script = alembic.script_directory
    calls: list[tuple[t.Any, MigrationContext]] = []

    def fn(heads: t.Any, context: MigrationContext) -> list[t.Any]:
        calls.append((heads, context))
        return list(script._upgrade_revs("heads", heads))

    alembic.run_migrations(fn, table="from_kwargs")
    assert calls == [((), alembic.migration_context)]
    assert table_names(url) == ["alembic_version", "from_kwargs"]
    assert version_rows(url) == ["k1"]


# current, needs_upgrade, pending, current_by_database


def test_current(alembic: Alembic, history: list[str]) -> None:
    """current is the revisions the database is at, as Script objects."""
    assert alembic.current() == ()
    alembic.upgrade("b2")
    current = alembic.current()
    assert all(isinstance(r, Script) for r in current)
    assert ids(current) == ["b2"]


def test_current_by_database(alembic: Alembic, history: list[str]) -> None:
    """current_by_database maps the database name to its revisions."""
    assert alembic.current_by_database() == {"default": ()}
    alembic.upgrade("a1")
    by_name = alembic.current_by_database()
    assert list(by_name) == ["default"]
    assert ids(by_name["default"]) == ["a1"]


def test_needs_upgrade_without_revisions(alembic: Alembic) -> None:
    """With no revisions at all, nothing needs upgrading."""
    assert alembic.needs_upgrade() is False


def test_needs_upgrade(alembic: Alembic, history: list[str]) -> None:
    """needs_upgrade is true while the database is not at every head."""
    assert alembic.needs_upgrade() is True
    alembic.upgrade()
    assert alembic.needs_upgrade() is False
    alembic.downgrade()
    assert alembic.needs_upgrade() is True


def test_needs_upgrade_with_dependency(alembic: Alembic, url: str) -> None:
    """A database upgraded past a dependency between branches is up to date,
    although the version table records only the dependent head.
    """
    base = alembic.revision("a", empty=True, branch="a")[0]
    dependent = alembic.revision("b", empty=True, branch="b", depend=base)[0]
    assert base is not None and dependent is not None
    assert alembic.needs_upgrade() is True
    alembic.upgrade()
    assert version_rows(url) == [dependent.revision]
    assert len(alembic.heads()) == 2
    assert alembic.needs_upgrade() is False


def test_pending(alembic: Alembic, history: list[str]) -> None:
    """pending lists the revisions still to apply, oldest first."""
    assert alembic.pending() == {"default": ["a1", "b2", "c3"]}
    alembic.upgrade("a1")
    assert alembic.pending() == {"default": ["b2", "c3"]}
    alembic.upgrade()
    assert alembic.pending() == {"default": []}


# upgrade, downgrade, stamp


def test_upgrade_to_heads(alembic: Alembic, history: list[str], url: str) -> None:
    """upgrade() runs every revision and records the head."""
    alembic.upgrade()
    assert table_names(url) == ["alembic_version", "ta", "tb", "tc"]
    assert version_rows(url) == ["c3"]


def test_upgrade_to_revision(alembic: Alembic, history: list[str], url: str) -> None:
    """upgrade to a revision id, or a Script, stops there."""
    alembic.upgrade("b2")
    assert table_names(url) == ["alembic_version", "ta", "tb"]
    assert version_rows(url) == ["b2"]
    alembic.upgrade(alembic.script_directory.get_revision("c3"))
    assert version_rows(url) == ["c3"]


def test_upgrade_relative(alembic: Alembic, history: list[str], url: str) -> None:
    """'+1', the int 1 and the string '1' each go up one revision."""
    alembic.upgrade("+1")
    assert version_rows(url) == ["a1"]
    alembic.upgrade(1)
    assert version_rows(url) == ["b2"]
    alembic.upgrade("1")
    assert version_rows(url) == ["c3"]
    assert table_names(url) == ["alembic_version", "ta", "tb", "tc"]


def test_upgrade_numeric_revision_id(
    alembic: Alembic, tmp_path: Path, url: str
) -> None:
    """A number that is a revision id names the revision, not a count of steps."""
    write_history(tmp_path, ["10", "20", "30"])
    alembic.upgrade("20")
    assert version_rows(url) == ["20"]
    alembic.downgrade("10")
    assert version_rows(url) == ["10"]
    alembic.upgrade("2")
    assert version_rows(url) == ["30"]


def test_downgrade_one_step_by_default(
    alembic: Alembic, history: list[str], url: str
) -> None:
    """downgrade() undoes the last revision."""
    alembic.upgrade()
    alembic.downgrade()
    assert version_rows(url) == ["b2"]
    assert table_names(url) == ["alembic_version", "ta", "tb"]


def test_downgrade_to_revision(alembic: Alembic, history: list[str], url: str) -> None:
    """downgrade to an id stops at it; to 'base' undoes everything."""
    alembic.upgrade()
    alembic.downgrade("a1")
    assert version_rows(url) == ["a1"]
    assert table_names(url) == ["alembic_version", "ta"]
    alembic.downgrade("base")
    assert version_rows(url) == []
    assert table_names(url) == ["alembic_version"]


def test_downgrade_relative(alembic: Alembic, history: list[str], url: str) -> None:
    """2, -2, '1' and '-1' each go down that many revisions."""
    alembic.upgrade()
    alembic.downgrade(2)
    assert version_rows(url) == ["a1"]
    alembic.upgrade()
    alembic.downgrade("1")
    assert version_rows(url) == ["b2"]
    alembic.downgrade("-1")
    assert version_rows(url) == ["a1"]
    alembic.upgrade()
    alembic.downgrade(-2)
    assert version_rows(url) == ["a1"]


def test_stamp(alembic: Alembic, history: list[str], url: str) -> None:
    """stamp records revisions without running them."""
    alembic.stamp()
    assert version_rows(url) == ["c3"]
    assert table_names(url) == ["alembic_version"]
    alembic.stamp("a1")
    assert version_rows(url) == ["a1"]
    alembic.stamp(alembic.script_directory.get_revision("b2"))
    assert version_rows(url) == ["b2"]
    alembic.stamp("base")
    assert version_rows(url) == []


def test_unknown_revision(alembic: Alembic, history: list[str]) -> None:
    """An unknown target raises UnknownRevisionError suggesting close ids."""
    with pytest.raises(UnknownRevisionError, match="'b2x'") as info:
        alembic.upgrade("b2x")

    assert info.value.possibilities == ["b2"]
    assert isinstance(info.value, CommandError)

    with pytest.raises(UnknownRevisionError):
        alembic.stamp("nope")

    with pytest.raises(UnknownRevisionError):
        alembic.downgrade("nope")


def test_current_unknown_to_history(alembic: Alembic, url: str) -> None:
    """A database at a revision the history lacks raises UnknownRevisionError."""
    alembic.stamp("base")
    connection = alembic.migration_context.connection
    assert connection is not None
    connection.execute(sa.text("INSERT INTO alembic_version VALUES ('gone')"))
    connection.commit()

    with pytest.raises(UnknownRevisionError, match="'gone'"):
        alembic.current()


# log with "current"


def test_log_current(alembic: Alembic, history: list[str]) -> None:
    """'current' in log means the revision the database is at."""
    alembic.upgrade("b2")
    assert ids(alembic.log("current")) == ["c3", "b2"]
    assert ids(alembic.log(end="current")) == ["b2", "a1"]


# revision with autogenerate


def test_revision_autogenerate(
    alembic: Alembic, metadata: sa.MetaData, url: str
) -> None:
    """revision() writes the operations that bring the database to the models."""
    user_table(metadata)
    revs = alembic.revision("add user")
    assert len(revs) == 1
    assert isinstance(revs[0], Script)
    source = read(revs)
    assert "op.create_table('user'" in source
    assert "op.drop_table('user')" in source
    assert "user" not in table_names(url)
    assert version_rows(url) == []
    alembic.upgrade()
    assert table_names(url) == ["alembic_version", "user"]
    assert version_rows(url) == ids(revs)


def test_revision_autogenerate_without_changes(
    alembic: Alembic, metadata: sa.MetaData
) -> None:
    """With the database matching the models, the new revision has no operations."""
    user_table(metadata)
    alembic.revision("add user")
    alembic.upgrade()
    source = read(alembic.revision("nothing"))
    assert "op." not in source.split("def upgrade")[1]


def test_revision_autogenerate_requires_up_to_date(
    alembic: Alembic, history: list[str], tmp_path: Path
) -> None:
    """Autogenerating against a database that is behind raises and writes nothing."""
    before = sorted((tmp_path / "migrations").glob("*.py"))

    with pytest.raises(NotUpToDateError) as info:
        alembic.revision("too early")

    assert info.value.pending == history
    assert sorted((tmp_path / "migrations").glob("*.py")) == before


# produce_migrations, compare_metadata, needs_revision, diffs


def test_produce_migrations(alembic: Alembic, metadata: sa.MetaData) -> None:
    """produce_migrations describes the operations of a would-be revision."""
    user_table(metadata)
    script = alembic.produce_migrations()
    assert isinstance(script, MigrationScript)
    assert script.upgrade_ops is not None
    assert described(script.upgrade_ops.as_diffs()) == [("add_table", "user")]


def test_compare_metadata(alembic: Alembic, metadata: sa.MetaData) -> None:
    """compare_metadata lists the differences; none once the revision is applied."""
    assert alembic.compare_metadata() == []
    user_table(metadata)
    assert described(alembic.compare_metadata()) == [("add_table", "user")]
    alembic.revision("add user")
    alembic.upgrade()
    assert alembic.compare_metadata() == []


def test_needs_revision(alembic: Alembic, metadata: sa.MetaData) -> None:
    """needs_revision is true while the models differ from the database."""
    assert alembic.needs_revision() is False
    user_table(metadata)
    assert alembic.needs_revision() is True
    alembic.revision("add user")
    alembic.upgrade()
    assert alembic.needs_revision() is False


def test_diffs(alembic: Alembic, metadata: sa.MetaData) -> None:
    """diffs maps the database name to its differences."""
    assert alembic.diffs() == {"default": []}
    user_table(metadata)
    diffs = alembic.diffs()
    assert list(diffs) == ["default"]
    assert described(diffs["default"]) == [("add_table", "user")]


def test_several_metadata_for_one_database(
    make_app: AppFactory, url: str, tmp_path: Path
) -> None:
    """A list of metadata describes one database; every table is compared."""
    first, second = sa.MetaData(), sa.MetaData()
    sa.Table("one", first, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("two", second, sa.Column("id", sa.Integer, primary_key=True))
    app, alembic = make_app({"default": url}, [first, second])

    with app.app_context():
        assert list(alembic.migration_contexts) == ["default"]
        assert described(alembic.diffs()["default"]) == [
            ("add_table", "one"),
            ("add_table", "two"),
        ]
        alembic.revision("both")
        alembic.upgrade()

    assert table_names(url) == ["alembic_version", "one", "two"]
