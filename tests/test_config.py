"""ALEMBIC and ALEMBIC_CONTEXT: what 3.x accepted keeps working, and a bad
configuration fails at init_app with one error listing every problem.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import ConfigError
from flask_alembic.config import bind_context_options
from flask_alembic.config import load_settings
from flask_alembic.config import make_alembic_config

AppFactory = t.Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path) -> cabc.Iterator[AppFactory]:
    """Build an app on a SQLite engine with the given ALEMBIC and
    ALEMBIC_CONTEXT; the engine is disposed when the test ends.
    """
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")

    def make(
        config: t.Any = None, context: t.Any = None, *, run_mkdir: bool = True
    ) -> Flask:
        app = Flask("test_app", root_path=str(tmp_path / "app"))

        if config is not None:
            app.config["ALEMBIC"] = config

        if context is not None:
            app.config["ALEMBIC_CONTEXT"] = context

        Alembic(app, metadatas=sa.MetaData(), engines=engine, run_mkdir=run_mkdir)
        return app

    yield make
    engine.dispose()


def make_config(
    config: dict[str, t.Any], root: str = "/root", databases: t.Sequence[str] = ()
) -> Config:
    """Validate ALEMBIC and build the Alembic config from it."""
    settings, _ = load_settings(config, {})
    return make_alembic_config(settings, root, databases)


def problems_of(config: t.Any, context: t.Any = None) -> list[tuple[str, str]]:
    """The problems load_settings reports."""
    with pytest.raises(ConfigError) as info:
        load_settings(config, {} if context is None else context)

    return info.value.problems


# What Flask-Alembic 3.x accepts


def test_defaults(make_app: AppFactory, tmp_path: Path) -> None:
    """With no configuration, migrations live in the app's migrations folder."""
    app = make_app()

    with app.app_context():
        config = app.extensions["alembic"].config

    migrations = str(tmp_path / "app" / "migrations")
    assert config.get_main_option("script_location") == migrations
    assert config.get_main_option("version_locations") == migrations
    assert config.get_main_option("path_separator") == "os"
    assert os.path.isdir(migrations)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("migrations", "/root/migrations"),
        ("db/migrations", "/root/db/migrations"),
        ("/abs/migrations", "/abs/migrations"),
        ("mypackage:migrations", "mypackage:migrations"),
    ],
)
def test_script_location(location: str, expected: str) -> None:
    """script_location is relative to the app root unless absolute or a
    package resource.
    """
    config = make_config({"script_location": location})
    assert config.get_main_option("script_location") == expected


def test_script_location_created(make_app: AppFactory, tmp_path: Path) -> None:
    """A relative script_location is created under the app's root path."""
    make_app({"script_location": "db/migrations"})
    assert (tmp_path / "app" / "db" / "migrations").is_dir()


def test_version_locations() -> None:
    """Plain paths and (branch, path) pairs are all version locations."""
    config = make_config(
        {
            "version_locations": [
                "other",
                ("users", "users/migrations"),
                ["auth", "/abs/auth"],
                "pkg:versions",
            ]
        }
    )
    assert config.get_main_option("version_locations") == os.pathsep.join(
        [
            "/root/migrations",
            "/root/other",
            "/root/users/migrations",
            "/abs/auth",
            "pkg:versions",
        ]
    )


@pytest.mark.parametrize(
    ("separator", "joined"),
    [
        ("os", os.pathsep),
        ("space", " "),
        ("newline", "\n"),
        (":", ":"),
        (";", ";"),
    ],
)
def test_path_separator(separator: str, joined: str) -> None:
    """Version locations are joined with the configured path separator."""
    config = make_config({"path_separator": separator, "version_locations": ["b"]})
    assert config.get_main_option("path_separator") == separator
    assert config.get_main_option("version_locations") == joined.join(
        ["/root/migrations", "/root/b"]
    )


def test_other_options() -> None:
    """Other main options are passed to Alembic, as ini strings."""
    config = make_config(
        {
            "timezone": "UTC",
            "truncate_slug_length": 20,
            "revision_environment": True,
            "sourceless": False,
            "my_option": "value",
            "ratio": 1.5,
        }
    )
    assert config.get_main_option("timezone") == "UTC"
    assert config.get_main_option("truncate_slug_length") == "20"
    assert config.get_main_option("revision_environment") == "true"
    assert config.get_main_option("sourceless") == "false"
    assert config.get_main_option("my_option") == "value"
    assert config.get_main_option("ratio") == "1.5"
    assert config.get_main_option("databases") is None


