"""The worked example of per-bind histories in ``docs/multiple-databases.md``
runs as written.

The page's app is written to a project directory and loaded afresh for every
command, as each ``flask`` process would load it. The blocks marked with a
``% test: NAME`` comment are the steps: command transcripts whose output must
match exactly, the progress lines of the first upgrade, a model change, the
revisions that fail, and the failure report each backend prints.

The page's databases are SQLite files. The same transcript also runs with
``auth`` and ``analytics`` on the two database servers, and the failure report
of the backend ``auth`` is on is compared with the page's.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import importlib.util
import itertools
import re
import shlex
import sys
import types
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

PAGE = Path(__file__).parent.parent / "docs" / "multiple-databases.md"

#: A block the test runs: a ``% test: NAME`` line, then a fenced block.
_MARKED = re.compile(
    r"^% test: (?P<name>[\w ]+)\n```\w+\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL
)

#: Where the page's app keeps each bind's SQLite file.
PAGE_URLS = {
    "default": "sqlite:///blog.sqlite",
    "auth": "sqlite:///auth.sqlite",
    "analytics": "sqlite:///analytics.sqlite",
}

#: The time in the summary line of each bind, which varies from run to run.
_SECONDS = re.compile(r"\d+\.\d\d s\.$", re.MULTILINE)

#: Where ``analytics`` runs when ``auth`` runs on a backend.
OTHER_SERVER = {"sqlite": "sqlite", "postgresql": "mariadb", "mariadb": "postgresql"}

_loads = itertools.count()


def blocks() -> dict[str, str]:
    """The page's marked blocks, by name."""
    found = {m["name"]: m["body"] for m in _MARKED.finditer(PAGE.read_text())}
    assert found, f"no '% test:' blocks in {PAGE}"
    return found


def parse_transcript(
    block: str, prefix: str = "$ flask db "
) -> list[tuple[list[str], str]]:
    """The ``flask db`` commands of a console block, each with the output
    shown for it.

    :param prefix: What starts a command line; the rest of the line is the
        command's arguments.
    """
    steps: list[tuple[list[str], str]] = []

    for line in block.splitlines(keepends=True):
        if line.startswith(prefix):
            steps.append((shlex.split(line[len(prefix) :]), ""))
        else:
            args, output = steps[-1]
            steps[-1] = (args, output + line)

    return steps


def with_model(code: str, model: str) -> str:
    """The app's code with a model class replaced by the page's new version."""
    name = re.match(r"class (\w+)\(", model)
    assert name is not None, model
    old = re.search(rf"^class {name[1]}\(.*?\n(?=\n)", code, re.MULTILINE | re.DOTALL)
    assert old is not None, f"class {name[1]} is not in the app"
    return code.replace(old[0], model.rstrip("\n"))


