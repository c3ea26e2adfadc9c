"""A project made with Flask-Migrate works without moving a file: its
revisions in ``migrations/versions`` are the ``default`` branch, and its
``env.py`` and ``alembic.ini`` are reported once as unused and never run.

The project is written by :func:`write_project` as Flask-Migrate's
``flask db init`` and two ``flask db migrate`` runs would leave it, with an
``env.py`` that leaves a marker file and raises if anything executes it.
"""

from __future__ import annotations

import logging
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_alembic.config import load_settings
from flask_alembic.layout import find_layout
from flask_alembic.layout import Layout
from flask_alembic.layout import unused_message

from .conftest import AppFactory
from .conftest import table_names
from .conftest import version_rows

#: The revisions :func:`write_project` writes, oldest first.
REVISIONS = ("3f2a9c1d5e7b", "8c4e1b2a9d0f")

#: The file ``ENV_PY`` writes beside itself when it is executed.
MARKER = "ENV_PY_RAN"

#: An ``env.py`` that must never run: it leaves a marker, then fails.
ENV_PY = f"""\
import pathlib

pathlib.Path(__file__).with_name({MARKER!r}).write_text("env.py ran")
raise RuntimeError("Flask-Migrate's env.py was executed")
"""

#: The ``alembic.ini`` Flask-Migrate's ``flask`` template writes, in short.
ALEMBIC_INI = """\
# A generic, single database configuration.

[alembic]
# template used to generate migration files
# file_template = %%(rev)s_%%(slug)s

# set to 'true' to run the environment during
# the 'revision' command, regardless of autogenerate
# revision_environment = false

[loggers]
keys = root,sqlalchemy,alembic,flask_migrate

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[logger_flask_migrate]
level = INFO
handlers =
qualname = flask_migrate

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

#: The ``script.py.mako`` of Flask-Migrate's ``flask`` template.
SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''

_REVISION = '''\
"""{message}

Revision ID: {revision}
Revises: {down}
Create Date: 2024-03-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

_UPGRADES = {
    REVISIONS[0]: (
        "create users",
        "    op.create_table('user',\n"
        "    sa.Column('id', sa.Integer(), nullable=False),\n"
        "    sa.Column('name', sa.String(length=128), nullable=True),\n"
        "    sa.PrimaryKeyConstraint('id')\n"
        "    )",
        "    op.drop_table('user')",
    ),
    REVISIONS[1]: (
        "create posts",
        "    op.create_table('post',\n"
        "    sa.Column('id', sa.Integer(), nullable=False),\n"
        "    sa.Column('title', sa.String(length=200), nullable=True),\n"
        "    sa.PrimaryKeyConstraint('id')\n"
        "    )",
        "    op.drop_table('post')",
    ),
}


def write_project(root: Path, env_py: str = ENV_PY) -> Path:
    """Write ``migrations`` as Flask-Migrate's ``flask db init`` and two
    ``flask db migrate`` runs leave it, and return the ``versions``
    directory.
    """
    migrations = root / "migrations"
    versions = migrations / "versions"
    versions.mkdir(parents=True)
    (migrations / "README").write_text("Single-database configuration for Flask.\n")
    (migrations / "alembic.ini").write_text(ALEMBIC_INI)
    (migrations / "env.py").write_text(env_py)
    (migrations / "script.py.mako").write_text(SCRIPT_MAKO)
    down = None

    for revision, (message, upgrade, downgrade) in _UPGRADES.items():
        slug = message.replace(" ", "_")
        (versions / f"{revision}_{slug}.py").write_text(
            _REVISION.format(
                message=message,
                revision=revision,
                down=down or "",
                down_revision=down,
                upgrade=upgrade,
                downgrade=downgrade,
            )
        )
        down = revision

    return versions


def models(metadata: sa.MetaData) -> sa.MetaData:
    """Add the tables the project's revisions create to the models."""
    sa.Table(
        "user",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128)),
    )
    sa.Table(
        "post",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200)),
    )
    return metadata


def env_py_ran(root: Path) -> bool:
    """Whether anything executed the project's ``env.py``."""
    return (root / "migrations" / MARKER).exists()


@pytest.fixture(params=["flask_sqlalchemy"])
def integration(request: pytest.FixtureRequest) -> str:
    """Flask-SQLAlchemy, which a Flask-Migrate project uses."""
    return t.cast(str, request.param)


sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


# Finding the layout


def _layout_case(
    tmp_path: Path, files: list[str], config: dict[str, t.Any]
) -> tuple[Layout, Path]:
    migrations = tmp_path / "migrations"

    for name in files:
        path = migrations / name

        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue

        path.parent.mkdir(parents=True, exist_ok=True)
        text = "revision = 'a1'\ndown_revision = None\n" if "rev" in name else ""
        path.write_text(text)

    settings, _ = load_settings(config, {})
    return find_layout(settings, str(tmp_path)), migrations


