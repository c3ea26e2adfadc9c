"""Sphinx configuration for the flask_alembic documentation."""

from __future__ import annotations

import importlib.metadata

project = "Flask-Alembic"
copyright = "Flask-Alembic contributors"
release = importlib.metadata.version("flask-alembic")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxcontrib.autodoc_pydantic",
    "sphinx_click",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Every reference must resolve. There is no network for intersphinx, so
# references to the classes of other projects are shown as text, not links.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(alembic|sqlalchemy|sa|flask|click|pydantic|typing|t|collections"
        r"|weakref|_alembic|MetaDatas|RevisionArg|Diff|Callback|Scalar"
        r"|PathSeparator)(\..*)?",
    ),
    (
        r"py:.*",
        r"Flask|AppContext|Engine|MetaData|Config|Script|ScriptDirectory"
        r"|EnvironmentContext|MigrationContext|Operations|MigrationScript",
    ),
    # The engine types and the type variables of Alembic.run_sync.
    (r"py:.*", r"AnyEngine|AsyncEngine|~?_P|flask_alembic\.extension\._[PT]"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

autodoc_pydantic_model_show_json = False
autodoc_pydantic_model_show_config_summary = False
autodoc_pydantic_model_show_validator_summary = False
autodoc_pydantic_model_show_validator_members = False
autodoc_pydantic_model_show_field_summary = True
autodoc_pydantic_model_summary_list_order = "bysource"
autodoc_pydantic_model_members = True
autodoc_pydantic_model_undoc_members = True
autodoc_pydantic_model_member_order = "bysource"
autodoc_pydantic_field_list_validators = False
autodoc_pydantic_field_show_constraints = False
autodoc_pydantic_field_show_default = True
autodoc_pydantic_field_doc_policy = "description"

html_theme = "furo"
html_title = f"Flask-Alembic {release}"