def with_upgrade(path: Path, function: str) -> None:
    """Replace the ``upgrade`` function of a generated revision file."""
    source = path.read_text()
    new, count = re.subn(
        r"^def upgrade\(\).*?(?=\n\n\ndef downgrade)",
        lambda _: function.strip("\n"),
        source,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert count == 1, source
    path.write_text(new)


def revision_functions(block: str) -> dict[str, str]:
    """The ``upgrade`` function of each revision file the page shows, by
    path, from a block of ``# <path>`` comments each followed by a function.
    """
    parts = re.split(r"^# (\S+\.py)\n", block, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@contextlib.contextmanager
def load_page_app(
    root: Path, code: str
) -> cabc.Iterator[tuple[types.ModuleType, Flask]]:
    """Write a docs page's app into ``root/app.py``, import it as a new
    module and create the app, as the next ``flask`` process would. Its
    engines are disposed afterwards.
    """
    path = root / "app.py"
    path.write_text(code)
    name = f"docs_page_app_{next(_loads)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Flask finds the root and instance paths, and SQLAlchemy the models'
    # annotations, through sys.modules.
    sys.modules[name] = module

    try:
        spec.loader.exec_module(module)
        # Ids that fit on a page: the extension moves a taken numeric id to
        # the next free number, so revisions get 1000, 1001, ...
        module.alembic.rev_id = lambda: "1000"
        app: Flask = module.create_app()

        try:
            yield module, app
        finally:
            with app.app_context():
                for engine in module.db.engines.values():
                    engine.dispose()
    finally:
        del sys.modules[name]


class Project:
    """The page's app in a directory, on the test's databases."""

    def __init__(self, root: Path, urls: dict[str, str]) -> None:
        self.root = root
        self.code = blocks()["app"]
        #: Each server database's random name, and the name the page shows.
        self.names = {
            str(sa.make_url(url).database): name
            for name, url in urls.items()
            if not url.startswith("sqlite")
        }

        for name, page_url in PAGE_URLS.items():
            assert f'"{page_url}"' in self.code, page_url

            if urls[name] != page_url:
                self.code = self.code.replace(f'"{page_url}"', repr(urls[name]))

    def load(self) -> t.ContextManager[tuple[types.ModuleType, Flask]]:
        """Load the app as the next ``flask`` process would."""
        return load_page_app(self.root, self.code)

    def invoke(self, args: list[str]) -> Result:
        """Run ``flask db <args>`` in a new app."""
        with self.load() as (_, app):
            return app.test_cli_runner().invoke(args=["db", *args])

    def show(self, text: str) -> str:
        """Output as the page shows it: the project in ``/project``, each
        server database named after its bind.
        """
        for database, name in self.names.items():
            text = text.replace(f"/{database}", f"/{name}")

        return text.replace(str(self.root), "/project")

    def run(self, block: str) -> dict[str, Result]:
        """Run a console block's commands, checking each one's output, and
        return the results by command line.
        """
        results = {}

        for args, expected in parse_transcript(block):
            result = self.invoke(args)
            shown = result.stdout if result.exit_code == 0 else result.output
            # Progress lines go to stderr; the page shows them separately.
            shown = "\n".join(
                line for line in shown.splitlines() if not line.startswith("INFO  [")
            )
            assert self.show(shown) == expected.rstrip("\n"), (args, result.output)
            results[shlex.join(args)] = result

        return results


@pytest.fixture
def urls(backend: str, make_url: cabc.Callable[..., str]) -> dict[str, str]:
    """The page's SQLite files, or ``auth`` on the test's backend and
    ``analytics`` on the other server, with ``default`` on SQLite.
    """
    if backend == "sqlite":
        return dict(PAGE_URLS)

    return {
        "default": PAGE_URLS["default"],
        "auth": make_url(),
        "analytics": make_url(on=OTHER_SERVER[backend]),
    }


def test_page_blocks() -> None:
    """The page marks every block this test needs."""
    assert set(blocks()) == {
        "app",
        "start",
        "progress",
        "model",
        "change",
        "downgrade",
        "failing",
        "failure sqlite",
        "failure postgresql",
        "failure mariadb",
    }


def test_worked_example(
    backend: str,
    urls: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command of the worked example prints what the page shows, and a
    failing revision prints the page's report for the backend it runs on.
    """
    page = blocks()
    project = Project(tmp_path, urls)

    results = project.run(page["start"])

    if backend == "sqlite":
        progress = project.show(results["upgrade"].stderr)
        assert _SECONDS.sub("N s.", progress) == _SECONDS.sub("N s.", page["progress"])

    project.code = with_model(project.code, page["model"])
    project.run(page["change"])
    project.run(page["downgrade"])

    # Two users whose addresses differ only in case.
    with project.load() as (module, app):
        with app.app_context(), module.db.engines["auth"].begin() as conn:
            conn.execute(
                sa.insert(module.User),
                [
                    {"name": "ann", "email": "Ann@example.com"},
                    {"name": "anne", "email": "ann@example.com"},
                ],
            )

    functions = revision_functions(page["failing"])

    for message in ("add logins", "unique emails"):
        result = project.invoke(["revision", message, "--bind", "auth", "--empty"])
        assert result.exit_code == 0, result.output

    for path, function in functions.items():
        with_upgrade(tmp_path / path, function)

    # The report shows revision files relative to the working directory, as
    # when flask runs in the project.
    monkeypatch.chdir(tmp_path)
    result = project.invoke(["upgrade"])
    assert result.exit_code == 1, result.output
    report = project.show(result.output[result.output.index("Error: ") :])
    assert report == page[f"failure {backend}"], result.output
