"""Find the databases to migrate: an engine and the metadata describing it,
from Flask-SQLAlchemy, Flask-SQLAlchemy-Lite or the arguments given to
:class:`.Alembic`. An engine made with SQLAlchemy's asyncio extension is
migrated through its ``sync_engine``, which connects inside ``_async.run``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import typing as t

import sqlalchemy as sa

from .errors import TargetError

if t.TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

#: One metadata, or several that together describe one database.
MetaDatas = sa.MetaData | list[sa.MetaData]

#: An engine as the extension takes it: a plain one, or one made with
#: :func:`~sqlalchemy.ext.asyncio.create_async_engine`.
AnyEngine: t.TypeAlias = "sa.Engine | AsyncEngine"


@dataclasses.dataclass(frozen=True)
class Target:
    """One database to migrate."""

    #: The name the database is known by, ``"default"`` for the default one.
    name: str
    #: The engine that connects to it; for an async engine, its
    #: ``sync_engine``.
    engine: sa.Engine
    #: The metadata autogenerate compares it with.
    metadata: MetaDatas
    #: Whether the engine was made with SQLAlchemy's asyncio extension, so
    #: that its connections work only inside ``_async.run``.
    is_async: bool = False


def make_target(name: str, engine: AnyEngine, metadata: MetaDatas) -> Target:
    """A database to migrate, through the ``sync_engine`` of an async
    engine.
    """
    if is_async_engine(engine):
        return Target(name, engine.sync_engine, metadata, is_async=True)

    return Target(name, t.cast(sa.Engine, engine), metadata)


def is_async_engine(engine: object) -> t.TypeGuard[AsyncEngine]:
    """Whether an engine was made with SQLAlchemy's asyncio extension.

    The extension is not imported here: an app without async engines does
    not pay for it, and an app with one has imported it already.
    """
    module = sys.modules.get("sqlalchemy.ext.asyncio")
    return module is not None and isinstance(engine, module.AsyncEngine)


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
    engines: AnyEngine | t.Mapping[str, AnyEngine] | None,
) -> dict[str, AnyEngine]:
    """Key a single engine under ``"default"``."""
    if engines is None:
        return {}

    if isinstance(engines, sa.Engine) or is_async_engine(engines):
        return {"default": engines}

    return dict(t.cast(t.Mapping[str, AnyEngine], engines))


def find_targets(
    metadatas: t.Mapping[str, MetaDatas],
    engines: t.Mapping[str, AnyEngine],
    sqlalchemy_ext: t.Any | None,
) -> dict[str, Target]:
    """Pair each configured metadata with its engine.

    Arguments win; otherwise Flask-SQLAlchemy's ``db.metadata`` and
    Flask-SQLAlchemy(-Lite)'s engines (see :func:`extension_engines`) are
    used. Flask-SQLAlchemy's default engine (key ``None``) is the database
    ``"default"``.

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
        engines = extension_engines(sqlalchemy_ext)

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
            return {name: make_target(name, engine, metadata)}

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
        name: make_target(name, engines[name], metadata)
        for name, metadata in metadatas.items()
    }


def find_bind_targets(
    binds: t.Sequence[str],
    metadatas: t.Mapping[str, MetaDatas],
    engines: t.Mapping[str, AnyEngine],
    sqlalchemy_ext: t.Any | None,
) -> dict[str, Target]:
    """Pair each bind with its engine and metadata, for per-bind histories.

    Arguments win; otherwise the metadata comes from Flask-SQLAlchemy's
    ``db.metadatas`` (filled by the models' ``__bind_key__``) and the engines
    from Flask-SQLAlchemy(-Lite) (see :func:`extension_engines`). Models
    whose bind key is not a bind are an error rather than left out of every
    comparison.

    :param binds: The bind names, in the order to return them.
    :param metadatas: The ``metadatas`` given to the extension.
    :param engines: The ``engines`` given to the extension.
    :param sqlalchemy_ext: ``app.extensions.get("sqlalchemy")``, used in an
        app context.
    :raise TargetError: If a bind has no engine or no metadata, or models
        belong to no bind.
    """
    if not metadatas and sqlalchemy_ext is not None:
        metadatas = _by_bind_name(getattr(sqlalchemy_ext, "metadatas", None))
        # Flask-SQLAlchemy makes a metadata for every configured bind key;
        # only one that has tables holds models.
        strays = [
            name
            for name, metadata in metadatas.items()
            if name not in binds and _tables(metadata)
        ]

        if strays:
            names = ", ".join(f"'{name}'" for name in strays)
            tables = ", ".join(
                sorted(table for name in strays for table in _tables(metadatas[name]))
            )
            raise TargetError(
                f"Models with __bind_key__ {names} (tables: {tables}) belong to"
                " no bind, so no revision would ever create them. Declare each"
                " in ALEMBIC['binds']."
            )

    if not engines and sqlalchemy_ext is not None:
        engines = extension_engines(sqlalchemy_ext)

    no_engine = [name for name in binds if name not in engines]
    no_metadata = [name for name in binds if name not in metadatas]
    problems = []

    if no_engine:
        known = ", ".join(f"'{name}'" for name in engines) or "none"
        problems.append(
            f"No engine for {_bind_names(no_engine)} (the engines are {known})."
            " Configure it in Flask-SQLAlchemy(-Lite) under the bind's name, or"
            " pass it in 'engines' when creating the Alembic extension."
        )

    if no_metadata:
        problems.append(
            f"No metadata for {_bind_names(no_metadata)}. With Flask-SQLAlchemy,"
            " give its models __bind_key__; otherwise pass it in 'metadatas'"
            " when creating the Alembic extension."
        )

    if problems:
        raise TargetError(" ".join(problems))

    return {name: make_target(name, engines[name], metadatas[name]) for name in binds}