def test_databases() -> None:
    """Several databases set the option the multidb template reads."""
    config = make_config({}, databases=["default", "auth"])
    assert config.get_main_option("databases") == "default, auth"


def test_sections() -> None:
    """A dict value becomes an Alembic config section."""
    config = make_config(
        {
            "post_write_hooks": {
                "hooks": "black",
                "black.type": "console_scripts",
                "black.entrypoint": "black",
                "black.options": "-l 79 REVISION_SCRIPT_FILENAME",
            }
        }
    )
    section = config.get_section("post_write_hooks")
    assert section is not None
    # Alembic adds "here", the directory of the ini file, to every section.
    section.pop("here")
    assert section == {
        "hooks": "black",
        "black.type": "console_scripts",
        "black.entrypoint": "black",
        "black.options": "-l 79 REVISION_SCRIPT_FILENAME",
    }


def test_file_template() -> None:
    """A file_template with '%%' reads back with single '%', as in alembic.ini."""
    config = make_config({"file_template": "%%(year)d_%%(rev)s_%%(slug)s"})
    assert config.get_main_option("file_template") == "%(year)d_%(rev)s_%(slug)s"


def test_percent_in_path() -> None:
    """A '%' in a path is a literal character, not an interpolation."""
    config = make_config({"script_location": "/data/100%/migrations"})
    assert config.get_main_option("script_location") == "/data/100%/migrations"


def test_context_options() -> None:
    """ALEMBIC_CONTEXT keeps exactly the options the user set, including
    unknown ones for custom templates.
    """

    def include_object(*args: t.Any) -> bool:
        return True

    _, context = load_settings(
        {},
        {
            "compare_type": False,
            "include_object": include_object,
            "render_as_batch": True,
            "my_template_option": 1,
        },
    )
    assert context.options() == {
        "compare_type": False,
        "include_object": include_object,
        "render_as_batch": True,
        "my_template_option": 1,
    }


def test_app_config_defaults(make_app: AppFactory) -> None:
    """init_app adds exactly the defaults Flask-Alembic 3.3 added, and
    nothing else.
    """
    config = {"script_location": "m", "timezone": "UTC"}
    context = {"compare_type": False}
    app = make_app(copy.deepcopy(config), copy.deepcopy(context))
    assert app.config["ALEMBIC"] == {
        **config,
        "path_separator": "os",
        "version_locations": [],
    }
    assert app.config["ALEMBIC_CONTEXT"] == {
        **context,
        "compare_server_default": True,
    }


def test_app_config_user_values_kept(make_app: AppFactory) -> None:
    """Values the user set are not replaced by the defaults."""
    app = make_app(
        {"path_separator": "space", "version_locations": ["x"]},
        {"compare_server_default": False},
    )
    assert app.config["ALEMBIC"]["path_separator"] == "space"
    assert app.config["ALEMBIC"]["version_locations"] == ["x"]
    assert app.config["ALEMBIC_CONTEXT"] == {"compare_server_default": False}


# A bad configuration


def test_every_problem_in_one_error(make_app: AppFactory, tmp_path: Path) -> None:
    """One ConfigError lists every problem in both dicts with its key path,
    and nothing is written to disk.
    """
    with pytest.raises(ConfigError) as info:
        make_app(
            {
                "script_location": 1,
                "version_locations": ["ok", 2, ("users",)],
                "path_separator": "tab",
            },
            {"version_table": 3, "connection": "x"},
        )

    assert str(info.value) == (
        "The Alembic configuration has 6 problems:\n"
        "  ALEMBIC.script_location: Input should be a valid string (got 1)\n"
        "  ALEMBIC.version_locations.1: Input should be a string or a"
        " (branch, path) pair (got 2)\n"
        "  ALEMBIC.version_locations.2: Input should be a string or a"
        " (branch, path) pair (got ('users',))\n"
        "  ALEMBIC.path_separator: Input should be 'os', 'space', 'newline',"
        " ':' or ';' (got 'tab')\n"
        "  ALEMBIC_CONTEXT.version_table: Input should be a valid string (got 3)\n"
        "  ALEMBIC_CONTEXT.connection: is set by flask_alembic (flask_alembic"
        " connects to each engine itself); remove it"
    )
    assert isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("config", "context", "expected"),
    [
        (
            {"script_locaton": "m"},
            {},
            ("ALEMBIC.script_locaton", "unknown key; did you mean 'script_location'?"),
        ),
        (
            {"version_location": ["m"]},
            {},
            (
                "ALEMBIC.version_location",
                "unknown key; did you mean 'version_locations'?",
            ),
        ),
        (
            {},
            {"compare_types": True},
            (
                "ALEMBIC_CONTEXT.compare_types",
                "unknown key; did you mean 'compare_type'?",
            ),
        ),
        (
            {},
            {"render_as_bach": True},
            (
                "ALEMBIC_CONTEXT.render_as_bach",
                "unknown key; did you mean 'render_as_batch'?",
            ),
        ),
    ],
)
def test_typo(
    config: dict[str, t.Any], context: dict[str, t.Any], expected: tuple[str, str]
) -> None:
    """A misspelled known key is reported with the key it resembles."""
    assert problems_of(config, context) == [expected]


