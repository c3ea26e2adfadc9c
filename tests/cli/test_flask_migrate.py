"""The ``flask db`` commands on a project made with Flask-Migrate, and
Flask-Migrate's command names: ``init``, ``migrate``, ``history`` and
``edit`` each print one note on stderr, then do the work of the command they
stand for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from ..conftest import AppFactory
from ..conftest import table_names
from ..conftest import version_rows
from ..test_flask_migrate import env_py_ran
from ..test_flask_migrate import models
from ..test_flask_migrate import REVISIONS
from ..test_flask_migrate import write_project
from .conftest import fails
from .conftest import invoke
from .conftest import lines
from .conftest import no_database
from .conftest import REV_IDS

FIRST, SECOND = REVISIONS

#: The notes the commands print on stderr.
NOTES = {
    "init": "Note: 'flask db init' is Flask-Migrate's name; this runs"
    " 'flask db mkdir'.",
    "migrate": "Note: 'flask db migrate' is Flask-Migrate's name; this runs"
    " 'flask db revision'.",
    "history": "Note: 'flask db history' is Flask-Migrate's name; this runs"
    " 'flask db log'.",
    "edit": "Note: 'flask db edit' is Flask-Migrate's name; this opens the"
    " revision's file in the editor.",
}


class Project:
    """A Flask-Migrate project in the test's directory, opened by a new app
    for each command, as each ``flask`` process would.
    """

    def __init__(
        self,
        make_app: AppFactory,
        url: str,
        metadata: sa.MetaData,
        root: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.make_app = make_app
        self.url = url
        self.metadata = models(metadata)
        self.root = root
        self.versions = write_project(root)
        self.monkeypatch = monkeypatch
        self.ids = iter(REV_IDS)

    def open(self) -> FlaskCliRunner:
        """A runner for a new app on the project; new revisions get the ids
        of :data:`REV_IDS`, in order, across apps.
        """
        app, alembic = self.make_app({"default": self.url}, self.metadata)
        self.monkeypatch.setattr(alembic, "rev_id", lambda: next(self.ids))
        return app.test_cli_runner()

    def file(self, name: str) -> Path:
        """A revision file in ``migrations/versions``."""
        return self.versions / name


@pytest.fixture
def project(
    make_app: AppFactory,
    url: str,
    metadata: sa.MetaData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    """A Flask-Migrate project with two revisions, not applied."""
    return Project(make_app, url, metadata, tmp_path, monkeypatch)


def note_and_output(
    runner: FlaskCliRunner, command: str, *args: str, code: int = 0
) -> str:
    """Run a Flask-Migrate command, check that its note is the first line on
    stderr, and return its stdout.
    """
    result = invoke(runner, command, *args, code=code)
    assert result.stderr.splitlines()[0] == NOTES[command], result.stderr
    assert result.stderr.count("Note: ") == 1, result.stderr
    return result.stdout


# Help


@no_database
def test_help_section(project: Project) -> None:
    """``flask db --help`` lists Flask-Migrate's names in a section of their
    own, after the other commands.
    """
    output = invoke(project.open(), "--help").stdout
    commands, _, names = output.partition("\nFlask-Migrate names:\n")
    assert names.splitlines() == [
        "  edit     Open a revision's file in $EDITOR, the head by default.",
        "  history  Same as 'log': show the revisions, newest first.",
        "  init     Same as 'mkdir': create the migration directory.",
        "  migrate  Same as 'revision': autogenerate a new revision.",
    ]
    listed = [
        line.split()[0] for line in commands.splitlines() if line.startswith("  ")
    ]
    assert "log" in listed and "revision" in listed
    assert not {"edit", "history", "init", "migrate"} & set(listed)


# A Flask-Migrate project, end to end


def test_project(project: Project, backend: str) -> None:
    """The project's revisions upgrade the database; ``migrate`` adds the
    next one in ``migrations/versions`` on top of them; the usual commands
    work; and env.py never runs.
    """
    runner = project.open()
    invoke(runner, "upgrade")
    assert version_rows(project.url) == [SECOND]
    assert table_names(project.url) == ["alembic_version", "post", "user"]
    assert lines(invoke(runner, "current").stdout) == [
        f"{FIRST} -> {SECOND} (head), create posts"
    ]
    assert invoke(runner, "check").stdout == "No changes detected.\n"

    project.metadata.tables["user"].append_column(sa.Column("email", sa.String(120)))
    runner = project.open()
    output = note_and_output(runner, "migrate", "-m", "add email")
    new = project.file(f"{REV_IDS[0]}_add_email.py")
    assert output == f"Generating {new} ...  done\n"
    source = new.read_text()
    assert source.startswith('"""add email\n')
    assert f"down_revision = '{SECOND}'\n" in source
    # Batch mode is on for SQLite only.
    batch = "batch_op.add_column(sa.Column('email'" in source
    assert batch is (backend == "sqlite"), source

    invoke(runner, "upgrade")
    assert version_rows(project.url) == [REV_IDS[0]]
    assert lines(invoke(runner, "status").stdout) == [
        "branch   bind     path                 head        current     pending",
        f"default  default  migrations/versions  {REV_IDS[0]}  {REV_IDS[0]}  0",
        "Up to date: 1 branch.",
    ]
    invoke(runner, "downgrade", "base")
    assert version_rows(project.url) == []
    note_and_output(runner, "history")
    invoke(runner, "verify")
    assert not env_py_ran(project.root)


