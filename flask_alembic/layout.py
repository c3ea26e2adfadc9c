"""Where the ``default`` branch's revisions are: in ``script_location``, as
Flask-Alembic has always kept them, or in ``script_location/versions``, as
Flask-Migrate (and ``alembic init``) lay a project out. And which files of
those tools are left in ``script_location`` unused.

A project moving from Flask-Migrate keeps its ``migrations`` directory as it
is. Its ``env.py`` and ``alembic.ini`` are never executed or read: the
migration environment comes from the app. They are reported once per process,
so the user knows to delete them.

No Flask here: the extension passes the settings and the app's root path in.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import logging
import os

from .config import AlembicSettings
from .config import bind_path
from .config import branch_path
from .config import DEFAULT_BIND
from .config import resolve_path
from .history import looks_like_revision

logger = logging.getLogger(__name__)

#: The subdirectory Flask-Migrate keeps revisions in.
VERSIONS = "versions"

#: Files Flask-Migrate and ``alembic init`` write into the script location,
#: which Flask-Alembic replaces with the app's configuration.
UNUSED_FILES = ("env.py", "alembic.ini")

#: The sets of unused files already reported by this process.
_reported: set[tuple[str, ...]] = set()


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a project's migrations directory is laid out."""

    #: The directory of the ``default`` branch's revisions when it is not
    #: ``script_location`` itself: ``script_location/versions`` in
    #: Flask-Migrate's layout. ``None`` in Flask-Alembic's.
    versions: str | None = None
    #: The absolute paths of ``env.py`` and ``alembic.ini`` files found in
    #: ``script_location``, which are not used.
    unused: tuple[str, ...] = ()

    @property
    def flask_migrate(self) -> bool:
        """Whether the revisions are in Flask-Migrate's ``versions``
        directory.
        """
        return self.versions is not None


def find_layout(settings: AlembicSettings, root_path: str) -> Layout:
    """Find how the migrations directory is laid out.

    It is Flask-Migrate's layout when ``script_location`` has a ``versions``
    directory, an ``env.py`` or an ``alembic.ini``, holds no revision file
    itself, and ``versions`` is not a path the configuration gives to
    something else (a version location, a branch or a bind). Otherwise it is
    Flask-Alembic's, and revisions are in ``script_location``, as before.
    A ``package:path`` script location is always Flask-Alembic's.

    :param settings: The validated ``ALEMBIC`` configuration.
    :param root_path: The application's root path.
    """
    script_location = resolve_path(settings.script_location, root_path)

    if not os.path.isabs(script_location):
        return Layout()

    unused = tuple(
        path
        for path in (os.path.join(script_location, name) for name in UNUSED_FILES)
        if os.path.isfile(path)
    )
    versions = os.path.join(script_location, VERSIONS)

    if not (unused or os.path.isdir(versions)):
        return Layout()

    if _claimed(versions, settings, root_path) or _holds_revisions(script_location):
        return Layout(unused=unused)

    return Layout(versions, unused)


def _claimed(directory: str, settings: AlembicSettings, root_path: str) -> bool:
    """Whether the configuration already names the directory as a version
    location, a branch's path or a bind's path.
    """
    paths = [
        item if isinstance(item, str) else item[1]
        for item in settings.version_locations
    ]
    paths.extend(
        branch_path(settings, name, branch)
        for name, branch in settings.branches.items()
    )
    paths.extend(
        bind_path(settings, name) for name in settings.binds if name != DEFAULT_BIND
    )
    real = os.path.realpath(directory)
    return any(
        os.path.realpath(resolve_path(path, root_path)) == real for path in paths
    )


def _holds_revisions(directory: str) -> bool:
    """Whether a directory itself holds a revision file, besides ``env.py``.
    The files are read as text, not executed.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return False

    return any(
        name.endswith(".py")
        and name not in UNUSED_FILES
        and looks_like_revision(os.path.join(directory, name))
        for name in names
    )


def unused_message(paths: cabc.Sequence[str], show: cabc.Callable[[str], str]) -> str:
    """Say that files are not used, and what to do with them instead.

    :param paths: Absolute paths of ``env.py`` and ``alembic.ini`` files.
    :param show: Turns an absolute path into the form messages show it in.
    """
    shown = [show(path) for path in paths]
    names = " and ".join(shown)
    verb = "is" if len(shown) == 1 else "are"
    settings = []

    if any(path.endswith("alembic.ini") for path in paths):
        settings.append("alembic.ini's [alembic] options go in app.config['ALEMBIC']")

    if any(path.endswith("env.py") for path in paths):
        settings.append(
            "the options env.py passes to context.configure() go in"
            " app.config['ALEMBIC_CONTEXT']"
        )

    return (
        f"{names} {verb} not used: Flask-Alembic builds the migration"
        f" environment from the app. Delete {'it' if len(shown) == 1 else 'them'};"
        f" {' and '.join(settings)}. See 'Switching from Flask-Migrate' in the"
        " Flask-Alembic documentation."
    )


def report_unused(layout: Layout, show: cabc.Callable[[str], str]) -> bool:
    """Log a warning about the layout's unused files, once per process for
    each set of files.

    :param layout: The layout found by :func:`find_layout`.
    :param show: Turns an absolute path into the form messages show it in.
    :return: Whether a warning was logged.
    """
    if not layout.unused or layout.unused in _reported:
        return False

    _reported.add(layout.unused)
    logger.warning("%s", unused_message(layout.unused, show))
    return True
