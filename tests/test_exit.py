"""A ``flask db`` process ends quickly: at exit the engines it used are
disposed, the garbage left is collected, and what is still alive is frozen
instead of walked by the interpreter's last collections.

These run ``flask`` as a real process, because what they test happens when
the interpreter exits, which the CLI runner does not do.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

APP = """\
import atexit
import gc
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from flask_alembic import Alembic

HERE = Path(__file__).parent


def note(line):
    with (HERE / "exit.log").open("a") as f:
        f.write(line + "\\n")


# Registered before flask_alembic's exit handler, so it runs after it.
atexit.register(lambda: note(f"frozen: {gc.get_freeze_count() > 0}"))

engine = sa.create_engine(os.environ["EXIT_TEST_URL"])


@sa.event.listens_for(engine, "close")
def closed(dbapi_connection, record):
    if record.info.get("app's"):
        note("app's connection closed")

app = Flask(__name__, root_path=str(HERE))
app.config["ALEMBIC"] = {"script_location": "migrations"}
alembic = Alembic(app, metadatas=sa.MetaData(), engines=engine)


class Garbage:
    def __del__(self):
        note("garbage finalized")


@app.teardown_appcontext
def leave_pooled_connection_and_garbage(exc):
    # The app's own query leaves a connection in the engine's pool, which
    # only disposing of the engine closes.
    with engine.connect() as connection:
        connection.info["app's"] = True

    # A cycle only a collection finds, with automatic collections off.
    gc.disable()
    garbage = Garbage()
    garbage.cycle = garbage
    note("teardown")
"""

REVISION = '''\
"""create things"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = ("default",)
depends_on = None


def upgrade():
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("things")
'''


def run(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXIT_TEST_URL": url, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def project(root: Path) -> None:
    (root / "exit_app.py").write_text(APP)
    (root / "migrations").mkdir()
    (root / "migrations" / "a1_create_things.py").write_text(REVISION)


def exit_log(root: Path) -> list[str]:
    return (root / "exit.log").read_text().splitlines()


def test_command_disposes_collects_and_freezes(
    tmp_path: Path, make_url: cabc.Callable[..., str]
) -> None:
    """After 'flask db upgrade', the engine's pooled connection is closed,
    garbage left at the end is finalized, and the rest is frozen before
    the exit handlers registered earlier run.
    """
    url = make_url()
    project(tmp_path)

    result = run(tmp_path, url, "-m", "flask", "--app", "exit_app", "db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert "Bind 'default': 1 revision applied in" in result.stderr
    assert exit_log(tmp_path) == [
        "teardown",
        "app's connection closed",
        "garbage finalized",
        "frozen: True",
    ]

    engine = sa.create_engine(url)

    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert rows.scalars().all() == ["a1"]
    finally:
        engine.dispose()


def test_python_api_leaves_exit_alone(
    tmp_path: Path, make_url: cabc.Callable[..., str]
) -> None:
    """Calling the API from a script changes nothing about how it exits:
    only the 'flask db' commands arrange a quick exit.
    """
    url = make_url()
    project(tmp_path)
    script = textwrap.dedent(
        """
        from exit_app import alembic, app

        with app.app_context():
            alembic.upgrade()
        """
    )

    result = run(tmp_path, url, "-c", script)

    assert result.returncode == 0, result.stderr
    assert "frozen: False" in exit_log(tmp_path)