@no_database
def test_env_py_never_runs(project: Project) -> None:
    """No command runs Flask-Migrate's env.py."""
    runner = project.open()

    for args in (
        ["init"],
        ["mkdir"],
        ["heads"],
        ["branches"],
        ["log"],
        ["history"],
        ["show", "head"],
        ["status"],
        ["verify"],
        ["upgrade", "--sql"],
        ["upgrade", "--plan"],
        ["upgrade"],
        ["migrate"],
        ["stamp", "heads"],
        ["current"],
    ):
        invoke(runner, *args)

    assert not env_py_ran(project.root)


@no_database
def test_unused_files_on_stderr(project: Project, tmp_path: Path) -> None:
    """A ``flask`` process reports env.py and alembic.ini once on stderr,
    when it loads the app, before the command's output.
    """
    (tmp_path / "app.py").write_text(
        "import sqlalchemy as sa\n"
        "from flask import Flask\n"
        "from flask_alembic import Alembic\n\n"
        "app = Flask(__name__)\n"
        f"Alembic(app, engines=sa.create_engine({project.url!r}),"
        " metadatas=sa.MetaData())\n"
    )
    env = {**os.environ, "FLASK_APP": "app"}
    env.pop("FLASK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "db", "history"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "migrations/env.py and migrations/alembic.ini are not used:"
        " Flask-Alembic builds the migration environment from the app."
        " Delete them; alembic.ini's [alembic] options go in"
        " app.config['ALEMBIC'] and the options env.py passes to"
        " context.configure() go in app.config['ALEMBIC_CONTEXT']. See"
        " 'Switching from Flask-Migrate' in the Flask-Alembic documentation.",
        NOTES["history"],
    ]
    assert done.stdout.splitlines() == [
        f"{FIRST} -> {SECOND} (head), create posts",
        f"<base> -> {FIRST}, create users",
    ]
    assert not env_py_ran(tmp_path)


# init


@no_database
def test_init(make_app: AppFactory, url: str, tmp_path: Path) -> None:
    """``init`` creates the migration directory as ``mkdir`` does."""
    app, _ = make_app({"default": url}, sa.MetaData(), run_mkdir=False)
    runner = app.test_cli_runner()
    assert note_and_output(runner, "init") == ""
    template = tmp_path / "migrations" / "script.py.mako"
    assert "def upgrade() -> None:" in template.read_text()
    assert note_and_output(runner, "init", "-d", "migrations") == ""
    assert note_and_output(runner, "init", "-d", str(tmp_path / "migrations")) == ""


