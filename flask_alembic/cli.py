"""The ``flask db`` commands: parse, call the :class:`.Alembic` API, print.

Errors a user can fix print one ``Error: ...`` line and exit non-zero. While a
command runs, Alembic's progress lines ("Running upgrade a -> b") are shown
on stderr unless the application's logging already shows them.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import logging
import os
import sys
import traceback
import typing as t

import click
import sqlalchemy as sa
from alembic.script import Script
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from flask.cli import with_appcontext

from . import _gc
from . import documents
from ._alembic import translate_errors
from .config import show_path
from .errors import FlaskAlembicError
from .errors import MultipleHeadsError

if t.TYPE_CHECKING:
    from .extension import Alembic
    from .extension import BindPlan
    from .runner import BindRun

#: Loggers whose INFO lines show a command's progress.
_PROGRESS_LOGGERS = ("alembic", "flask_alembic")

#: Loggers whose INFO lines are noise on every command.
_NOISY_LOGGERS = ("alembic.runtime.plugins",)


class _Command(click.Command):
    """A command that shows Alembic's progress and turns the errors a user
    can fix into one ``Error:`` line.
    """

    #: The section of ``flask db --help`` that lists the command.
    section = "Commands"

    def invoke(self, ctx: click.Context) -> t.Any:
        with _progress_logging():
            try:
                return super().invoke(ctx)
            except (FlaskAlembicError, CommandError) as e:
                if ctx.params.get("verbose"):
                    # The group's callback set the extension as ctx.obj.
                    _echo_traceback(e, ctx.obj)

                raise click.ClickException(str(e)) from e


def _echo_traceback(error: BaseException, alembic: Alembic | None) -> None:
    """Print an error's traceback and its causes, without passwords."""
    text = "".join(traceback.format_exception(error))

    if alembic is not None:
        with contextlib.suppress(Exception):
            text = alembic._mask(text)

    click.echo(text, err=True, nl=False)


class _Group(AppGroup):
    command_class = _Command

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        """List the commands in their sections, such as Flask-Migrate's
        names apart from the others.
        """
        sections: dict[str, list[tuple[str, click.Command]]] = {}

        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)

            if command is not None and not command.hidden:
                section = getattr(command, "section", _Command.section)
                sections.setdefault(section, []).append((name, command))

        if not sections:
            return

        longest = max(len(name) for rows in sections.values() for name, _ in rows)
        limit = formatter.width - 6 - longest

        # The group's own commands first.
        for section in sorted(sections, key=lambda name: name != _Command.section):
            rows = sections[section]

            with formatter.section(section):
                formatter.write_dl(
                    [
                        (name, command.get_short_help_str(limit))
                        for name, command in rows
                    ]
                )


@click.group("db", cls=_Group)
@click.pass_context
@with_appcontext
def cli(ctx: click.Context) -> None:
    """Perform database migrations."""
    alembic: Alembic = current_app.extensions["alembic"]
    ctx.obj = alembic
    # Read when the command is done: the engines it connected with.
    state = alembic._state()
    ctx.call_on_close(lambda: _gc.end_quickly(state.engines()))


pass_alembic = click.pass_obj
branch_option = click.option(
    "-b", "--branch", help="Only the revisions of this branch."
)
bind_option = click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="NAME",
    help="Only this database (bind). Repeat for several.",
    # The API's bind argument: the names, or None for every database.
    callback=lambda ctx, param, value: list(value) or None,
)
verbose_option = click.option(
    "-v", "--verbose", is_flag=True, help="Show the full details of each revision."
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document on standard output instead of text.",
)


def _echo_json(document: documents.Document) -> None:
    click.echo(documents.dumps(document))


@cli.command()
@pass_alembic
def mkdir(alembic: Alembic) -> None:
    """Create the migration directory if it does not exist."""
    alembic.mkdir()