def test_unknown_keys_not_typos() -> None:
    """Keys that resemble no known key are passed through, as in 3.x."""
    _, context = load_settings({"my_option": "x"}, {"my_flag": True})
    assert context.options() == {"my_flag": True}


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("connection", "flask_alembic connects to each engine itself"),
        ("target_metadata", "pass 'metadatas' to Alembic() instead"),
        ("url", "flask_alembic takes URLs from the engines"),
        ("dialect_name", "flask_alembic takes the dialect from the engines"),
        ("as_sql", "flask_alembic runs migrations online"),
    ],
)
def test_reserved_context_key(key: str, why: str) -> None:
    """Options flask_alembic sets itself are refused, with no "did you mean"."""
    assert problems_of({}, {key: None}) == [
        (f"ALEMBIC_CONTEXT.{key}", f"is set by flask_alembic ({why}); remove it")
    ]


PERCENT = (
    "Alembic reads '%' as the start of an interpolation; write '%%' for a"
    " literal '%' (e.g. '%%(rev)s_%%(slug)s')"
)


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"file_template": "%(rev)s_%(slug)s"}, "ALEMBIC.file_template"),
        ({"file_template": "50%"}, "ALEMBIC.file_template"),
        ({"my_option": "%d"}, "ALEMBIC.my_option"),
        ({"post_write_hooks": {"hooks": "%(x)s"}}, "ALEMBIC.post_write_hooks.hooks"),
    ],
)
def test_single_percent(
    make_app: AppFactory, tmp_path: Path, config: dict[str, t.Any], path: str
) -> None:
    """A single '%' is reported at init_app with the fix, before anything
    is written.
    """
    with pytest.raises(ConfigError) as info:
        make_app(config)

    assert info.value.problems == [(path, PERCENT)]
    assert list(tmp_path.iterdir()) == []


def test_single_percent_with_other_problems() -> None:
    """A stray '%' is listed together with the other problems."""
    assert problems_of(
        {"file_template": "%(rev)s", "timezone": "50%"}, {"compare_types": True}
    ) == [
        ("ALEMBIC_CONTEXT.compare_types", "unknown key; did you mean 'compare_type'?"),
        ("ALEMBIC.file_template", PERCENT),
        ("ALEMBIC.timezone", PERCENT),
    ]


@pytest.mark.parametrize(
    ("config", "context", "expected"),
    [
        ([], {}, [("ALEMBIC", "must be a dict, not list")]),
        ("migrations", {}, [("ALEMBIC", "must be a dict, not str")]),
        ({}, None, [("ALEMBIC_CONTEXT", "must be a dict, not NoneType")]),
        (
            None,
            (),
            [
                ("ALEMBIC", "must be a dict, not NoneType"),
                ("ALEMBIC_CONTEXT", "must be a dict, not tuple"),
            ],
        ),
    ],
)
def test_not_a_dict(
    config: t.Any, context: t.Any, expected: list[tuple[str, str]]
) -> None:
    """A configuration that is not a dict is reported, not crashed on."""
    with pytest.raises(ConfigError) as info:
        load_settings(config, context)

    assert info.value.problems == expected