@no_database
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--multidb"],
            "Error: '--multidb' has no equivalent in Flask-Alembic: several"
            " databases share one history when Alembic(metadatas={...}) names"
            " them, or get a history each when ALEMBIC['binds'] declares them."
            " Leave it out.",
        ),
        (
            ["-t", "flask"],
            "Error: '--template' has no equivalent in Flask-Alembic: the"
            " template of new revisions is script.py.mako in the migrations"
            " directory. Leave it out, and edit that file instead.",
        ),
        (
            ["--package"],
            "Error: '--package' has no equivalent in Flask-Alembic: revisions"
            " are found without __init__.py files. Leave it out.",
        ),
        (
            ["-d", "db_migrations"],
            "Error: '--directory db_migrations' is not the migrations"
            " directory, 'migrations'. Flask-Alembic reads it from"
            " app.config['ALEMBIC']['script_location']: set it there, and"
            " leave out --directory.",
        ),
    ],
)
def test_init_refuses(
    make_app: AppFactory, url: str, tmp_path: Path, args: list[str], error: str
) -> None:
    """Flask-Migrate's ``init`` options without an equivalent are refused,
    and nothing is created.
    """
    app, _ = make_app({"default": url}, sa.MetaData(), run_mkdir=False)
    assert fails(app.test_cli_runner(), "init", *args) == error
    assert not (tmp_path / "migrations").exists()


# migrate


@no_database
def test_migrate_without_message(project: Project) -> None:
    """Without ``-m``, the message is Alembic's "empty message"."""
    runner = project.open()
    invoke(runner, "upgrade")
    output = note_and_output(runner, "migrate")
    new = project.file(f"{REV_IDS[0]}_empty_message.py")
    assert output == f"Generating {new} ...  done\n"
    assert new.read_text().startswith('"""empty message\n')


@no_database
def test_migrate_options(project: Project) -> None:
    """``--head``, ``--splice``, ``--branch-label`` and ``--version-path``
    are passed on as revision's ``--parent``, ``--splice``, ``--label`` and
    ``--path``.
    """
    runner = project.open()
    invoke(runner, "upgrade")
    note_and_output(
        runner,
        "migrate",
        "-m",
        "side",
        "--head",
        FIRST,
        "--splice",
        "--branch-label",
        "side",
        "--version-path",
        "migrations/versions",
        "-d",
        "migrations",
    )
    source = project.file(f"{REV_IDS[0]}_side.py").read_text()
    assert f"down_revision = '{FIRST}'\n" in source
    assert "branch_labels = ('side',)\n" in source
    assert sorted(invoke(runner, "heads").stdout.splitlines()) == sorted(
        [
            f"{FIRST} -> {REV_IDS[0]} (side) (head), side",
            f"{FIRST} -> {SECOND} (head), create posts",
        ]
    )


@no_database
def test_migrate_several_heads(project: Project) -> None:
    """With several heads, the error names the option that picks one."""
    runner = project.open()
    invoke(runner, "revision", "side", "--empty", "--parent", FIRST, "--splice")
    invoke(runner, "stamp", "heads")
    assert fails(runner, "migrate", "-m", "x") == (
        f"Error: Branch 'default' has several heads ({SECOND}, {REV_IDS[0]}),"
        " so the parent of the new revision is ambiguous. Pass one with"
        " '--parent', or run 'flask db merge' to join them first."
    )
    note_and_output(runner, "migrate", "-m", "x", "--parent", SECOND)


@no_database
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--rev-id", "abc"],
            "Error: '--rev-id' has no equivalent in Flask-Alembic: revision"
            " ids come from the Alembic.rev_id() method, which the app can"
            " override. Leave it out.",
        ),
        (
            ["--sql"],
            "Error: '--sql' has no equivalent in Flask-Alembic: a new revision"
            " is compared with the database itself. Leave it out; 'flask db"
            " upgrade --sql' prints the SQL of the revisions.",
        ),
        (
            ["-x", "tenant=acme"],
            "Error: '--x-arg' has no equivalent in Flask-Alembic: there is no"
            " env.py to read it. Leave it out, and put the setting in"
            " app.config['ALEMBIC_CONTEXT'].",
        ),
        (
            ["-d", "other"],
            "Error: '--directory other' is not the migrations directory,"
            " 'migrations'. Flask-Alembic reads it from"
            " app.config['ALEMBIC']['script_location']: set it there, and"
            " leave out --directory.",
        ),
    ],
)
def test_migrate_refuses(project: Project, args: list[str], error: str) -> None:
    """Flask-Migrate's ``migrate`` options without an equivalent are
    refused, and no revision is written.
    """
    runner = project.open()
    invoke(runner, "upgrade")
    assert fails(runner, "migrate", "-m", "x", *args) == error
    assert sorted(p.name for p in project.versions.glob("*.py")) == [
        f"{FIRST}_create_users.py",
        f"{SECOND}_create_posts.py",
    ]


