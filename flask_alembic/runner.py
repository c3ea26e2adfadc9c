"""Connect to each database and run a migration function on it.

This takes the place of ``env.py``'s ``run_migrations_online``. No Flask here:
the extension passes in the environment, the targets and the options.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import typing as t
from urllib.parse import quote
from urllib.parse import quote_plus

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext

from ._alembic import MigrationsFn
from ._alembic import set_migrations_fn
from .errors import DatabaseError
from .targets import safe_url
from .targets import SECRET_QUERY_KEYS
from .targets import Target


def open_contexts(
    env: EnvironmentContext,
    targets: cabc.Mapping[str, Target],
    options: cabc.Mapping[str, t.Any],
) -> dict[str, MigrationContext]:
    """Connect to every database and configure a migration context for it.

    Every database is connected to before any context is returned, so an
    unreachable one stops the command before anything has run anywhere.

    :param env: The environment the contexts are configured from.
    :param targets: The databases, by name.
    :param options: ``ALEMBIC_CONTEXT`` options for every context.
    :raise DatabaseError: If a database cannot be connected to. Connections
        already opened are closed.
    """
    multidb = len(targets) > 1
    contexts: dict[str, MigrationContext] = {}

    try:
        for name, target in targets.items():
            connection = connect(target)
            tokens: dict[str, t.Any] = {}

            if multidb:
                # The multidb template renders each database's operations
                # into its own upgrade_<name>/downgrade_<name> functions.
                tokens = {
                    "upgrade_token": f"{name}_upgrades",
                    "downgrade_token": f"{name}_downgrades",
                }

            try:
                # With several databases the tokens must be flask_alembic's,
                # which the multidb template expects; with one, the user's.
                env.configure(
                    connection=connection,
                    target_metadata=target.metadata,
                    **{**options, **tokens},
                )
            except BaseException:
                connection.close()
                raise

            contexts[name] = env.get_context()
            # Each configure writes into the same options dict, which the new
            # context keeps a reference to. Give the next one its own copy.
            env.context_opts = env.context_opts.copy()
    except BaseException:
        close_contexts(contexts)
        raise

    return contexts


def connect(target: Target) -> sa.Connection:
    """Open a connection to a database, with a message naming it if that
    fails.

    :raise DatabaseError: If the database is unreachable, refuses the
        credentials, or its driver is missing.
    """
    try:
        return target.engine.connect()
    except (sa_exc.DBAPIError, sa_exc.NoSuchModuleError, ImportError) as e:
        raise DatabaseError(
            target.name,
            safe_url(target.engine),
            _reason(e, target.engine),
            _fix(e),
        ) from e


def _reason(error: BaseException, engine: sa.Engine) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    return mask_password(reason.rstrip("."), engine.url)


def _fix(error: BaseException) -> str:
    if isinstance(error, (ImportError, sa_exc.NoSuchModuleError)):
        return "Install the database driver the URL names."

    return (
        "Check that the server is running and that the URL and credentials are right."
    )


def mask_password(text: str, url: sa.URL) -> str:
    """Replace a URL's password in a text, in case a driver repeated it."""
    secrets = [str(url.password)] if url.password else []

    for key, value in url.query.items():
        if key.lower() in SECRET_QUERY_KEYS:
            secrets.extend([value] if isinstance(value, str) else value)

    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")

    return text


def close_contexts(contexts: cabc.Mapping[str, MigrationContext]) -> None:
    """Close the connection of each context, rolling back anything left open.

    A migration may change session settings (``SET search_path``,
    ``SET FOREIGN_KEY_CHECKS=0``), so the connection is discarded rather than
    returned to the pool the application's requests use. Pools that hold a
    single connection keep it, since discarding it would lose an in-memory
    SQLite database.
    """
    for context in contexts.values():
        connection = context.connection

        if connection is None:
            continue

        if not isinstance(connection.engine.pool, _SINGLE_CONNECTION_POOLS):
            connection.invalidate()

        connection.close()


_SINGLE_CONNECTION_POOLS = (sa.pool.StaticPool, sa.pool.SingletonThreadPool)


def run(
    contexts: cabc.Mapping[str, MigrationContext],
    fn: MigrationsFn,
    **kwargs: t.Any,
) -> None:
    """Run a migration function on every database.

    Every database's transaction is begun before any migration runs. If one
    fails, the ones still open are rolled back.

    :param contexts: The configured contexts, by database name.
    :param fn: Called with each database's current heads and its context;
        returns the steps to run.
    :param kwargs: Passed to each revision's ``upgrade`` or ``downgrade``.
        With several databases, ``engine_name`` is added, as the ``multidb``
        template expects.
    """
    multidb = len(contexts) > 1

    with contextlib.ExitStack() as stack:
        for context in contexts.values():
            stack.enter_context(context.begin_transaction())

        for name, context in contexts.items():
            set_migrations_fn(context, fn)
            run_kwargs = dict(kwargs)

            if multidb:
                run_kwargs["engine_name"] = name

            # EnvironmentContext.run_migrations would use the last configured
            # context only; run each one directly with its own operations.
            with Operations.context(context):
                context.run_migrations(**run_kwargs)
