"""Validate ``app.config["ALEMBIC"]`` and ``app.config["ALEMBIC_CONTEXT"]``
into frozen models, and turn them into an Alembic :class:`~alembic.config.Config`.

No Flask here: the extension passes the two dicts and the app's root path in.
"""

from __future__ import annotations

import configparser
import difflib
import os
import typing as t

import pydantic
from alembic.config import Config
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from .errors import ConfigError

#: The values Alembic accepts for ``path_separator``.
PathSeparator = t.Literal["os", "space", "newline", ":", ";"]

#: A scalar that can be written into Alembic's ini-style configuration.
Scalar = str | int | float | bool

Callback = t.Callable[..., t.Any]


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
        " inside an installed package.",
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

    @pydantic.model_validator(mode="after")
    def _check_extra(self) -> AlembicSettings:
        problems = []

        for key, value in (self.model_extra or {}).items():
            if isinstance(value, dict):
                for inner_key, inner in value.items():
                    if not isinstance(inner, Scalar):
                        problems.append(
                            f"'{key}.{inner_key}' must be a string, number or"
                            f" boolean, not {type(inner).__name__}"
                        )
            elif not isinstance(value, Scalar):
                problems.append(
                    f"'{key}' must be a string, number, boolean or a dict of"
                    f" them, not {type(value).__name__}"
                )

        if problems:
            raise ValueError("; ".join(problems))

        return self


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
    render_as_batch: bool = Field(
        False,
        description="Render ``ALTER`` operations in batch mode, which SQLite"
        " needs to change constraints.",
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
        """The options the user set, for ``EnvironmentContext.configure``."""
        return self.model_dump(exclude_unset=True)


#: Options flask_alembic passes itself, which the user must not set.
_RESERVED_CONTEXT_KEYS = {
    "connection": "flask_alembic connects to each engine itself",
    "target_metadata": "pass 'metadatas' to Alembic() instead",
    "upgrade_token": "flask_alembic names the tokens after each database",
    "downgrade_token": "flask_alembic names the tokens after each database",
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
    context_known = set(ContextSettings.model_fields) | {"tag"}
    alembic_settings = _validate(
        AlembicSettings, "ALEMBIC", alembic, alembic_known, problems
    )
    context_settings = _validate(
        ContextSettings, "ALEMBIC_CONTEXT", context, context_known, problems
    )

    if isinstance(context, dict):
        for key, why in _RESERVED_CONTEXT_KEYS.items():
            if key in context:
                problems.append(
                    (
                        f"ALEMBIC_CONTEXT.{key}",
                        f"is set by flask_alembic ({why}); remove it",
                    )
                )

    if problems or alembic_settings is None or context_settings is None:
        raise ConfigError(problems)

    return alembic_settings, context_settings


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

    for key in data:
        if not isinstance(key, str):
            problems.append((name, f"keys must be strings, not {key!r}"))
        elif key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)

            if close:
                problems.append(
                    (f"{name}.{key}", f"unknown key; did you mean '{close[0]}'?")
                )

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        for error in e.errors():
            # Drop the union member names pydantic adds to locations, such as
            # "str" or "tuple[str, str]"; users know keys and indexes.
            loc = [
                str(part)
                for part in error["loc"]
                if isinstance(part, int) or part in data or "[" not in str(part)
            ]
            path = ".".join([name, *loc])
            problems.append((path, _pydantic_message(error)))

        return None


def _pydantic_message(error: t.Any) -> str:
    message = str(error["msg"])

    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]

    if error["type"] != "value_error" and "input" in error:
        message += f" (got {error['input']!r})"

    return message


def resolve_path(path: str, root_path: str) -> str:
    """Make a configured path absolute, relative to the application's root.

    A ``package:path`` resource name is left for Alembic to resolve.
    """
    if os.path.isabs(path) or ":" in path:
        return path

    return os.path.join(root_path, path)


def make_alembic_config(
    settings: AlembicSettings, root_path: str, databases: t.Sequence[str]
) -> Config:
    """Build the Alembic config for an application.

    :param settings: The validated ``ALEMBIC`` configuration.
    :param root_path: The application's root path.
    :param databases: The names of the databases; with more than one, the
        ``databases`` option the ``multidb`` template reads is set.
    :raise ConfigError: If a value cannot be read back, such as a ``%`` that
        is not doubled.
    """
    config = Config()
    script_location = resolve_path(settings.script_location, root_path)
    version_locations = [script_location]

    for item in settings.version_locations:
        path = item if isinstance(item, str) else item[1]
        version_locations.append(resolve_path(path, root_path))

    config.set_main_option("script_location", _escape(script_location))
    config.set_main_option("path_separator", settings.path_separator)
    separator = config._get_file_separator_char("path_separator") or os.pathsep
    config.set_main_option(
        "version_locations", _escape(separator.join(version_locations))
    )
    handled = {"script_location", "path_separator", "version_locations"}

    for key, value in settings.model_dump(exclude_none=True).items():
        if key in handled:
            continue

        if isinstance(value, dict):
            for inner_key, inner_value in value.items():
                config.set_section_option(key, inner_key, _to_ini(inner_value))
        else:
            config.set_main_option(key, _to_ini(value))

    if len(databases) > 1:
        config.set_main_option("databases", ", ".join(databases))

    _check_interpolation(config)
    return config


def _escape(path: str) -> str:
    # Alembic reads options through ConfigParser, which treats "%" as the
    # start of an interpolation. Paths are never meant to be interpolated.
    return path.replace("%", "%%")


def _to_ini(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"

    return str(value)


def _check_interpolation(config: Config) -> None:
    """Read every option back, so a stray ``%`` fails at ``init_app`` instead
    of deep inside Alembic when a revision is generated.
    """
    parser = config.file_config
    problems = []

    for section in parser.sections():
        for key in parser.options(section):
            try:
                parser.get(section, key)
            except configparser.InterpolationError:
                path = f"ALEMBIC.{key}"

                if section != config.config_ini_section:
                    path = f"ALEMBIC.{section}.{key}"

                problems.append(
                    (
                        path,
                        "Alembic reads '%' as an interpolation; write '%%' for"
                        " a literal '%' (e.g. '%%(rev)s_%%(slug)s')",
                    )
                )

    if problems:
        raise ConfigError(problems)