# history


@no_database
@pytest.mark.parametrize(
    ("history", "log"),
    [
        ([], []),
        (["-v"], ["-v"]),
        (["-r", f"{FIRST}:"], ["--start", FIRST]),
        (["-r", f":{FIRST}"], ["--end", FIRST]),
        (["--rev-range", f"base:{SECOND}"], ["--start", "base", "--end", SECOND]),
    ],
)
def test_history(project: Project, history: list[str], log: list[str]) -> None:
    """``history`` prints what ``log`` prints, its range as log's
    ``--start`` and ``--end``.
    """
    runner = project.open()
    expected = invoke(runner, "log", *log).stdout
    assert expected
    assert note_and_output(runner, "history", *history) == expected


@no_database
def test_history_range(project: Project) -> None:
    """A range from the first revision leaves the base out."""
    runner = project.open()
    assert note_and_output(runner, "history", "-r", f"{SECOND}:").splitlines() == [
        f"{FIRST} -> {SECOND} (head), create posts"
    ]


@no_database
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["-r", FIRST],
            f"Error: '--rev-range {FIRST}' is not a range. Write START:END,"
            " START: or :END, such as 'base:head'.",
        ),
        (
            ["-i"],
            "Error: '--indicate-current' has no equivalent in Flask-Alembic:"
            " 'flask db current' shows the revisions the database is at. Leave"
            " it out.",
        ),
    ],
)
def test_history_refuses(project: Project, args: list[str], error: str) -> None:
    """A range without ':' and ``--indicate-current`` are refused."""
    assert fails(project.open(), "history", *args) == error


# edit


@pytest.fixture
def editor(tmp_path: Path) -> str:
    """An ``$EDITOR`` that appends ``# edited`` to each file it opens."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "for path in sys.argv[1:]:\n"
        "    with open(path, 'a') as f:\n"
        "        f.write('# edited\\n')\n"
    )
    return f"{sys.executable} {script}"


def edited(project: Project) -> list[str]:
    """The names of the revision files the editor changed."""
    return sorted(
        path.name
        for path in project.versions.glob("*.py")
        if path.read_text().endswith("# edited\n")
    )


@no_database
@pytest.mark.parametrize(
    ("args", "name"),
    [
        ([], f"{SECOND}_create_posts.py"),
        (["head"], f"{SECOND}_create_posts.py"),
        ([FIRST], f"{FIRST}_create_users.py"),
        ([FIRST[:4]], f"{FIRST}_create_users.py"),
        (["current"], f"{FIRST}_create_users.py"),
    ],
)
def test_edit(project: Project, editor: str, args: list[str], name: str) -> None:
    """``edit`` opens the head revision's file in $EDITOR, or the one
    named, or the one the database is at.
    """
    runner = project.open()
    invoke(runner, "upgrade", FIRST)
    result = runner.invoke(args=["db", "edit", *args], env={"EDITOR": editor})
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert lines(result.stderr) == [NOTES["edit"]]
    assert edited(project) == [name]


@no_database
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["base"],
            "Error: 'base' names no revision file. Run 'flask db log' to list them.",
        ),
        (
            ["nope"],
            "Error: Can't locate revision identified by 'nope'. Run 'flask db"
            " log' to list the revisions.",
        ),
        (
            ["current"],
            "Error: 'current' names no revision file. Run 'flask db log' to list them.",
        ),
        (
            ["-d", "other"],
            "Error: '--directory other' is not the migrations directory,"
            " 'migrations'. Flask-Alembic reads it from"
            " app.config['ALEMBIC']['script_location']: set it there, and"
            " leave out --directory.",
        ),
    ],
)
def test_edit_refuses(
    project: Project, editor: str, args: list[str], error: str
) -> None:
    """A revision that names no file is an error, and nothing is opened."""
    result = project.open().invoke(args=["db", "edit", *args], env={"EDITOR": editor})
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert errors == [error]
    assert edited(project) == []


@no_database
def test_edit_failing_editor(project: Project, tmp_path: Path) -> None:
    """An editor that fails is reported in one line."""
    result = project.open().invoke(
        args=["db", "edit"], env={"EDITOR": f"{sys.executable} -c 'exit(3)'"}
    )
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        f"Error: {sys.executable} -c 'exit(3)': Editing failed"
    )
