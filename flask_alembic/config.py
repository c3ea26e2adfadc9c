"""Validate ``app.config["ALEMBIC"]`` and ``app.config["ALEMBIC_CONTEXT"]``
into frozen models, and turn them into an Alembic :class:`~alembic.config.Config`.

No Flask here: the extension passes the two dicts and the app's root path in.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
import typing as t

import pydantic
from alembic.config import Config
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from .errors import ConfigError

#: The bind of Flask-SQLAlchemy's default engine, and of ``script_location``.
DEFAULT_BIND = "default"

#: The values Alembic accepts for ``path_separator``.
PathSeparator = t.Literal["os", "space", "newline", ":", ";"]

#: A scalar that can be written into Alembic's ini-style configuration.
Scalar = str | int | float | bool

Callback = t.Callable[..., t.Any]


class BranchSettings(BaseModel):
    """One named branch in ``ALEMBIC["branches"]``.

    .. versionadded:: 4.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        None,
        description="The directory that holds the branch's revisions. A relative"
        " path is relative to the application's root path and must stay inside"
        " it. Defaults to a directory named after the branch inside"
        " ``script_location``.",
    )
    bind: str = Field(
        "default", description="The database the branch's revisions run on."
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="Branches whose revisions must run first. The first revision"
        " of this branch depends on their heads at the time it is made.",
    )
    description: str = Field("", description="What the branch is for.")


class BindSettings(BaseModel):
    """One database with a history of its own, in ``ALEMBIC["binds"]``.

    .. versionadded:: 4.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        None,
        description="The directory that holds the revisions of the bind's"
        " branch. A relative path is relative to the application's root path"
        " and must stay inside it. Defaults to a directory named after the bind"
        " inside ``script_location``. The ``default`` bind's revisions are in"
        " ``script_location`` itself.",
    )
    version_table: str | None = Field(
        None,
        description="The table in this bind's database that records its"
        " revisions. Defaults to ``ALEMBIC_CONTEXT['version_table']``, which"
        " defaults to ``alembic_version``.",
    )
    version_table_schema: str | None = Field(
        None, description="The schema of the version table."
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="Binds to upgrade before this one (and to downgrade after it).",
    )
    context: dict[str, t.Any] = Field(
        default_factory=dict,
        description="``ALEMBIC_CONTEXT`` options for this bind only, such as"
        ' ``{"compare_type": False}``. They are checked like'
        " ``ALEMBIC_CONTEXT`` and override it.",
    )


class AlembicSettings(BaseModel):
    """The ``ALEMBIC`` configuration dict.

    Keys not listed here are passed to Alembic as they are: a scalar becomes a
    main option, a dict becomes a section (such as ``post_write_hooks``). A key
    that looks like a misspelling of a listed one is an error.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    script_location: str = Field(
        "migrations",
        description="The migrations directory. It holds ``script.py.mako`` and"
        " the revisions of the ``default`` branch. A relative path is relative"
        " to the application's root path; ``package:path`` names a directory"
        " inside an installed package. In Flask-Migrate's layout, the"
        " ``default`` branch's revisions are in its ``versions`` directory"
        " instead: when it has ``versions``, ``env.py`` or ``alembic.ini``,"
        " holds no revision file itself, and ``versions`` is not configured"
        " as another location. ``env.py`` and ``alembic.ini`` are never"
        " used. See :doc:`switching-from-flask-migrate`.",
    )
    version_locations: list[str | tuple[str, str]] = Field(
        default_factory=list,
        description="More directories that hold revisions, as paths or as"
        " ``(branch, path)`` pairs. ``revision --branch NAME`` writes the first"
        " revision of branch ``NAME`` into the path paired with it.",
    )
    path_separator: PathSeparator = Field(
        "os",
        description="How Alembic splits lists of paths in its own options."
        " Flask-Alembic passes lists as lists, so this rarely matters.",
    )
    file_template: str | None = Field(
        None,
        description="The revision file name template, such as"
        " ``%%(rev)s_%%(slug)s``. Write ``%`` as ``%%``, as in ``alembic.ini``.",
    )
    timezone: str | None = Field(
        None, description="The time zone of the ``Create Date`` in new revisions."
    )
    truncate_slug_length: int | None = Field(
        None, description="The longest slug of the message in a file name."
    )
    revision_environment: bool | None = Field(
        None,
        description="Connect to the database even for ``revision --empty``.",
    )
    sourceless: bool | None = Field(
        None, description="Find revisions that exist only as ``.pyc`` files."
    )
    output_encoding: str | None = Field(
        None, description="The encoding of generated revision files."
    )
    recursive_version_locations: bool | None = Field(
        None, description="Search version locations recursively for revisions."
    )
    prepend_sys_path: str | None = Field(
        None, description="Paths to prepend to ``sys.path`` when loading revisions."
    )
    branches: dict[str, BranchSettings] = Field(
        default_factory=dict,
        description="Named, independent lines of revisions, each in its own"
        ' directory: ``{name: {"path": ..., "depends_on": [...],'
        ' "description": ...}}``. Once any is declared, ``revision --branch``'
        " accepts only declared names (and ``default``). See :doc:`branches`.",
    )

    binds: dict[str, BindSettings] = Field(
        default_factory=dict,
        description="Databases with a history of their own:"
        ' ``{name: {"path": ..., "version_table": ..., "depends_on": [...],'
        ' "context": {...}}}``. Declaring any switches to per-bind histories:'
        " each bind gets a branch named after it and its revisions run on it"
        " only. ``default`` is always a bind. See :doc:`multiple-databases`.",
    )
    lock: bool = Field(
        True,
        description="Take a lock on each database before ``upgrade``,"
        " ``downgrade`` and ``stamp`` read its revision, so that processes"
        " starting at once apply each revision once: an advisory lock on"
        " PostgreSQL, ``GET_LOCK`` on MariaDB and MySQL, a file lock beside"
        " an SQLite file. See :doc:`deploying`.",
    )
    lock_timeout: float = Field(
        60,
        ge=0,
        description="Seconds to wait for another process's lock before the"
        " command fails, having changed nothing. ``0`` tries once.",
    )
    cache: bool = Field(
        True,
        description="Keep each revision file's header values (id, parents,"
        " labels, docstring) in ``__pycache__/flask_alembic-headers.json`` in"
        " its version location, so commands run a revision file only when"
        " they apply it. A file whose size, times or inode changed is read"
        " again. A directory that cannot be written is simply not cached."
        " See :doc:`performance`.",
    )

    #: Other Alembic main options, and dicts that become config sections.
    __pydantic_extra__: dict[str, Scalar | dict[str, Scalar]] = Field(init=False)