def test_not_a_dict_at_init_app(make_app: AppFactory, tmp_path: Path) -> None:
    """A non-dict ALEMBIC fails at init_app before anything is written."""
    with pytest.raises(ConfigError) as info:
        make_app(["migrations"])

    assert str(info.value) == (
        "The Alembic configuration has 1 problem:\n  ALEMBIC: must be a dict, not list"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("config", "context", "expected"),
    [
        # union member names never appear in key paths
        (
            {"post_write_hooks": {"hooks": "black", "x": [1]}},
            {},
            [
                (
                    "ALEMBIC.post_write_hooks.x",
                    "Input should be a string, a number or a boolean (got [1])",
                )
            ],
        ),
        (
            {"my_option": [1]},
            {},
            [
                (
                    "ALEMBIC.my_option",
                    "Input should be a string, a number, a boolean or a dict (got [1])",
                )
            ],
        ),
        (
            {},
            {"compare_type": "yes please"},
            [
                (
                    "ALEMBIC_CONTEXT.compare_type",
                    "Input should be a boolean or a callable (got 'yes please')",
                )
            ],
        ),
        (
            {},
            {"process_revision_directives": 3},
            [
                (
                    "ALEMBIC_CONTEXT.process_revision_directives",
                    "Input should be a callable or a list of callables (got 3)",
                )
            ],
        ),
        (
            {},
            {"on_version_apply": [print, 3]},
            [
                (
                    "ALEMBIC_CONTEXT.on_version_apply.1",
                    "Input should be callable (got 3)",
                )
            ],
        ),
        (
            {"version_locations": [("a", "b", "c")]},
            {},
            [
                (
                    "ALEMBIC.version_locations.0",
                    "Input should be a string or a (branch, path) pair"
                    " (got ('a', 'b', 'c'))",
                )
            ],
        ),
        (
            {"version_locations": "migrations/other"},
            {},
            [
                (
                    "ALEMBIC.version_locations",
                    "Input should be a valid list (got 'migrations/other')",
                )
            ],
        ),
        (
            {"truncate_slug_length": "long"},
            {},
            [
                (
                    "ALEMBIC.truncate_slug_length",
                    "Input should be a valid integer, unable to parse string as"
                    " an integer (got 'long')",
                )
            ],
        ),
        ({1: "x"}, {}, [("ALEMBIC.1", "Keys should be strings (got 1)")]),
    ],
)
def test_messages(
    config: dict[t.Any, t.Any],
    context: dict[str, t.Any],
    expected: list[tuple[str, str]],
) -> None:
    """Each problem is one line at the user's key path, naming what the
    value may be.
    """
    assert problems_of(config, context) == expected


# ALEMBIC["binds"]


def test_bind_version_locations() -> None:
    """Each bind's directory is a version location, after those of declared
    branches; default's is script_location, listed once.
    """
    config = make_config(
        {
            "version_locations": ["other"],
            "branches": {"profiles": {"bind": "auth"}},
            "binds": {
                "default": {},
                "auth": {},
                "stats": {"path": "/abs/stats"},
                "logs": {"path": "db/logs"},
            },
        }
    )
    assert config.get_main_option("version_locations") == os.pathsep.join(
        [
            "/root/migrations",
            "/root/other",
            "/root/migrations/profiles",
            "/root/migrations/auth",
            "/abs/stats",
            "/root/db/logs",
        ]
    )


def test_bind_version_locations_script_location() -> None:
    """A bind's default directory is inside script_location."""
    config = make_config({"script_location": "db", "binds": {"auth": {}}})
    assert config.get_main_option("version_locations") == os.pathsep.join(
        ["/root/db", "/root/db/auth"]
    )


def test_bind_directories_created(make_app: AppFactory, tmp_path: Path) -> None:
    """init_app creates each bind's directory, and writes no bind option into
    Alembic's config.
    """
    app = make_app({"binds": {"auth": {}, "stats": {"path": "stats/migrations"}}})
    assert (tmp_path / "app" / "migrations" / "auth").is_dir()
    assert (tmp_path / "app" / "stats" / "migrations").is_dir()

    with app.app_context():
        config = app.extensions["alembic"].config

    assert config.get_main_option("binds") is None
    assert config.get_main_option("databases") is None


def test_bind_settings() -> None:
    """A bind's settings are kept as given, with empty defaults."""
    settings, _ = load_settings(
        {
            "binds": {
                "auth": {
                    "path": "auth/migrations",
                    "version_table": "auth_version",
                    "version_table_schema": "auth",
                    "depends_on": ["default"],
                    "context": {"render_as_batch": True},
                },
                "stats": {},
            }
        },
        {},
    )
    auth = settings.binds["auth"]
    assert auth.path == "auth/migrations"
    assert auth.version_table == "auth_version"
    assert auth.version_table_schema == "auth"
    assert auth.depends_on == ["default"]
    assert auth.context == {"render_as_batch": True}
    stats = settings.binds["stats"]
    assert (stats.path, stats.version_table, stats.version_table_schema) == (
        None,
        None,
        None,
    )
    assert (stats.depends_on, stats.context) == ([], {})