@cli.command()
@click.option(
    "--check-heads", is_flag=True, help="Exit 1 unless all head revisions are applied."
)
@branch_option
@bind_option
@verbose_option
@json_option
@pass_alembic
@click.pass_context
def current(
    ctx: click.Context,
    alembic: Alembic,
    check_heads: bool,
    branch: str | None,
    binds: list[str] | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Show the revisions the database is at."""
    by_database = alembic.current_by_database(branch, binds)

    if as_json:
        pending = alembic.pending(binds)
        _echo_json(documents.current(by_database, pending, current_app.root_path))

        if check_heads and any(pending.values()):
            ctx.exit(1)

        return

    if check_heads:
        behind = [name for name, pending in alembic.pending(binds).items() if pending]

        if behind:
            if len(by_database) == 1:
                click.echo("Database is not on all head revisions")
            else:
                for name in behind:
                    click.echo(f"Database '{name}' is not on all head revisions")

            ctx.exit(1)

    for name, revisions in by_database.items():
        prefix = f"{name}: " if len(by_database) > 1 else ""

        for rev in revisions:
            click.echo(prefix + _format(rev, verbose))


@cli.command()
@click.option(
    "--resolve-dependencies", is_flag=True, help="Treat dependencies as down revisions."
)
@branch_option
@bind_option
@verbose_option
@json_option
@pass_alembic
def heads(
    alembic: Alembic,
    resolve_dependencies: bool,
    branch: str | None,
    binds: list[str] | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Show the revisions that have no child revisions."""
    revisions = alembic.heads(resolve_dependencies, branch, binds)

    if as_json:
        _echo_json(documents.revisions("heads", revisions, current_app.root_path))
        return

    _echo_all(revisions, verbose)


@cli.command()
@click.option(
    "--declared", is_flag=True, help="List the branches the configuration declares."
)
@verbose_option
@pass_alembic
def branches(alembic: Alembic, declared: bool, verbose: bool) -> None:
    """Show the revisions that have more than one next revision, or with
    --declared the registry of named branches.
    """
    if declared:
        _echo_table(
            ["branch", "bind", "path", "depends on", "description"],
            [
                [
                    b.name,
                    b.bind,
                    _show_path(b.path),
                    ", ".join(b.depends_on) or "-",
                    b.description or "-",
                ]
                for b in alembic.registry
            ],
        )
        return

    get_revision = alembic.script_directory.get_revision

    for rev in alembic.branches():
        click.echo(_format(rev, verbose))

        for next_id in rev.nextrev:
            next_rev = get_revision(next_id)
            assert next_rev is not None
            click.echo(f"    -> {_format(next_rev, False)}")


@cli.command()
@click.option("--start", default="base", help="Show since this revision.")
@click.option("--end", default="heads", help="Show until this revision.")
@branch_option
@bind_option
@verbose_option
@json_option
@pass_alembic
def log(
    alembic: Alembic,
    start: str,
    end: str,
    branch: str | None,
    binds: list[str] | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Show the revisions in the order they will run, newest first."""
    revisions = alembic.log(start, end, branch, binds)

    if as_json:
        _echo_json(documents.revisions("log", revisions, current_app.root_path))
        return

    _echo_all(revisions, verbose)


def _check_collapse(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value in (1, 2):
        raise click.BadParameter(
            f"{value} would not make a line shorter. Use 0 to show every"
            " revision, or 3 or more."
        )

    return value


@cli.command()
@click.option(
    "-f",
    "--format",
    type=click.Choice(["ascii", "mermaid", "dot"]),
    default="ascii",
    show_default=True,
    help="Text for a terminal, a Mermaid flowchart for Markdown (a README on"
    " GitHub renders it), or a Graphviz graph.",
)
@branch_option
@bind_option
@click.option(
    "--collapse",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    metavar="N",
    callback=_check_collapse,
    help="Shorten each straight line of more than N revisions to its first"
    " and last revision and a count; 0 shows every revision.",
)
@pass_alembic
def graph(
    alembic: Alembic,
    format: str,
    branch: str | None,
    binds: list[str] | None,
    collapse: int,
) -> None:
    """Draw the revision history: each revision with the first line of its
    message and the labels it declares, where it branches and merges, what
    it depends on, and the revisions each database is at. With per-bind
    histories, the revisions are grouped by bind.

    The text picture shows the newest revisions first: "*" is a revision,
    ":" stands for a shortened line, and the lines below each revision lead
    to its parents. "(depends on ...)" lists a revision's depends_on, and
    "[current: ...]" the databases at it. Mermaid and Graphviz draw
    depends_on as dashed arrows and the revisions databases are at with a
    thick border. A database that cannot be connected to is not marked.
    """
    picture = alembic.graph(format, binds, branch, collapse)

    if picture:
        click.echo(picture, nl=False)
    else:
        click.echo("No revisions.")


@cli.command()
@branch_option
@bind_option
@json_option
@pass_alembic
def status(
    alembic: Alembic, branch: str | None, binds: list[str] | None, as_json: bool
) -> None:
    """Show where each branch stands: its head, the revision the database is
    at, and how many revisions are pending.
    """
    rows = alembic.status(branch, binds)

    if as_json:
        _echo_json(documents.status(rows, current_app.root_path))
        return

    _echo_table(
        ["branch", "bind", "path", "head", "current", "pending"],
        [
            [
                row.branch,
                row.bind,
                _show_path(row.path),
                ", ".join(row.heads) or "-",
                ", ".join(row.current) or "-",
                str(len(row.pending)),
            ]
            for row in rows
        ],
    )
    behind = [row for row in rows if row.pending]
    count = sum(len(row.pending) for row in behind)

    if not behind:
        click.echo(f"Up to date: {_plural(len(rows), 'branch', 'branches')}.")
    else:
        click.echo(
            f"{_plural(count, 'revision')} pending on"
            f" {_plural(len(behind), 'branch', 'branches')}."
            " Run 'flask db upgrade' to apply them."
        )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _show_path(path: str) -> str:
    """A path relative to the app's root where it is inside it."""
    return show_path(path, current_app.root_path) or "-"


def _echo_table(header: list[str], rows: list[list[str]], indent: str = "") -> None:
    """Print rows in aligned columns, under a header unless it is empty."""
    lines = [header, *rows] if header else rows
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]

    for row in lines:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo(indent + "  ".join(cells).rstrip())


@cli.command()
@click.argument("revisions", nargs=-1)
@pass_alembic
def show(alembic: Alembic, revisions: tuple[str, ...]) -> None:
    """Show the given revisions."""
    script = alembic.script_directory

    with translate_errors(script):
        found = script.get_revisions(revisions)

    for rev in found:
        if rev is not None:
            click.echo(rev.cmd_format(True))


@cli.command()
@bind_option
@json_option
@pass_alembic
@click.pass_context
def check(
    ctx: click.Context, alembic: Alembic, binds: list[str] | None, as_json: bool
) -> None:
    """Check whether the models differ from the database, and show how."""
    by_database = alembic.diffs(binds)

    if as_json:
        _echo_json(documents.check(by_database, _describe))

        if any(by_database.values()):
            ctx.exit(1)

        return

    if not any(by_database.values()):
        click.echo("No changes detected.")
        return

    click.echo("Changes detected.")

    for name, diffs in by_database.items():
        indent = "  "

        if len(by_database) > 1:
            if not diffs:
                continue

            click.echo(f"  {name}:")
            indent = "    "

        for line in describe_diffs(diffs):
            click.echo(indent + line)

    ctx.exit(1)


@cli.command()
@click.option(
    "--no-database", is_flag=True, help="Check the files only, without connecting."
)
@json_option
@pass_alembic
@click.pass_context
def verify(
    ctx: click.Context, alembic: Alembic, no_database: bool, as_json: bool
) -> None:
    """Check the revision history and each database's record of it. Prints
    one line per problem and exits 1 if there is any.
    """
    problems = alembic.verify(database=not no_database)

    if as_json:
        _echo_json(documents.verify(problems))

        if problems:
            ctx.exit(1)

        return

    for problem in problems:
        click.echo(str(problem))

    if problems:
        click.echo(f"{_plural(len(problems), 'problem')} found.")
        ctx.exit(1)

    click.echo("No problems found.")


sql_option = click.option(
    "--sql",
    is_flag=True,
    help="Print the SQL instead of running it, without connecting. TARGET may"
    " be START:TARGET.",
)
output_dir_option = click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="With --sql, write one file per bind, BIND.sql, into this directory.",
)
plan_option = click.option(
    "--plan",
    is_flag=True,
    help="Show the revisions that would run on each bind, without running them.",
)
traceback_option = click.option(
    "-v", "--verbose", is_flag=True, help="Show the traceback of a failure."
)
plan_json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="With --plan, print the plan as one JSON document.",
)


