"""The exceptions raised by flask_alembic.

Every exception derives from :class:`FlaskAlembicError`. Each subclass carries
the data it is about and builds a message a user can act on. Where
Flask-Alembic 3.x raised a built-in or Alembic exception for the same mistake,
the subclass derives from that too, so existing ``except`` clauses keep
working.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing as t

import click
from alembic.util import CommandError


class FlaskAlembicError(Exception):
    """The base class of every error flask_alembic raises."""


class ConfigError(FlaskAlembicError, ValueError, click.ClickException):
    """The ``ALEMBIC`` or ``ALEMBIC_CONTEXT`` configuration is invalid.

    It is also a :exc:`click.ClickException`, so that when ``init_app``
    raises it while the ``flask`` command loads the app, the command prints
    the problems after ``Error:`` and exits 1, without a traceback.

    :param problems: ``(key path, problem)`` pairs, such as
        ``("ALEMBIC.script_location", "Input should be a valid string")``.

    .. versionadded:: 4.0
    """

    def __init__(self, problems: t.Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"The Alembic configuration has {count} {noun}:"]
        lines.extend(f"  {path}: {problem}" for path, problem in self.problems)
        click.ClickException.__init__(self, "\n".join(lines))


class TargetError(FlaskAlembicError, RuntimeError):
    """The engines or metadata to migrate could not be found.

    .. versionadded:: 4.0
    """


class DatabaseError(FlaskAlembicError):
    """A database could not be used: it is unreachable, refused the
    credentials, or its driver is not installed.

    :param name: The name of the database, such as ``"default"``.
    :param url: The database URL with its password masked.
    :param reason: What went wrong, in one line.
    :param fix: What the user can do about it.

    .. versionadded:: 4.0
    """

    def __init__(self, name: str, url: str, reason: str, fix: str) -> None:
        self.name = name
        self.url = url
        self.reason = reason
        self.fix = fix
        super().__init__(f"Could not use database '{name}' ({url}): {reason}. {fix}")


class LockTimeoutError(FlaskAlembicError):
    """Another process held a database's migration lock for longer than
    ``ALEMBIC["lock_timeout"]``. No revision was read and nothing was written.

    :param name: The bind whose lock was held.
    :param url: Its URL, with the password masked.
    :param timeout: How long was waited, in seconds.
    :param holder: Who holds the lock, where the database can tell.

    .. versionadded:: 4.0
    """

    def __init__(self, name: str, url: str, timeout: float, holder: str | None) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self.holder = holder
        held = f"held by {holder}" if holder else "held by another process"
        super().__init__(
            f"Gave up after {timeout:g} s waiting for the migration lock of bind"
            f" '{name}' ({url}), {held}. Nothing was changed. Run the command"
            " again once that migration has finished, or raise"
            " ALEMBIC['lock_timeout']."
        )


class RevisionError(FlaskAlembicError, CommandError):
    """A revision could not be found, resolved or generated.

    Derives from :class:`alembic.util.CommandError`, which Flask-Alembic 3.x
    let through for the same mistakes.

    .. versionadded:: 4.0
    """


class UnknownRevisionError(RevisionError):
    """No revision matches what was asked for.

    :param revision: The identifier that matched nothing.
    :param possibilities: Known identifiers close to it.
    """

    def __init__(self, revision: str, possibilities: t.Sequence[str] = ()) -> None:
        self.revision = revision
        self.possibilities = list(possibilities)
        message = f"Can't locate revision identified by '{revision}'."

        if self.possibilities:
            quoted = ", ".join(f"'{p}'" for p in self.possibilities)
            message += f" Did you mean {quoted}?"

        message += " Run 'flask db log' to list the revisions."
        super().__init__(message)


class MultipleHeadsError(RevisionError):
    """A single revision was needed but several heads match.

    :param heads: The head revision ids.
    :param argument: What the user asked for, such as ``"head"``.
    """

    def __init__(self, heads: t.Sequence[str], argument: str) -> None:
        self.heads = list(heads)
        self.argument = argument
        joined = ", ".join(self.heads)
        super().__init__(
            f"'{argument}' matches several head revisions ({joined}). Name one"
            " revision, use 'heads' for all of them, or run 'flask db merge' to"
            " join them."
        )


class DuplicateRevisionIdError(RevisionError):
    """A new revision id is already used by an existing revision.

    :param revision: The id that is already taken.
    """

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"The revision id '{revision}' is already used. Make 'rev_id' return"
            " an id that is not in the history."
        )


class NotUpToDateError(FlaskAlembicError, CommandError):
    """A database is not at the head revisions, so models cannot be
    compared with it.

    :param name: The name of the database.
    :param current: The revisions the database is at.
    :param pending: The revisions that have not been applied, in order.
    """

    def __init__(
        self, name: str, current: t.Sequence[str], pending: t.Sequence[str]
    ) -> None:
        self.name = name
        self.current = list(current)
        self.pending = list(pending)
        count = len(self.pending)
        noun = "revision" if count == 1 else "revisions"
        joined = ", ".join(self.pending)
        super().__init__(
            f"Database '{name}' is not up to date: {count} pending {noun}"
            f" ({joined}). Run 'flask db upgrade' first."
        )


class UnknownBranchError(RevisionError):
    """A branch name is neither declared nor found in the history.

    :param name: The name that matched nothing.
    :param known: The branch names that exist.
    :param possibilities: Known names close to it.

    .. versionadded:: 4.0
    """

    def __init__(
        self, name: str, known: t.Sequence[str], possibilities: t.Sequence[str] = ()
    ) -> None:
        self.name = name
        self.known = list(known)
        self.possibilities = list(possibilities)
        message = f"Unknown branch '{name}'."

        if self.possibilities:
            quoted = ", ".join(f"'{p}'" for p in self.possibilities)
            message += f" Did you mean {quoted}?"

        message += f" The branches are: {', '.join(self.known)}."
        message += " Declare new branches in ALEMBIC['branches']."
        super().__init__(message)


class UnknownBindError(FlaskAlembicError, KeyError):
    """A bind name is not one of the application's databases.

    :param name: The name that matched nothing.
    :param known: The bind names.

    .. versionadded:: 4.0
    """

    def __init__(self, name: str, known: t.Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        message = f"Unknown bind '{name}'."
        close = difflib.get_close_matches(name, self.known, n=1, cutoff=0.6)

        if close:
            message += f" Did you mean '{close[0]}'?"

        message += f" The binds are: {', '.join(self.known)}."
        super().__init__(message)

    def __str__(self) -> str:
        # KeyError would show the message in quotes.
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class BindOutcome:
    """Where one bind stands after a run of migrations failed.

    .. versionadded:: 4.0
    """

    #: The bind's name.
    name: str
    #: ``"done"``, ``"failed"``, ``"rolled back"`` (done, then undone with
    #: the failed one in a shared history) or ``"not started"``.
    state: str
    #: The revision ids the bind was at before the run.
    before: tuple[str, ...]
    #: The revision ids it is at now, or ``None`` if they could not be read.
    now: tuple[str, ...] | None


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the revision history or a database's record of
    it, as :meth:`.Alembic.verify` reports it.

    .. versionadded:: 4.0
    """

    #: What is wrong: ``"unloadable"``, ``"duplicate-id"``,
    #: ``"missing-revision"``, ``"cycle"``, ``"multiple-heads"``,
    #: ``"unowned-file"``, ``"unknown-revision-in-database"``,
    #: ``"no-version-table"`` or ``"unreachable"``.
    kind: str
    #: One line naming the files and ids, and what to do.
    message: str
    #: The files it is about.
    paths: tuple[str, ...] = ()
    #: The revision ids it is about.
    revisions: tuple[str, ...] = ()
    #: The bind it is about, for a problem found in a database.
    bind: str | None = None

    def __str__(self) -> str:
        return self.message