def _include_object(*args: t.Any) -> bool:
    """An include_object hook."""
    return True


#: ALEMBIC_CONTEXT for the bind_context_options tests.
BASE_CONTEXT = {
    "compare_type": False,
    "render_as_batch": False,
    "version_table": "v",
    "include_object": _include_object,
}


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        # a bind that is not declared gets ALEMBIC_CONTEXT as it is
        (None, BASE_CONTEXT),
        ({}, BASE_CONTEXT),
        # the bind's context overrides ALEMBIC_CONTEXT, and may add options
        (
            {"context": {"render_as_batch": True, "my_option": 1}},
            {**BASE_CONTEXT, "render_as_batch": True, "my_option": 1},
        ),
        # options left at their default in the bind's context do not reset
        # ALEMBIC_CONTEXT's
        (
            {"context": {"include_schemas": True}},
            {**BASE_CONTEXT, "include_schemas": True},
        ),
        # version_table and version_table_schema, on the bind or in its context
        (
            {"version_table": "auth_version"},
            {**BASE_CONTEXT, "version_table": "auth_version"},
        ),
        (
            {"context": {"version_table": "auth_version"}},
            {**BASE_CONTEXT, "version_table": "auth_version"},
        ),
        (
            {"version_table_schema": "auth"},
            {**BASE_CONTEXT, "version_table_schema": "auth"},
        ),
        (
            {
                "version_table": "auth_version",
                "context": {"version_table_schema": "auth", "compare_type": True},
            },
            {
                **BASE_CONTEXT,
                "version_table": "auth_version",
                "version_table_schema": "auth",
                "compare_type": True,
            },
        ),
    ],
)
def test_bind_context_options(
    bind: dict[str, t.Any] | None, expected: dict[str, t.Any]
) -> None:
    """A bind's options are ALEMBIC_CONTEXT, then its context, then its
    version table settings.
    """
    alembic = {} if bind is None else {"binds": {"auth": bind}}
    settings, context = load_settings(alembic, dict(BASE_CONTEXT))
    options = bind_context_options(context, settings.binds.get("auth"))
    assert options == expected


def test_bind_context_options_separate() -> None:
    """Each bind's options are its own; ALEMBIC_CONTEXT is left as it was."""
    settings, context = load_settings(
        {
            "binds": {
                "auth": {"context": {"render_as_batch": True}},
                "stats": {"version_table": "stats_version"},
            }
        },
        {"compare_type": False},
    )
    assert bind_context_options(context, settings.binds["auth"]) == {
        "compare_type": False,
        "render_as_batch": True,
    }
    assert bind_context_options(context, settings.binds["stats"]) == {
        "compare_type": False,
        "version_table": "stats_version",
    }
    assert context.options() == {"compare_type": False}