class ContextSettings(BaseModel):
    """The ``ALEMBIC_CONTEXT`` configuration dict: the options passed to
    :meth:`alembic.runtime.environment.EnvironmentContext.configure` for every
    database.

    Keys not listed here are passed on as they are, for custom templates and
    hooks. A key that looks like a misspelling of a listed one is an error.
    """

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)

    compare_type: bool | Callback = Field(
        True, description="Compare column types when autogenerating."
    )
    compare_server_default: bool | Callback = Field(
        True, description="Compare server defaults when autogenerating."
    )
    render_as_batch: bool | None = Field(
        None,
        description="Render ``ALTER`` operations in batch mode, which SQLite"
        " needs to change constraints. Unset (or ``None``), it is on for"
        " SQLite databases and off for the others.",
    )
    include_schemas: bool = Field(
        False, description="Compare tables in every schema, not only the default."
    )
    include_name: Callback | None = Field(
        None, description="A filter on names of reflected database objects."
    )
    include_object: Callback | None = Field(
        None, description="A filter on objects compared by autogenerate."
    )
    process_revision_directives: Callback | list[Callback] | None = Field(
        None, description="A hook that can change a revision before it is written."
    )
    render_item: Callback | None = Field(
        None, description="A hook that renders custom types in revisions."
    )
    on_version_apply: Callback | list[Callback] | None = Field(
        None, description="Called after each revision is applied."
    )
    transaction_per_migration: bool = Field(
        False, description="Run each revision in its own transaction."
    )
    transactional_ddl: bool | None = Field(
        None,
        description="Override whether the database runs DDL inside transactions.",
    )
    version_table: str = Field(
        "alembic_version", description="The table that records the revisions."
    )
    version_table_schema: str | None = Field(
        None, description="The schema of the version table."
    )
    version_table_pk: bool = Field(
        True, description="Give the version table a primary key."
    )
    literal_binds: bool = Field(
        False, description="Render bound values inline in offline SQL."
    )
    template_args: dict[str, t.Any] | None = Field(
        None, description="More variables for ``script.py.mako``."
    )
    user_module_prefix: str | None = Field(
        None, description="The prefix of user-defined types in revisions."
    )
    sqlalchemy_module_prefix: str = Field(
        "sa.", description="The prefix of SQLAlchemy names in revisions."
    )
    alembic_module_prefix: str = Field(
        "op.", description="The prefix of Alembic operations in revisions."
    )
    autogenerate_plugins: list[str] | None = Field(
        None, description="The autogenerate comparison plugins to load."
    )
    dialect_opts: dict[str, t.Any] | None = Field(
        None, description="Options for the dialect in offline mode."
    )

    def options(self) -> dict[str, t.Any]:
        """The options the user set, for ``EnvironmentContext.configure``.
        Values are passed as given, not converted to dicts.
        """
        options = {key: getattr(self, key) for key in self.model_fields_set}
        options.update(self.model_extra or {})
        return options


