"""The shell examples of ``docs/quickstart.md`` run as written.

Every fenced block of the page with ``$`` command lines is a shell example.
The first installs the packages; the others run ``flask --app app db``
commands on the page's ``app.py`` and show their output.

Unlike the other docs tests, the commands run as real ``flask`` processes in
the project directory rather than through the CLI runner, because the page
is about what a new user types: ``flask --app app`` must find ``app.py`` in
the working directory and call its ``create_app``, and Alembic's log lines,
written to stderr, appear among the output as a terminal shows them.

Output is compared as the page shows it: the project directory is
``/path/to/project``, each revision id, a timestamp, is the one the page
shows, the time an upgrade took is left out, and so are the two lines
Alembic logs as every command starts, as the page says.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from .conftest import table_names
from .conftest import version_rows
from .test_docs_binds import parse_transcript

PAGE = Path(__file__).parent.parent / "docs" / "quickstart.md"

#: A fenced block of the page.
_FENCED = re.compile(r"^```\w*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)

#: The code the page tells the reader to save as ``app.py``.
_APP = re.compile(
    r"Save this as `app\.py`.*?^```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)

#: The model change the page asks for: a field to add to a model.
_CHANGE = re.compile(r"add `(?P<field>\w+: [^`]+)` to `(?P<model>\w+)`")

#: The revision file a ``revision`` command's output names, as the page shows.
_GENERATED = re.compile(
    r"^Generating /path/to/project/migrations/(\d+)_\w+\.py \.\.\.  done$",
    re.MULTILINE,
)

#: The time in the summary line of an upgrade, which varies from run to run.
_SECONDS = re.compile(r"\d+\.\d\d s\.$", re.MULTILINE)

#: The lines Alembic logs as every command starts, which the page leaves out.
STARTUP_LINES = {
    "INFO  [alembic.runtime.migration] Context impl SQLiteImpl.",
    "INFO  [alembic.runtime.migration] Will assume transactional DDL.",
}

#: The page's install example; see ``test_install``.
INSTALL = """\
$ python3 -m venv .venv
$ . .venv/bin/activate
$ pip install flask-alembic flask-sqlalchemy
"""

#: Where the page's project is.
PAGE_ROOT = "/path/to/project"

#: The commands' environment. A terminal shows stdout and stderr in the order
#: they are written; unbuffered, a pipe keeps that order too.
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def shell_examples() -> list[str]:
    """The page's fenced blocks with ``$`` command lines, in order."""
    return [
        m["body"]
        for m in _FENCED.finditer(PAGE.read_text())
        if re.search(r"^\$ ", m["body"], re.MULTILINE)
    ]


def with_field(code: str, model: str, field: str) -> str:
    """The app's code with a field added at the end of a model class."""
    old = re.search(rf"^class {model}\(.*?\n(?=\n)", code, re.MULTILINE | re.DOTALL)
    assert old is not None, f"class {model} is not in the app"
    return code.replace(old[0], f"{old[0]}    {field}\n")


class Project:
    """The page's app in a directory, and the revisions made in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        #: The id the page shows for each revision made, by its real id.
        self.ids: dict[str, str] = {}

    def show(self, text: str) -> str:
        """Output as the page shows it."""
        text = text.replace(str(self.root), PAGE_ROOT)

        for real, shown in self.ids.items():
            text = re.sub(rf"(?<!\d){real}(?!\d)", shown, text)

        lines = [line for line in text.splitlines() if line not in STARTUP_LINES]
        return _SECONDS.sub("N s.", "\n".join(lines))

    def run(self, block: str) -> None:
        """Run a shell example's commands in order, checking each one's
        output and exit code.
        """
        for args, expected in parse_transcript(block, prefix="$ "):
            assert args[:4] == ["flask", "--app", "app", "db"], args
            before = set(self.root.glob("migrations/*.py"))
            result = subprocess.run(
                [sys.executable, "-m", *args],
                cwd=self.root,
                env=ENV,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )

            if args[4] == "revision":
                made = set(self.root.glob("migrations/*.py")) - before
                assert len(made) == 1, (args, result.stdout)
                real = made.pop().name.partition("_")[0]
                # Ids are the UTC time at which the revision was made.
                assert abs(int(real) - time.time()) < 60, real
                shown_ids = _GENERATED.findall(expected)
                assert len(shown_ids) == 1, (args, expected)
                self.ids[real] = shown_ids[0]

            shown = _SECONDS.sub("N s.", expected.rstrip("\n"))
            assert self.show(result.stdout) == shown, (args, result.stdout)
            # The page says check exits 1 when the models and database differ.
            code = 1 if "Changes detected." in expected.splitlines() else 0
            assert result.returncode == code, (args, result.stdout)


def test_page_shell_examples() -> None:
    """The page's shell examples are the four the tests run, and it says
    which log lines its outputs leave out.
    """
    examples = shell_examples()
    assert len(examples) == 4, examples
    text = " ".join(PAGE.read_text().split())
    assert '"Context impl" and "Will assume transactional DDL" lines' in text


def test_install() -> None:
    """The install example is the three lines the test knows, and the
    distributions it installs are installed here.

    The test does not run these lines: making a virtual environment and
    downloading from PyPI would be slow, need the network, and install the
    released Flask-Alembic instead of this checkout. Instead the lines are
    pinned, so a change to them fails here until the test is updated, and
    the names given to ``pip install`` must be distributions installed in
    this environment, the one the ``flask`` commands of the other test run
    in.
    """
    install, *_ = shell_examples()
    assert install == INSTALL
    *_, (pip, output) = parse_transcript(install, prefix="$ ")
    assert pip[:2] == ["pip", "install"] and output == ""

    for name in pip[2:]:
        assert importlib.metadata.version(name), name


def test_flask_commands(tmp_path: Path) -> None:
    """Every ``flask`` command of the page, run in order in a project with
    the page's ``app.py``, prints what the page shows and exits as it says.
    """
    page = PAGE.read_text()
    _, first, apply, keep_going = shell_examples()
    app = _APP.search(page)
    change = _CHANGE.search(page)
    assert app is not None and change is not None
    (tmp_path / "app.py").write_text(app["code"])
    project = Project(tmp_path)
    url = f"sqlite:///{tmp_path / 'instance' / 'project.db'}"

    project.run(first)
    # init_app made the migrations directory, with the template in it.
    assert (tmp_path / "migrations" / "script.py.mako").is_file()

    project.run(apply)
    assert table_names(url) == ["alembic_version", "user"]
    assert version_rows(url) == list(project.ids)

    (tmp_path / "app.py").write_text(
        with_field(app["code"], change["model"], change["field"])
    )
    project.run(keep_going)
    first_id, second_id = project.ids
    assert version_rows(url) == [second_id]
    # The page's ids are in the order the revisions were made, as real ones.
    assert int(project.ids[first_id]) < int(project.ids[second_id])