@pytest.mark.parametrize(
    ("binds", "expected"),
    [
        # typos in a bind's context, as in ALEMBIC_CONTEXT
        (
            {"auth": {"context": {"render_as_bach": True}}},
            [
                (
                    "ALEMBIC.binds.auth.context.render_as_bach",
                    "unknown key; did you mean 'render_as_batch'?",
                )
            ],
        ),
        (
            {"auth": {"context": {"version_tabel": "v"}}},
            [
                (
                    "ALEMBIC.binds.auth.context.version_tabel",
                    "unknown key; did you mean 'version_table'?",
                )
            ],
        ),
        # values of the wrong type
        (
            {"auth": {"context": {"version_table": 3}}},
            [
                (
                    "ALEMBIC.binds.auth.context.version_table",
                    "Input should be a valid string (got 3)",
                )
            ],
        ),
        (
            {"auth": {"context": {"compare_type": "yes please"}}},
            [
                (
                    "ALEMBIC.binds.auth.context.compare_type",
                    "Input should be a boolean or a callable (got 'yes please')",
                )
            ],
        ),
        # options flask_alembic sets itself
        (
            {"auth": {"context": {"url": "sqlite://", "connection": None}}},
            [
                (
                    "ALEMBIC.binds.auth.context.connection",
                    "is set by flask_alembic (flask_alembic connects to each"
                    " engine itself); remove it",
                ),
                (
                    "ALEMBIC.binds.auth.context.url",
                    "is set by flask_alembic (flask_alembic takes URLs from the"
                    " engines); remove it",
                ),
            ],
        ),
        (
            {"default": {"context": {"target_metadata": None}}},
            [
                (
                    "ALEMBIC.binds.default.context.target_metadata",
                    "is set by flask_alembic (pass 'metadatas' to Alembic()"
                    " instead); remove it",
                )
            ],
        ),
        # the default bind's revisions are in script_location
        (
            {"default": {"path": "db"}},
            [
                (
                    "ALEMBIC.binds.default.path",
                    "the default bind's revisions are in script_location; set"
                    " ALEMBIC['script_location'] instead",
                )
            ],
        ),
        # the version table, on the bind and in its context
        (
            {"auth": {"version_table": "a", "context": {"version_table": "b"}}},
            [
                (
                    "ALEMBIC.binds.auth.context.version_table",
                    "is also set as ALEMBIC.binds.auth.version_table; keep one",
                )
            ],
        ),
        (
            {
                "auth": {
                    "version_table_schema": "a",
                    "context": {"version_table_schema": "a"},
                }
            },
            [
                (
                    "ALEMBIC.binds.auth.context.version_table_schema",
                    "is also set as ALEMBIC.binds.auth.version_table_schema; keep one",
                )
            ],
        ),
        # a bind's own keys
        (
            {"auth": {"paht": "x"}},
            [("ALEMBIC.binds.auth.paht", "Extra inputs are not permitted (got 'x')")],
        ),
        (
            {"auth": {"depends_on": "default"}},
            [
                (
                    "ALEMBIC.binds.auth.depends_on",
                    "Input should be a valid list (got 'default')",
                )
            ],
        ),
        (
            {"auth": {"context": ["render_as_batch"]}},
            [
                (
                    "ALEMBIC.binds.auth.context",
                    "Input should be a valid dictionary (got ['render_as_batch'])",
                )
            ],
        ),
    ],
)
def test_bind_problem(binds: t.Any, expected: list[tuple[str, str]]) -> None:
    """Each mistake in a bind is reported at its key path."""
    assert problems_of({"binds": binds}) == expected


def test_bind_typo() -> None:
    """A misspelled "binds" is reported with the key it resembles."""
    assert problems_of({"bind": {"auth": {}}}) == [
        ("ALEMBIC.bind", "unknown key; did you mean 'binds'?")
    ]


def test_bind_problems_together() -> None:
    """Problems in several binds and in ALEMBIC_CONTEXT are listed at once."""
    assert problems_of(
        {
            "binds": {
                "default": {"path": "db", "context": {"as_sql": True}},
                "auth": {
                    "version_table": "a",
                    "context": {"compare_types": True, "version_table": "b"},
                },
            }
        },
        {"render_as_bach": True},
    ) == [
        (
            "ALEMBIC_CONTEXT.render_as_bach",
            "unknown key; did you mean 'render_as_batch'?",
        ),
        (
            "ALEMBIC.binds.default.context.as_sql",
            "is set by flask_alembic (flask_alembic runs migrations online); remove it",
        ),
        (
            "ALEMBIC.binds.default.path",
            "the default bind's revisions are in script_location; set"
            " ALEMBIC['script_location'] instead",
        ),
        (
            "ALEMBIC.binds.auth.context.compare_types",
            "unknown key; did you mean 'compare_type'?",
        ),
        (
            "ALEMBIC.binds.auth.context.version_table",
            "is also set as ALEMBIC.binds.auth.version_table; keep one",
        ),
    ]


def test_bind_problem_at_init_app(make_app: AppFactory, tmp_path: Path) -> None:
    """A mistake in a bind fails at init_app, before anything is written."""
    with pytest.raises(ConfigError) as info:
        make_app({"binds": {"auth": {"context": {"render_as_bach": True}}}})

    assert str(info.value) == (
        "The Alembic configuration has 1 problem:\n"
        "  ALEMBIC.binds.auth.context.render_as_bach: unknown key; did you mean"
        " 'render_as_batch'?"
    )
    assert list(tmp_path.iterdir()) == []


def test_bind_not_a_dict() -> None:
    """A bind that is not a dict is reported without naming internal classes."""
    assert problems_of({"binds": {"auth": None}}) == [
        ("ALEMBIC.binds.auth", "Input should be a valid dictionary (got None)")
    ]