@pytest.mark.parametrize(
    ("files", "config", "flask_migrate", "unused"),
    [
        # No migrations directory yet, or an empty one: Flask-Alembic's.
        ([], {}, False, []),
        (["script.py.mako"], {}, False, []),
        # Flask-Migrate's, whichever of its files are left.
        (["versions/"], {}, True, []),
        (["env.py", "alembic.ini", "versions/"], {}, True, ["env.py", "alembic.ini"]),
        (["env.py"], {}, True, ["env.py"]),
        (["alembic.ini"], {}, True, ["alembic.ini"]),
        (["versions/a1_rev.py"], {}, True, []),
        # Revisions in the migrations directory: Flask-Alembic's, even with
        # a versions directory or an env.py beside them.
        (["a1_rev.py", "versions/"], {}, False, []),
        (["a1_rev.py", "env.py"], {}, False, ["env.py"]),
        # A file that is not a revision does not count.
        (["helpers.py", "versions/"], {}, True, []),
        # versions configured as something else.
        (["versions/"], {"version_locations": ["migrations/versions"]}, False, []),
        (
            ["versions/"],
            {"version_locations": [("x", "migrations/versions")]},
            False,
            [],
        ),
        (["versions/"], {"branches": {"versions": {}}}, False, []),
        (["versions/"], {"binds": {"versions": {}}}, False, []),
        (
            ["versions/"],
            {"branches": {"b": {"path": "migrations/versions"}}},
            False,
            [],
        ),
    ],
)
def test_find_layout(
    tmp_path: Path,
    files: list[str],
    config: dict[str, t.Any],
    flask_migrate: bool,
    unused: list[str],
) -> None:
    """The default branch's revisions are in ``versions`` exactly when the
    migrations directory is Flask-Migrate's, and env.py and alembic.ini are
    listed as unused wherever they are.
    """
    layout, migrations = _layout_case(tmp_path, files, config)
    assert layout == Layout(
        str(migrations / "versions") if flask_migrate else None,
        tuple(str(migrations / name) for name in unused),
    )
    assert layout.flask_migrate is flask_migrate


def test_find_layout_package_resource(tmp_path: Path) -> None:
    """A ``package:path`` script location is left to Alembic, as before."""
    settings, _ = load_settings({"script_location": "flask_alembic:migrations"}, {})
    assert find_layout(settings, str(tmp_path)) == Layout()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["env.py", "alembic.ini"],
            "migrations/env.py and migrations/alembic.ini are not used:"
            " Flask-Alembic builds the migration environment from the app."
            " Delete them; alembic.ini's [alembic] options go in"
            " app.config['ALEMBIC'] and the options env.py passes to"
            " context.configure() go in app.config['ALEMBIC_CONTEXT']. See"
            " 'Switching from Flask-Migrate' in the Flask-Alembic"
            " documentation.",
        ),
        (
            ["env.py"],
            "migrations/env.py is not used: Flask-Alembic builds the migration"
            " environment from the app. Delete it; the options env.py passes to"
            " context.configure() go in app.config['ALEMBIC_CONTEXT']. See"
            " 'Switching from Flask-Migrate' in the Flask-Alembic"
            " documentation.",
        ),
        (
            ["alembic.ini"],
            "migrations/alembic.ini is not used: Flask-Alembic builds the"
            " migration environment from the app. Delete it; alembic.ini's"
            " [alembic] options go in app.config['ALEMBIC']. See 'Switching"
            " from Flask-Migrate' in the Flask-Alembic documentation.",
        ),
    ],
)
def test_unused_message(names: list[str], message: str) -> None:
    """The message names each unused file and where its settings go."""
    paths = [f"/project/migrations/{name}" for name in names]
    assert unused_message(paths, lambda p: p.removeprefix("/project/")) == message


# A Flask-Migrate project


