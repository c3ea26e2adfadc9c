"""Find the databases to migrate: an engine and the metadata describing it,
from Flask-SQLAlchemy, Flask-SQLAlchemy-Lite or the arguments given to
:class:`.Alembic`.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa

from .errors import TargetError

#: One metadata, or several that together describe one database.
MetaDatas = sa.MetaData | list[sa.MetaData]


@dataclasses.dataclass(frozen=True)
class Target:
    """One database to migrate."""

    #: The name the database is known by, ``"default"`` for the default one.
    name: str
    #: The engine that connects to it.
    engine: sa.Engine
    #: The metadata autogenerate compares it with.
    metadata: MetaDatas


def normalize_metadatas(
    metadatas: MetaDatas | t.Mapping[str, MetaDatas] | None,
) -> dict[str, MetaDatas]:
    """Key a single metadata or list under ``"default"``."""
    if metadatas is None:
        return {}

    if isinstance(metadatas, (sa.MetaData, list)):
        return {"default": metadatas}

    return dict(metadatas)


def normalize_engines(
    engines: sa.Engine | t.Mapping[str, sa.Engine] | None,
) -> dict[str, sa.Engine]:
    """Key a single engine under ``"default"``."""
    if engines is None:
        return {}

    if isinstance(engines, sa.Engine):
        return {"default": engines}

    return dict(engines)


def find_targets(
    metadatas: t.Mapping[str, MetaDatas],
    engines: t.Mapping[str, sa.Engine],
    sqlalchemy_ext: t.Any | None,
) -> dict[str, Target]:
    """Pair each configured metadata with its engine.

    Arguments win; otherwise Flask-SQLAlchemy's ``db.metadata`` and
    Flask-SQLAlchemy(-Lite)'s ``db.engines`` are used. Flask-SQLAlchemy's
    default engine (key ``None``) is the database ``"default"``.

    :param metadatas: The ``metadatas`` given to the extension.
    :param engines: The ``engines`` given to the extension.
    :param sqlalchemy_ext: ``app.extensions.get("sqlalchemy")``. Must be used
        in an app context, since Flask-SQLAlchemy's engines need one.
    :raise TargetError: If metadata or engines are missing.
    """
    if not metadatas and sqlalchemy_ext is not None:
        metadata = getattr(sqlalchemy_ext, "metadata", None)

        if isinstance(metadata, sa.MetaData):
            metadatas = {"default": metadata}

    if not metadatas:
        raise TargetError(
            "No metadata to compare the database with. When not using"
            " Flask-SQLAlchemy, pass 'metadatas' when creating the Alembic"
            " extension: Alembic(metadatas=Base.metadata)."
        )

    if not engines and sqlalchemy_ext is not None:
        found = getattr(sqlalchemy_ext, "engines", None) or {}
        engines = {
            ("default" if key is None else key): engine for key, engine in found.items()
        }

    if not engines:
        raise TargetError(
            "No engine to migrate. Either configure engines in"
            " Flask-SQLAlchemy(-Lite), or pass 'engines' when creating the"
            " Alembic extension: Alembic(engines=engine)."
        )

    if len(metadatas) == 1 and len(engines) == 1:
        # A single database may be registered under any name on either side.
        ((name, metadata),) = metadatas.items()
        ((engine_name, engine),) = engines.items()

        if name == engine_name or "default" in (name, engine_name):
            name = engine_name if name == "default" else name
            return {name: Target(name, engine, metadata)}

    missing = [name for name in metadatas if name not in engines]

    if missing:
        noun = "config" if len(missing) == 1 else "configs"
        names = ", ".join(f"'{name}'" for name in missing)
        known = ", ".join(f"'{name}'" for name in engines)
        raise TargetError(
            f"Missing engine {noun} for {names}. The known engines are {known};"
            " name each metadata after the engine it describes."
        )

    return {
        name: Target(name, engines[name], metadata)
        for name, metadata in metadatas.items()
    }


#: Query parameters some drivers read a password from.
SECRET_QUERY_KEYS = ("password", "passwd", "pwd")


def safe_url(engine: sa.Engine) -> str:
    """The engine's URL with its password masked, also where a driver takes it
    from the query string.
    """
    url = engine.url
    query = {
        key: ("***" if key.lower() in SECRET_QUERY_KEYS else value)
        for key, value in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)