class HistoryError(FlaskAlembicError, CommandError):
    """The revision history has problems that keep it from being used:
    files that do not load, duplicate ids, references to revisions that do
    not exist, cycles, or (before ``upgrade``) what ``verify`` finds.

    :param problems: What is wrong, one item each.

    .. versionadded:: 4.0
    """

    def __init__(self, problems: t.Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"The revision history has {count} {noun}:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        lines.append("Fix them, then run 'flask db verify' to check.")
        super().__init__("\n".join(lines))


class MigrationError(FlaskAlembicError):
    """A revision failed while it ran on a bind. The exception it raised is
    the ``__cause__``.

    :param operation: ``"upgrade"``, ``"downgrade"`` or ``"stamp"``.
    :param bind: The bind it failed on.
    :param revision: The id of the revision that failed, or ``None`` if the
        failure came after the last one, when committing.
    :param doc: The revision's message.
    :param path: The revision's file.
    :param reason: What went wrong, in one line, without passwords.
    :param outcomes: Where every bind the run was to touch stands now, in the
        order they were to run.
    :param partial: Whether the failed revision may be partly applied, as on
        databases whose DDL statements commit themselves (MySQL, MariaDB).
    :param url: The failed bind's URL, with its password masked.
    :param dialect: The failed bind's dialect, such as ``"postgresql"``.

    .. versionadded:: 4.0
    """

    def __init__(
        self,
        operation: str,
        bind: str,
        revision: str | None,
        doc: str | None,
        path: str | None,
        reason: str,
        outcomes: t.Sequence[BindOutcome],
        partial: bool = False,
        url: str | None = None,
        dialect: str | None = None,
    ) -> None:
        self.url = url
        self.dialect = dialect
        self.operation = operation
        self.bind = bind
        self.revision = revision
        self.doc = doc
        self.path = path
        self.reason = reason
        self.outcomes = list(outcomes)
        self.partial = partial
        super().__init__(self._message())

    def _message(self) -> str:
        where = "while committing"

        if self.revision is not None:
            where = f"at revision {self.revision}"

            if self.doc:
                where += f' "{self.doc}"'

            if self.path:
                where += f" ({self.path})"

        lines = [
            f"{_VERBS.get(self.operation, 'Migration')} failed on bind"
            f" '{self.bind}' {where}:",
            f"  {self.reason}",
        ]

        if self.url:
            database = f"{self.dialect}, {self.url}" if self.dialect else self.url
            lines.append(f"  Database: {database}")

        lines.append("Where each bind is now:")
        width = max(len(o.name) for o in self.outcomes)

        for outcome in self.outcomes:
            lines.append(f"  {outcome.name.ljust(width)}  {self._describe(outcome)}")

        if self.operation in ("upgrade", "downgrade", "stamp"):
            hint = f"Fix the cause, then run 'flask db {self.operation}' again"

            if len(self.outcomes) > 1:
                hint += ": binds that are done have nothing left to run"

            lines.append(hint + ".")

        return "\n".join(lines)

    def _describe(self, outcome: BindOutcome) -> str:
        before = _heads(outcome.before)

        if outcome.now is None:
            return (
                f"{outcome.state}; could not read its revision (it was at"
                f" {before}). Run 'flask db current' to see it."
            )

        now = _heads(outcome.now)

        if outcome.state == "not started":
            return f"not started, at {now}"

        if outcome.state != "failed":
            return f"{outcome.state}, at {now}"

        if outcome.now != outcome.before:
            text = (
                f"failed, at {now}: the revisions before {self.revision} were"
                f" applied and kept (it started at {before})"
            )
        elif self.partial:
            text = f"failed, still at {now}"
        else:
            text = f"failed, rolled back to {now}, where it started"

        if self.partial and self.revision is not None:
            text += (
                f"; {self.revision} may be partly applied, since this database"
                " commits each DDL statement by itself: check the database"
            )

        return text


_VERBS = {"upgrade": "Upgrade", "downgrade": "Downgrade", "stamp": "Stamp"}


def _heads(ids: t.Sequence[str]) -> str:
    return ", ".join(ids) if ids else "<base>"