def extension_engines(sqlalchemy_ext: t.Any) -> dict[str, AnyEngine]:
    """The engines of Flask-SQLAlchemy(-Lite) by bind name: ``db.engines``,
    then those of Flask-SQLAlchemy-Lite's ``db.async_engines``
    (``SQLALCHEMY_ASYNC_ENGINES``) whose name has no engine in
    ``db.engines``. Where a name has both, the plain engine is used, which
    needs no event loop.
    """
    engines: dict[str, AnyEngine] = {}
    engines.update(_by_bind_name(getattr(sqlalchemy_ext, "engines", None)))

    for name, engine in _by_bind_name(
        getattr(sqlalchemy_ext, "async_engines", None)
    ).items():
        engines.setdefault(name, engine)

    return engines


def _by_bind_name(found: t.Mapping[str | None, _V] | None) -> dict[str, _V]:
    """Flask-SQLAlchemy's dicts by bind key, its default key ``None`` named
    ``"default"``.
    """
    return {("default" if key is None else key): v for key, v in (found or {}).items()}


_V = t.TypeVar("_V")


def metadata_list(metadata: MetaDatas) -> list[sa.MetaData]:
    """A database's metadata as a list, however it was given."""
    return metadata if isinstance(metadata, list) else [metadata]


def _tables(metadata: MetaDatas) -> list[str]:
    return [name for each in metadata_list(metadata) for name in each.tables]


def _bind_names(names: t.Sequence[str]) -> str:
    noun = "bind" if len(names) == 1 else "binds"
    return f"{noun} " + ", ".join(f"'{name}'" for name in names)


def check_distinct(
    targets: t.Mapping[str, Target],
    version_tables: t.Mapping[str, tuple[t.Any, ...]],
    per_bind: bool = True,
) -> None:
    """Check that no two binds record their revisions in the same table of
    the same database, where each would read the other's revisions as its
    own.

    :param version_tables: ``(schema, table)`` of each bind.
    :param per_bind: Whether each bind has its own history, and so can have
        its own version table; in a shared history each name needs its own
        database.
    :raise TargetError: Naming the binds and how to separate them.
    """
    owners: dict[tuple[t.Any, ...], str] = {}

    for name, target in targets.items():
        url = target.engine.url
        # Each in-memory SQLite engine is a database of its own.
        where_db: t.Any = (
            target.engine
            if url.database in (None, "", ":memory:")
            else safe_url(target.engine)
        )
        key = (where_db, *version_tables[name])

        if key in owners:
            other = owners[key]
            schema, table = version_tables[name]
            where = f"{schema}.{table}" if schema else table
            fix = (
                f"Give one its own version table:"
                f" ALEMBIC['binds']['{name}']['version_table']."
                if per_bind
                else "In a shared history each name needs a database of its own."
            )
            noun = "Binds" if per_bind else "Databases"
            raise TargetError(
                f"{noun} '{other}' and '{name}' would both record their revisions"
                f" in {where} of {safe_url(target.engine)}. {fix}"
            )

        owners[key] = name


@contextlib.contextmanager
def reading(connection: sa.Connection) -> t.Iterator[sa.Connection]:
    """Use a connection for reads outside any migration, then end the
    transaction SQLAlchemy began on first use, so that no lock the reads
    took is held while waiting or migrating.
    """
    try:
        yield connection
    finally:
        if connection.in_transaction():
            connection.commit()


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