@cli.command()
@click.argument("target", default="heads")
@bind_option
@click.option(
    "--purge",
    is_flag=True,
    help="Empty the version table first, even of unknown revisions.",
)
@sql_option
@output_dir_option
@traceback_option
@pass_alembic
def stamp(
    alembic: Alembic,
    target: str,
    binds: list[str] | None,
    purge: bool,
    sql: bool,
    output_dir: str | None,
    verbose: bool,
) -> None:
    """Set the current revision without running migrations."""
    if sql:
        if purge:
            raise click.UsageError("--purge cannot be used with --sql.")

        _echo_sql(alembic.sql("stamp", target, binds), output_dir)
        return

    _echo_runs(alembic.stamp(target, binds, purge=purge))


F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def movement_options(f: F) -> F:
    """The options ``upgrade`` and ``downgrade`` share."""
    for option in (
        pass_alembic,
        traceback_option,
        plan_json_option,
        plan_option,
        output_dir_option,
        sql_option,
        bind_option,
    ):
        f = t.cast(F, option(f))

    return f


@cli.command()
@click.argument("target", default="heads")
@movement_options
def upgrade(alembic: Alembic, target: str, **options: t.Any) -> None:
    """Run migrations to upgrade the database.

    With per-bind histories, each bind goes to the heads of its own
    branches, binds that others depend on first.
    """
    _move(alembic, "upgrade", target, **options)