#: Options flask_alembic passes itself, which the user must not set.
_RESERVED_CONTEXT_KEYS = {
    "connection": "flask_alembic connects to each engine itself",
    "target_metadata": "pass 'metadatas' to Alembic() instead",
    "url": "flask_alembic takes URLs from the engines",
    "dialect_name": "flask_alembic takes the dialect from the engines",
    "as_sql": "flask_alembic runs migrations online",
    "output_buffer": "flask_alembic runs migrations online",
    "starting_rev": "flask_alembic reads the revision from each database",
}

#: Main options Alembic reads that are not fields of AlembicSettings. They are
#: known, so that misspellings of them are caught too.
_OTHER_ALEMBIC_KEYS = {"version_path_separator", "sqlalchemy.url", "hooks"}


def load_settings(
    alembic: t.Any, context: t.Any
) -> tuple[AlembicSettings, ContextSettings]:
    """Validate both configuration dicts. Every problem in either is reported
    in one :exc:`.ConfigError`.

    :param alembic: The value of ``app.config["ALEMBIC"]``.
    :param context: The value of ``app.config["ALEMBIC_CONTEXT"]``.
    """
    problems: list[tuple[str, str]] = []
    alembic_known = set(AlembicSettings.model_fields) | _OTHER_ALEMBIC_KEYS
    alembic_settings = _validate(
        AlembicSettings, "ALEMBIC", alembic, alembic_known, problems
    )
    context_settings = _validate_context("ALEMBIC_CONTEXT", context, problems)

    if alembic_settings is not None:
        for name, bind in alembic_settings.binds.items():
            key = f"ALEMBIC.binds.{name}"
            _validate_context(f"{key}.context", bind.context, problems)

            if name == DEFAULT_BIND and bind.path is not None:
                problems.append(
                    (
                        f"{key}.path",
                        "the default bind's revisions are in script_location;"
                        " set ALEMBIC['script_location'] instead",
                    )
                )

            for option in ("version_table", "version_table_schema"):
                if getattr(bind, option) is not None and option in bind.context:
                    problems.append(
                        (
                            f"{key}.context.{option}",
                            f"is also set as {key}.{option}; keep one",
                        )
                    )

        # Check a stray "%" now, with the other problems. The paths do not
        # matter here; make_alembic_config escapes them.
        problems.extend(_build_config(alembic_settings)[1])

    if problems or alembic_settings is None or context_settings is None:
        raise ConfigError(problems)

    return alembic_settings, context_settings


def _validate_context(
    name: str, data: t.Any, problems: list[tuple[str, str]]
) -> ContextSettings | None:
    """Validate an ``ALEMBIC_CONTEXT`` dict, or a bind's ``context``."""
    known = set(ContextSettings.model_fields) | {"tag"} | set(_RESERVED_CONTEXT_KEYS)
    settings = _validate(ContextSettings, name, data, known, problems)

    if isinstance(data, dict):
        for key, why in _RESERVED_CONTEXT_KEYS.items():
            if key in data:
                problems.append(
                    (f"{name}.{key}", f"is set by flask_alembic ({why}); remove it")
                )

    return settings


def bind_context_options(
    context: ContextSettings, bind: BindSettings | None
) -> dict[str, t.Any]:
    """The ``configure()`` options of one bind: ``ALEMBIC_CONTEXT``, then
    the bind's own ``context``, ``version_table`` and ``version_table_schema``.

    :param context: The validated ``ALEMBIC_CONTEXT``.
    :param bind: The bind's settings; ``None`` for a bind that is not
        declared (the ``default`` bind usually).
    """
    options = context.options()

    if bind is None:
        return options

    options.update(ContextSettings.model_validate(bind.context).options())

    for key in ("version_table", "version_table_schema"):
        value = getattr(bind, key)

        if value is not None:
            options[key] = value

    return options


_M = t.TypeVar("_M", bound=BaseModel)