def test_flask_migrate_project(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """The revisions in ``migrations/versions`` are the default branch: they
    upgrade the database, a new revision continues them in the same
    directory, and env.py never runs.
    """
    versions = write_project(tmp_path)
    app, alembic = make_app({"default": url}, models(metadata))

    with app.app_context():
        assert alembic.config.get_main_option("version_locations") == str(versions)
        assert [rev.revision for rev in alembic.log()] == list(reversed(REVISIONS))
        status = alembic.status()
        assert [(row.branch, row.path, row.heads) for row in status] == [
            ("default", str(versions), (REVISIONS[1],))
        ]
        alembic.upgrade()

    assert version_rows(url) == [REVISIONS[1]]
    assert table_names(url) == ["alembic_version", "post", "user"]
    metadata.tables["user"].append_column(sa.Column("email", sa.String(120)))
    app, alembic = make_app({"default": url}, metadata)

    with app.app_context():
        assert alembic.diffs()["default"][0][0] == "add_column"
        alembic.rev_id = lambda: "1000"  # type: ignore[method-assign]
        (new,) = alembic.revision("add email")
        assert new is not None
        assert new.path == str(versions / "1000_add_email.py")
        assert new.down_revision == REVISIONS[1]
        # The project's own template rendered it: no type annotations.
        assert "\ndef upgrade():\n" in Path(new.path).read_text()
        alembic.upgrade()
        assert alembic.diffs() == {"default": []}

    assert version_rows(url) == ["1000"]
    assert not env_py_ran(tmp_path)


@sqlite_only
def test_env_py_never_runs(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """No command executes Flask-Migrate's ``env.py``, which Alembic's own
    commands would run for every command.
    """
    write_project(tmp_path)
    app, alembic = make_app({"default": url}, models(metadata))

    with app.app_context():
        alembic.mkdir()
        alembic.heads()
        alembic.branches()
        alembic.log()
        alembic.status()
        assert alembic.verify() == []
        alembic.sql("upgrade", "heads")
        alembic.plan("upgrade")
        alembic.upgrade()
        alembic.current()
        alembic.pending()
        alembic.needs_revision()
        alembic.revision("nothing", empty=True)
        alembic.downgrade("base")
        alembic.stamp("heads")
        alembic.compare_metadata()

    assert not env_py_ran(tmp_path)


@sqlite_only
def test_stray_env_py_in_flask_alembic_layout(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """An ``env.py`` beside revisions in the migrations directory itself,
    where Flask-Alembic keeps them, is not executed as a revision either.
    """
    app, alembic = make_app({"default": url}, models(metadata))
    migrations = tmp_path / "migrations"

    with app.app_context():
        (first,) = alembic.revision("create tables")

    (migrations / "env.py").write_text(ENV_PY)
    app, alembic = make_app({"default": url}, metadata)

    with app.app_context():
        (second,) = alembic.revision("nothing", empty=True)
        assert first is not None and second is not None
        alembic.upgrade()
        assert [rev.path for rev in alembic.log()] == [second.path, first.path]
        assert alembic.verify() == []

    assert Path(second.path).parent == migrations
    assert table_names(url) == ["alembic_version", "post", "user"]
    assert not env_py_ran(tmp_path)


@sqlite_only
def test_unused_files_reported_once(
    make_app: AppFactory,
    url: str,
    metadata: sa.MetaData,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``env.py`` and ``alembic.ini`` are reported in one warning, once per
    process however many apps use them; once deleted, the revisions are
    still found in ``versions``.
    """
    caplog.set_level(logging.DEBUG)
    write_project(tmp_path)
    make_app({"default": url}, models(metadata))
    make_app({"default": url}, metadata)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "flask_alembic.layout",
            logging.WARNING,
            "migrations/env.py and migrations/alembic.ini are not used:"
            " Flask-Alembic builds the migration environment from the app."
            " Delete them; alembic.ini's [alembic] options go in"
            " app.config['ALEMBIC'] and the options env.py passes to"
            " context.configure() go in app.config['ALEMBIC_CONTEXT']. See"
            " 'Switching from Flask-Migrate' in the Flask-Alembic"
            " documentation.",
        )
    ]

    caplog.clear()
    (tmp_path / "migrations" / "env.py").unlink()
    (tmp_path / "migrations" / "alembic.ini").unlink()
    app, alembic = make_app({"default": url}, metadata)
    assert caplog.records == []

    with app.app_context():
        assert [rev.revision for rev in alembic.log()] == list(reversed(REVISIONS))


@sqlite_only
def test_unused_file_of_another_project(
    make_app: AppFactory,
    url: str,
    metadata: sa.MetaData,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each project's unused files are reported, relative to its root."""
    caplog.set_level(logging.WARNING)

    for name in ("one", "two"):
        write_project(tmp_path / name)
        (tmp_path / name / "migrations" / "alembic.ini").unlink()
        make_app({"default": url}, metadata, root_path=tmp_path / name)

    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "migrations/env.py is not used",
        "migrations/env.py is not used",
    ]


@sqlite_only
def test_flask_alembic_project_unchanged(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """A Flask-Alembic project keeps its revisions in the migrations
    directory, and new ones go there, even beside an empty ``versions``
    directory.
    """
    app, alembic = make_app({"default": url}, models(metadata))
    migrations = tmp_path / "migrations"

    with app.app_context():
        (first,) = alembic.revision("create tables")

    (migrations / "versions").mkdir()
    app, alembic = make_app({"default": url}, metadata)

    with app.app_context():
        assert alembic.config.get_main_option("version_locations") == str(migrations)
        (second,) = alembic.revision("nothing", empty=True)

    assert first is not None and second is not None
    assert Path(second.path).parent == migrations
    assert second.down_revision == first.revision


def test_default_bind_declared(
    make_app: AppFactory, url: str, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """With per-bind histories, the default bind's revisions are in
    ``versions`` too, and only there.
    """
    versions = write_project(tmp_path)
    app, alembic = make_app(
        {"default": url},
        {"default": models(metadata)},
        config={"binds": {"default": {"version_table": "alembic_version"}}},
    )

    with app.app_context():
        assert alembic.config.get_main_option("version_locations") == str(versions)
        assert alembic.registry.get("default") is not None
        assert alembic.registry.branches["default"].path == str(versions)
        alembic.upgrade()

    assert version_rows(url) == [REVISIONS[1]]
    assert not env_py_ran(tmp_path)