@cli.command()
@click.argument("target", required=False)
@movement_options
def downgrade(alembic: Alembic, target: str | None, **options: t.Any) -> None:
    """Run migrations to downgrade the database.

    TARGET is a revision, or a number of revisions to go down (1 by
    default). With per-bind histories, a number needs --bind. With --sql,
    TARGET is START:TARGET.
    """
    _move(alembic, "downgrade", target, **options)


def _move(
    alembic: Alembic,
    operation: str,
    target: str | None,
    *,
    binds: list[str] | None,
    sql: bool,
    output_dir: str | None,
    plan: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    if sql and plan:
        raise click.UsageError("--sql and --plan cannot be used together.")

    if output_dir is not None and not sql:
        raise click.UsageError("--output-dir needs --sql.")

    if as_json and not plan:
        raise click.UsageError("--json needs --plan.")

    if plan:
        plans = alembic.plan(operation, target, binds)

        if as_json:
            _echo_json(documents.plan(operation, plans, current_app.root_path))
        else:
            _echo_plan(plans)
    elif sql:
        if target is None:
            raise click.UsageError(
                "Offline downgrade needs START:TARGET, such as 'heads:-1'."
            )

        _echo_sql(alembic.sql(operation, target, binds), output_dir)
    elif operation == "upgrade":
        _echo_runs(alembic.upgrade(target or "heads", binds))
    else:
        _echo_runs(alembic.downgrade(target or "-1", binds))


def _echo_runs(runs: cabc.Mapping[str, BindRun]) -> None:
    """Print what each database ran, on stderr after Alembic's progress
    lines, so that standard output stays empty.
    """
    for run in runs.values():
        click.echo(_summary(run), err=True)


def _summary(run: BindRun) -> str:
    at = ", ".join(run.after) or "<base>"

    if run.operation == "stamp":
        return f"Bind '{run.bind}': stamped at {at}."

    if not run.revisions:
        return f"Bind '{run.bind}': at {at}, nothing to {run.operation}."

    done = "applied" if run.operation == "upgrade" else "downgraded"
    count = _plural(len(run.revisions), "revision")
    return f"Bind '{run.bind}': {count} {done} in {run.seconds:.2f} s."


def _echo_plan(plans: cabc.Mapping[str, BindPlan]) -> None:
    for plan in plans.values():
        at = ", ".join(plan.current) or "<base>"

        if not plan.revisions:
            click.echo(f"{plan.bind}: at {at}, nothing to {plan.operation}")
            continue

        count = _plural(len(plan.revisions), "revision")
        click.echo(f"{plan.bind}: at {at}, {count} to {plan.operation}")
        _echo_table(
            [],
            [
                [rev.revision, rev.doc or "", _show_path(rev.path)]
                for rev in plan.revisions
            ],
            indent="  ",
        )


def _echo_sql(by_bind: cabc.Mapping[str, str], output_dir: str | None) -> None:
    """Print each bind's SQL, under a heading when there are several, or
    write it to ``BIND.sql`` files, each whole or not at all.
    """
    if output_dir is None:
        for name, text in by_bind.items():
            if len(by_bind) > 1:
                click.echo(f"-- Bind '{name}'")

            click.echo(text, nl=False)

        return

    os.makedirs(output_dir, exist_ok=True)

    for name, text in by_bind.items():
        path = os.path.join(output_dir, f"{name}.sql")
        partial = f"{path}.tmp"

        with open(partial, "w", encoding="utf-8") as file:
            file.write(text)

        os.replace(partial, path)
        click.echo(f"Wrote {path}")


@cli.command()
@click.argument("message")
@click.option("--empty", is_flag=True, help="Create an empty script.")
@click.option(
    "-b", "--branch", default="default", help="Use this independent branch name."
)
@click.option(
    "-p",
    "--parent",
    multiple=True,
    default=["head"],
    help="Parent revision(s) of this revision.",
)
@click.option("--splice", is_flag=True, help="Allow a non-head parent revision.")
@click.option(
    "-d", "--depend", multiple=True, help="Revision(s) this revision depends on."
)
@click.option("-l", "--label", multiple=True, help="Label(s) to apply to the revision.")
@click.option("--path", help="Where to store the revision.")
@click.option(
    "--bind",
    metavar="NAME",
    help="With per-bind histories, compare this bind's models and database"
    " and add to its branch.",
)
@pass_alembic
def revision(
    alembic: Alembic,
    message: str,
    empty: bool,
    branch: str,
    parent: tuple[str, ...],
    splice: bool,
    depend: tuple[str, ...],
    label: tuple[str, ...],
    path: str | None,
    bind: str | None,
) -> None:
    """Generate a new revision."""
    try:
        scripts = alembic.revision(
            message,
            empty=empty,
            branch=branch,
            parent=list(parent),
            splice=splice,
            depend=list(depend) or None,
            label=list(label),
            path=path,
            bind=bind,
        )
    except MultipleHeadsError as e:
        # The library's message suggests 'heads', which is not a parent.
        # Name the option that picks one instead.
        heads = ", ".join(e.heads)
        raise click.ClickException(
            f"Branch '{branch}' has several heads ({heads}), so the parent of"
            " the new revision is ambiguous. Pass one with '--parent', or run"
            " 'flask db merge' to join them first."
        ) from e

    _echo_generated(scripts)


@cli.command()
@click.argument("revisions", nargs=-1)
@click.option("-m", "--message", help="Description of the merge.")
@click.option("-l", "--label", multiple=True, help="Label(s) to apply to the revision.")
@pass_alembic
def merge(
    alembic: Alembic,
    revisions: tuple[str, ...],
    message: str | None,
    label: tuple[str, ...],
) -> None:
    """Generate a merge revision."""
    _echo_generated([alembic.merge(list(revisions) or "heads", message, list(label))])


def _echo_generated(scripts: cabc.Iterable[Script | None]) -> None:
    for script in scripts:
        if script is not None:
            click.echo(f"Generating {script.path} ...  done")


def _format(rev: Script, verbose: bool) -> str:
    return rev.cmd_format(
        verbose,
        include_branches=True,
        include_doc=True,
        include_parents=True,
        tree_indicators=True,
    )


def _echo_all(revisions: cabc.Iterable[Script], verbose: bool) -> None:
    # One write: echo flushes each time, 3000 revisions took 16 ms more.
    lines = [_format(rev, verbose) for rev in revisions]

    if lines:
        click.echo("\n".join(lines))


def describe_diffs(diffs: cabc.Iterable[t.Any]) -> list[str]:
    """Describe autogenerate's differences in words, one line each."""
    lines = []

    for diff in diffs:
        if isinstance(diff, list):
            lines.extend(describe_diffs(diff))
        else:
            lines.append(_describe(diff))

    return lines


def _describe(diff: tuple[t.Any, ...]) -> str:
    kind = diff[0]
    action, _, what = kind.partition("_")
    verb = {"add": "added", "remove": "removed"}.get(action)

    if kind in ("add_table", "remove_table"):
        return f"{verb} table '{_table_name(diff[1])}'"

    if kind in ("add_column", "remove_column"):
        return f"{verb} column '{_qualify(diff[1], diff[2])}.{diff[3].name}'"

    if kind in ("add_index", "remove_index"):
        return f"{verb} index '{diff[1].name}' on '{_table_name(diff[1].table)}'"

    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        noun = "foreign key" if what == "fk" else "constraint"
        name = f" '{constraint.name}'" if constraint.name else ""
        return f"{verb} {noun}{name} on '{_table_name(constraint.table)}'"

    if kind in ("add_table_comment", "remove_table_comment"):
        return f"{verb} comment on table '{_table_name(diff[1])}'"

    if action == "modify":
        column = f"{_qualify(diff[1], diff[2])}.{diff[3]}"
        noun = {"nullable": "nullable", "default": "server default"}.get(what, what)
        old, new = _show_value(diff[5]), _show_value(diff[6])
        return f"changed {noun} of '{column}' from {old} to {new}"

    if len(diff) == 1:
        return str(kind)

    return f"{kind} {diff[1:]!r}"


def _show_value(value: t.Any) -> str:
    """A readable form of a type, nullability or server default."""
    arg = getattr(value, "arg", value)
    return repr(getattr(arg, "text", arg)) if arg is not value else repr(value)


def _table_name(table: sa.Table) -> str:
    return _qualify(table.schema, table.name)


def _qualify(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


@contextlib.contextmanager
def _progress_logging() -> cabc.Iterator[None]:
    """Show Alembic's progress lines while a command runs.

    Where the application has not set the levels, ``alembic`` logs at INFO and
    the noisy loggers at WARNING, for the command only. A handler printing to
    stderr is added unless one the application configured already prints to
    the terminal, so no line shows twice and the application's own handlers
    still receive every record. Everything is restored afterwards.
    """
    loggers = [logging.getLogger(name) for name in _PROGRESS_LOGGERS]
    levels = dict.fromkeys(_PROGRESS_LOGGERS, logging.INFO)
    levels.update(dict.fromkeys(_NOISY_LOGGERS, logging.WARNING))
    saved = {name: logging.getLogger(name).level for name in levels}

    for name, level in levels.items():
        if saved[name] == logging.NOTSET:
            logging.getLogger(name).setLevel(level)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    added = [logger for logger in loggers if not _prints_to_terminal(logger)]

    for logger in added:
        logger.addHandler(handler)

    try:
        yield
    finally:
        for logger in added:
            logger.removeHandler(handler)

        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _prints_to_terminal(logger: logging.Logger) -> bool:
    """Whether a handler on the logger's path writes INFO records to
    stdout or stderr.
    """
    current: logging.Logger | None = logger

    while current is not None:
        for handler in current.handlers:
            stream = getattr(handler, "stream", None)

            if (
                isinstance(handler, logging.StreamHandler)
                and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
                and handler.level <= logging.INFO
            ):
                return True

        if not current.propagate:
            break

        current = current.parent

    return False


# Flask-Migrate's command names, registered on the group above.
from . import cli_flask_migrate as _cli_flask_migrate  # noqa: E402, F401