def _validate(
    model: type[_M],
    name: str,
    data: t.Any,
    known: set[str],
    problems: list[tuple[str, str]],
) -> _M | None:
    """Validate one dict against its model, appending problems in place."""
    if not isinstance(data, dict):
        problems.append((name, f"must be a dict, not {type(data).__name__}"))
        return None

    typos = set()

    for key in data:
        if isinstance(key, str) and key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)

            if close:
                typos.add(key)
                problems.append(
                    (f"{name}.{key}", f"unknown key; did you mean '{close[0]}'?")
                )

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        for loc, message in _describe_errors(e.errors(), data):
            # A misspelled key is reported once, as a typo: its value was
            # meant for the key it resembles, not for an Alembic option.
            if not (loc and loc[0] in typos):
                problems.append((".".join([name, *map(str, loc)]), message))

        return None


#: How union members, named by pydantic in error locations, read in a message.
_MEMBER_NAMES = {
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "callable": "a callable",
    "list[callable]": "a list of callables",
    "tuple[str, str]": "a (branch, path) pair",
}

_Loc = tuple[str | int, ...]


def _describe_errors(errors: t.Sequence[t.Any], data: t.Any) -> list[tuple[_Loc, str]]:
    """Turn pydantic's errors into ``(key path, message)`` pairs.

    Pydantic puts the name of each union member it tried into the location,
    such as ``str`` or ``tuple[str, str]``, and reports one error per member.
    Users know keys and indexes, not member names: the member names are
    dropped, and the errors of a value that matched no member become one
    message naming what it may be. When one member matched the value's shape
    (a dict or a list) and failed further in, only that member's errors are
    kept, since they point at the actual mistake.
    """
    result: list[tuple[_Loc, str]] = []
    unions: dict[_Loc, list[tuple[str, _Loc, t.Any]]] = {}

    for error in errors:
        real, member, rest = _split_loc(error["loc"], data)

        if member is None:
            result.append((real, _pydantic_message(error)))
            continue

        if real not in unions:
            unions[real] = []
            # Keep the order pydantic reported in; filled in below.
            result.append((real, ""))

        unions[real].append((member, rest, error))

    for index, (loc, message) in enumerate(result):
        if message or loc not in unions:
            continue

        members = unions.pop(loc)
        value = _lookup(data, loc)
        deeper = [
            {**error, "loc": (*loc, *rest)}
            for _, rest, error in members
            if rest and _contains(value, rest[0])
        ]

        if deeper:
            result[index : index + 1] = _describe_errors(deeper, data)
            continue

        names: list[str] = []

        for member, _, _ in members:
            described = _MEMBER_NAMES.get(member, _generic_member(member))

            if described not in names:
                names.append(described)

        expected = (
            names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        )
        result[index] = (loc, f"Input should be {expected} (got {value!r})")

    return result


def _generic_member(member: str) -> str:
    for prefix, name in (("dict[", "a dict"), ("list[", "a list")):
        if member.startswith(prefix):
            return name

    return member


def _split_loc(
    loc: t.Sequence[str | int], data: t.Any
) -> tuple[_Loc, str | None, _Loc]:
    """Split an error location at the first union member name: the real
    keys and indexes before it, the member name, and the rest.
    """
    current = data

    for index, part in enumerate(loc):
        if isinstance(part, str) and not (
            isinstance(current, dict) and part in current
        ):
            return tuple(loc[:index]), part, tuple(loc[index + 1 :])

        current = current[part] if _contains(current, part) else None

    return tuple(loc), None, ()


def _contains(value: t.Any, part: str | int) -> bool:
    if isinstance(value, dict):
        return part in value

    if isinstance(value, (list, tuple)) and isinstance(part, int):
        return -len(value) <= part < len(value)

    return False


def _lookup(data: t.Any, loc: _Loc) -> t.Any:
    for part in loc:
        data = data[part]

    return data


def _pydantic_message(error: t.Any) -> str:
    message = str(error["msg"])

    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]

    # "a valid dictionary or instance of BindSettings": users write dicts.
    message = re.sub(r" or instance of \w+", "", message)

    if error["type"] != "value_error" and "input" in error:
        message += f" (got {error['input']!r})"

    return message


def branch_path(settings: AlembicSettings, name: str, branch: BranchSettings) -> str:
    """The configured path of a declared branch, as written or defaulted to
    ``<script_location>/<name>``.
    """
    if branch.path is not None:
        return branch.path

    return os.path.join(settings.script_location, name)


def bind_path(settings: AlembicSettings, name: str) -> str:
    """The configured path of a bind's revisions: ``script_location`` for the
    ``default`` bind, else as written or defaulted to
    ``<script_location>/<name>``.
    """
    bind = settings.binds.get(name)

    if name == DEFAULT_BIND:
        return settings.script_location

    if bind is not None and bind.path is not None:
        return bind.path

    return os.path.join(settings.script_location, name)


