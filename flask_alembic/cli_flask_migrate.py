"""Flask-Migrate's command names, for people who type them by habit:
``flask db init``, ``migrate``, ``history`` and ``edit``.

Each prints one ``Note:`` line on stderr saying what it runs, then runs the
Flask-Alembic command. Flask-Migrate's options that have an equivalent are
accepted and passed on; the others are refused with one ``Error:`` line that
says where the setting goes instead. ``flask db --help`` lists the commands in
a section of their own.
"""

from __future__ import annotations

import os
import typing as t

import click
from alembic.script import Script
from flask import current_app

from ._alembic import translate_errors
from .cli import _Command
from .cli import cli
from .cli import log
from .cli import mkdir
from .cli import pass_alembic
from .cli import revision
from .config import show_path

if t.TYPE_CHECKING:
    from .extension import Alembic


class FlaskMigrateCommand(_Command):
    """A command under Flask-Migrate's name, which says what it runs before
    running it.

    :param note: What the command does, completing "Note: 'flask db NAME' is
        Flask-Migrate's name; ". ``{group}`` is replaced by the group's name.
    """

    section = "Flask-Migrate names"

    def __init__(self, *args: t.Any, note: str, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.note = note

    def invoke(self, ctx: click.Context) -> t.Any:
        group = _group_name(ctx)
        click.echo(
            f"Note: 'flask {group} {ctx.info_name}' is Flask-Migrate's name;"
            f" {self.note.format(group=group)}",
            err=True,
        )
        return super().invoke(ctx)


def _group_name(ctx: click.Context) -> str:
    """The name the ``db`` group was invoked under."""
    return (ctx.parent.info_name if ctx.parent is not None else None) or "db"


directory_option = click.option(
    "-d",
    "--directory",
    metavar="DIR",
    help="Flask-Migrate's migrations directory. Only the configured one,"
    " ALEMBIC['script_location'], is accepted.",
)


def _check_directory(alembic: Alembic, directory: str | None) -> None:
    """Accept ``--directory`` only where it names the configured directory.

    :raise click.UsageError: Saying where the directory is configured.
    """
    if directory is None:
        return

    root = current_app.root_path
    # The directory may not exist yet, for 'init'.
    configured = alembic.config.get_main_option("script_location") or ""
    given = directory if os.path.isabs(directory) else os.path.join(root, directory)

    if os.path.realpath(given) != os.path.realpath(configured):
        raise click.UsageError(
            f"'--directory {directory}' is not the migrations directory,"
            f" '{show_path(configured, root)}'. Flask-Alembic reads it from"
            " app.config['ALEMBIC']['script_location']: set it there, and"
            " leave out --directory."
        )


def _refuse(option: str, why: str) -> t.NoReturn:
    """Refuse a Flask-Migrate option that has no equivalent.

    :raise click.UsageError: Naming the option and what to do instead.
    """
    raise click.UsageError(f"'{option}' has no equivalent in Flask-Alembic: {why}")


@cli.command(cls=FlaskMigrateCommand, note="this runs 'flask {group} mkdir'.")
@directory_option
@click.option(
    "--multidb", is_flag=True, help="Refused: no equivalent in Flask-Alembic."
)
@click.option("-t", "--template", help="Refused: no equivalent in Flask-Alembic.")
@click.option(
    "--package", is_flag=True, help="Refused: no equivalent in Flask-Alembic."
)
@pass_alembic
@click.pass_context
def init(
    ctx: click.Context,
    alembic: Alembic,
    directory: str | None,
    multidb: bool,
    template: str | None,
    package: bool,
) -> None:
    """Same as 'mkdir': create the migration directory.

    Flask-Migrate's --multidb, --template and --package have no equivalent.
    """
    _check_directory(alembic, directory)

    if multidb:
        _refuse(
            "--multidb",
            "several databases share one history when Alembic(metadatas={...})"
            " names them, or get a history each when ALEMBIC['binds'] declares"
            " them. Leave it out.",
        )

    if template is not None:
        _refuse(
            "--template",
            "the template of new revisions is script.py.mako in the migrations"
            " directory. Leave it out, and edit that file instead.",
        )

    if package:
        _refuse(
            "--package", "revisions are found without __init__.py files. Leave it out."
        )

    ctx.invoke(mkdir)


@cli.command(cls=FlaskMigrateCommand, note="this runs 'flask {group} revision'.")
@click.option(
    "-m",
    "--message",
    default="empty message",
    help="Description of the revision.",
    show_default=True,
)
@click.option(
    "--head",
    "-p",
    "--parent",
    "head",
    default="head",
    help="Parent revision of this revision, such as BRANCH@head.",
)
@click.option("--splice", is_flag=True, help="Allow a non-head parent revision.")
@click.option("--branch-label", help="A label to apply to the revision.")
@click.option("--version-path", help="Where to store the revision.")
@click.option("--rev-id", help="Refused: no equivalent in Flask-Alembic.")
@click.option("--sql", is_flag=True, help="Refused: no equivalent in Flask-Alembic.")
@click.option(
    "-x", "--x-arg", multiple=True, help="Refused: no equivalent in Flask-Alembic."
)
@directory_option
@pass_alembic
@click.pass_context
def migrate(
    ctx: click.Context,
    alembic: Alembic,
    message: str,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    sql: bool,
    x_arg: tuple[str, ...],
    directory: str | None,
) -> None:
    """Same as 'revision': autogenerate a new revision.

    --head is revision's --parent, --branch-label its --label and
    --version-path its --path. Flask-Migrate's --rev-id, --sql and --x-arg
    have no equivalent.
    """
    _check_directory(alembic, directory)

    if rev_id is not None:
        _refuse(
            "--rev-id",
            "revision ids come from the Alembic.rev_id() method, which the app"
            " can override. Leave it out.",
        )

    if sql:
        _refuse(
            "--sql",
            "a new revision is compared with the database itself. Leave it out;"
            f" 'flask {_group_name(ctx)} upgrade --sql' prints the SQL of the"
            " revisions.",
        )

    _refuse_x_arg(x_arg)
    ctx.invoke(
        revision,
        message=message,
        empty=False,
        branch="default",
        parent=(head,),
        splice=splice,
        depend=(),
        label=() if branch_label is None else (branch_label,),
        path=version_path,
        bind=None,
    )


def _refuse_x_arg(x_arg: tuple[str, ...]) -> None:
    if x_arg:
        _refuse(
            "--x-arg",
            "there is no env.py to read it. Leave it out, and put the setting"
            " in app.config['ALEMBIC_CONTEXT'].",
        )


@cli.command(cls=FlaskMigrateCommand, note="this runs 'flask {group} log'.")
@click.option(
    "-r",
    "--rev-range",
    metavar="START:END",
    help="Only the revisions in this range; START or END may be left out.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Show the full details of each revision."
)
@click.option(
    "-i",
    "--indicate-current",
    is_flag=True,
    help="Refused: no equivalent in Flask-Alembic.",
)
@directory_option
@pass_alembic
@click.pass_context
def history(
    ctx: click.Context,
    alembic: Alembic,
    rev_range: str | None,
    verbose: bool,
    indicate_current: bool,
    directory: str | None,
) -> None:
    """Same as 'log': show the revisions, newest first.

    --rev-range START:END is log's --start and --end. Flask-Migrate's
    --indicate-current has no equivalent; 'current' shows where the database
    is.
    """
    _check_directory(alembic, directory)

    if indicate_current:
        _refuse(
            "--indicate-current",
            f"'flask {_group_name(ctx)} current' shows the revisions the"
            " database is at. Leave it out.",
        )

    start, end = "base", "heads"

    if rev_range is not None:
        if ":" not in rev_range:
            raise click.UsageError(
                f"'--rev-range {rev_range}' is not a range. Write START:END,"
                " START: or :END, such as 'base:head'."
            )

        first, _, last = rev_range.strip().partition(":")
        start, end = first or start, last or end

    ctx.invoke(log, start=start, end=end, branch=None, binds=None, verbose=verbose)


@cli.command(
    cls=FlaskMigrateCommand, note="this opens the revision's file in the editor."
)
@click.argument("revision", default="head")
@directory_option
@pass_alembic
@click.pass_context
def edit(
    ctx: click.Context, alembic: Alembic, revision: str, directory: str | None
) -> None:
    """Open a revision's file in $EDITOR, the head by default.

    REVISION may be 'current', for the revisions the database is at.
    """
    _check_directory(alembic, directory)
    script = alembic.script_directory
    found: tuple[Script, ...]

    if revision == "current":
        found = alembic.current()
    else:
        with translate_errors(script):
            found = tuple(r for r in script.get_revisions(revision) if r is not None)

    if not found:
        raise click.UsageError(
            f"'{revision}' names no revision file. Run 'flask"
            f" {_group_name(ctx)} log' to list them."
        )

    for rev in found:
        click.edit(filename=rev.path)
