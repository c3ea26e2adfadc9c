"""Run Alembic, which is synchronous, on engines made with SQLAlchemy's
asyncio extension.

Such an engine's ``sync_engine`` works only inside SQLAlchemy's
``greenlet_spawn``, as ``AsyncConnection.run_sync`` uses it: each time the
driver must wait, the greenlet hands the awaitable to an event loop. The
extension's methods that connect are wrapped in :func:`bridged`, which runs
the whole call that way on an event loop of its own, then closes the
connections it opened there: an asyncpg connection belongs to the loop it
was opened in, and the loop ends with the call. No Flask here.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import concurrent.futures
import contextvars
import functools
import typing as t

from sqlalchemy.util import greenlet_spawn

_P = t.ParamSpec("_P")
_R = t.TypeVar("_R")

#: Whether the code running is inside :func:`run`, where the engines of
#: async targets can connect. A context variable, so that it follows the
#: call into the greenlet and into a worker thread, and no further.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "flask_alembic_async", default=False
)


def active() -> bool:
    """Whether the calling code runs inside :func:`run`."""
    return _inside.get()


def run(fn: cabc.Callable[[], _R], close: cabc.Callable[[], None]) -> _R:
    """Call a function where async engines' ``sync_engine`` can connect:
    inside ``greenlet_spawn``, on a new event loop.

    If an event loop is already running in this thread (an async view, an
    async test), a second one cannot run here, so the call runs in a new
    thread with the caller's context variables (the Flask app context), and
    the caller waits for it, as for any synchronous call.

    :param fn: What to call. Inside an outer :func:`run`, it is called
        directly.
    :param close: Called after ``fn``, however it ends, still on the loop:
        closes the connections that belong to it.
    :return: What ``fn`` returns. Its exceptions propagate unchanged.
    """
    if _inside.get():
        return fn()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_spawn(fn, close))

    context = contextvars.copy_context()

    with concurrent.futures.ThreadPoolExecutor(
        1, thread_name_prefix="flask_alembic"
    ) as pool:
        future = pool.submit(context.run, _run_loop, fn, close)
        return future.result()


def _run_loop(fn: cabc.Callable[[], _R], close: cabc.Callable[[], None]) -> _R:
    return asyncio.run(_spawn(fn, close))


async def _spawn(fn: cabc.Callable[[], _R], close: cabc.Callable[[], None]) -> _R:
    # The loop's task runs in a copy of the caller's context, which the
    # greenlet shares: the flag is seen by nested calls and gone afterwards.
    _inside.set(True)
    return await greenlet_spawn(_call, fn, close)


def _call(fn: cabc.Callable[[], _R], close: cabc.Callable[[], None]) -> _R:
    try:
        return fn()
    finally:
        close()


class Bridgeable(t.Protocol):
    """What :func:`bridged` needs of the object whose methods it wraps."""

    def _uses_async(self) -> bool:
        """Whether any database is reached through an async engine."""

    def _close_async(self) -> None:
        """Close the connections of async engines, inside :func:`run`."""


_S = t.TypeVar("_S", bound=Bridgeable)


def bridged(
    method: cabc.Callable[t.Concatenate[_S, _P], _R],
) -> cabc.Callable[t.Concatenate[_S, _P], _R]:
    """Run a method inside :func:`run` when its object uses an async engine;
    otherwise, and inside another bridged call, call it as it is.
    """

    @functools.wraps(method)
    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if _inside.get() or not self._uses_async():
            return method(self, *args, **kwargs)

        return run(functools.partial(method, self, *args, **kwargs), self._close_async)

    return wrapper