def resolve_path(path: str, root_path: str) -> str:
    """Make a configured path absolute, relative to the application's root.

    A ``package:path`` resource name is left for Alembic to resolve.
    """
    if os.path.isabs(path) or ":" in path:
        return path

    return os.path.join(root_path, path)


def show_path(path: str, root_path: str) -> str:
    """A path relative to the application's root where it is inside it, the
    inverse of :func:`resolve_path` for messages.
    """
    if path and os.path.isabs(path) and path.startswith(root_path + os.sep):
        return os.path.relpath(path, root_path)

    return path


def make_alembic_config(
    settings: AlembicSettings,
    root_path: str,
    databases: t.Sequence[str],
    versions: str | None = None,
) -> Config:
    """Build the Alembic config for an application.

    :param settings: The validated ``ALEMBIC`` configuration.
    :param root_path: The application's root path.
    :param databases: The names of the databases; with more than one, the
        ``databases`` option the ``multidb`` template reads is set.
    :param versions: The directory of the ``default`` branch's revisions, if
        it is not ``script_location`` (Flask-Migrate's ``versions``).
    :raise ConfigError: If a value cannot be read back, such as a ``%`` that
        is not doubled.
    """
    config, problems = _build_config(settings, root_path, databases, versions)

    if problems:
        raise ConfigError(problems)

    return config


def _build_config(
    settings: AlembicSettings,
    root_path: str = "/",
    databases: t.Sequence[str] = (),
    versions: str | None = None,
) -> tuple[Config, list[tuple[str, str]]]:
    """Build the Alembic config, and list the options whose ``%`` Alembic
    cannot read.
    """
    config = Config()
    script_location = resolve_path(settings.script_location, root_path)
    version_locations = [script_location if versions is None else versions]

    for item in settings.version_locations:
        path = item if isinstance(item, str) else item[1]
        version_locations.append(resolve_path(path, root_path))

    paths = [branch_path(settings, name, b) for name, b in settings.branches.items()]
    # The default bind's revisions are the first location already.
    paths.extend(bind_path(settings, n) for n in settings.binds if n != DEFAULT_BIND)

    for path in paths:
        path = resolve_path(path, root_path)

        if path not in version_locations:
            version_locations.append(path)

    config.set_main_option("script_location", _escape(script_location))
    config.set_main_option("path_separator", settings.path_separator)
    separator = config._get_file_separator_char("path_separator") or os.pathsep
    config.set_main_option(
        "version_locations", _escape(separator.join(version_locations))
    )
    handled = {
        "script_location",
        "path_separator",
        "version_locations",
        "branches",
        "binds",
        "lock",
        "lock_timeout",
        "cache",
    }
    bad: list[tuple[str, str]] = []

    for key, value in settings.model_dump(exclude_none=True).items():
        if key in handled:
            continue

        if isinstance(value, dict):
            for inner_key, inner_value in value.items():
                _set(config, key, inner_key, inner_value, bad)
        else:
            _set(config, config.config_ini_section, key, value, bad)

    if len(databases) > 1:
        config.set_main_option("databases", ", ".join(databases))

    # Read every option back, so a stray "%" fails at init_app instead of
    # deep inside Alembic when a revision is generated.
    parser = config.file_config

    for section in parser.sections():
        for key in parser.options(section):
            try:
                parser.get(section, key)
            except configparser.InterpolationError:
                bad.append((section, key))

    # Report in the order the keys were given, not the order they failed.
    order = [
        (section, key)
        for section in parser.sections()
        for key in parser.options(section)
    ]
    problems = []

    for section, key in sorted(set(bad), key=order.index):
        path = f"ALEMBIC.{key}"

        if section != config.config_ini_section:
            path = f"ALEMBIC.{section}.{key}"

        problems.append(
            (
                path,
                "Alembic reads '%' as the start of an interpolation; write '%%'"
                " for a literal '%' (e.g. '%%(rev)s_%%(slug)s')",
            )
        )

    return config, problems


def _set(
    config: Config, section: str, key: str, value: Scalar, bad: list[tuple[str, str]]
) -> None:
    # ConfigParser.set rejects some stray "%" at once, with a ValueError that
    # names neither the key nor the fix; the rest fail when read back.
    try:
        config.set_section_option(section, key, _to_ini(value))
    except ValueError:
        # Keep the key's place in the order of options; "" cannot fail again.
        config.set_section_option(section, key, "")
        bad.append((section, config.file_config.optionxform(key)))


def _escape(path: str) -> str:
    # Alembic reads options through ConfigParser, which treats "%" as the
    # start of an interpolation. Paths are never meant to be interpolated.
    return path.replace("%", "%%")


def _to_ini(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"

    return str(value)
