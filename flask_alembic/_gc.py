"""Pause Python's cyclic garbage collector while autogenerate runs and
while the history is read, and keep it from walking everything when a
``flask db`` process ends.

Comparing hundreds of tables with the database and rendering the revision
allocates objects in bursts, and the collector answers each burst by walking
the objects it tracks, most of them the app's and its libraries', none of
them garbage. Over a 300-table comparison that was a fifth of the time.
Reading thousands of revisions allocates objects that all stay in use.
Objects freed by reference counting are still freed at once; cycles made
during the block are left to the next full collection, which raises the peak
memory of a 300-table comparison by about 30 MiB.
"""

from __future__ import annotations

import atexit
import collections.abc as cabc
import contextlib
import gc
import weakref

import sqlalchemy as sa


@contextlib.contextmanager
def sparing() -> cabc.Iterator[None]:
    """Disable the collector until the block ends, if it is enabled."""
    if not gc.isenabled():
        yield
        return

    gc.disable()

    try:
        yield
    finally:
        if not gc.get_freeze_count():
            # Everything allocated during the block is in the youngest
            # generation, and the first collection after it would walk it
            # all (a third of a second after a 300-table comparison). Moved
            # to the oldest generation instead, its cycles wait for the next
            # full collection. Skipped if the app froze objects itself (as
            # before forking workers): unfreeze would undo that.
            gc.freeze()
            gc.unfreeze()

        gc.enable()


#: The engines ``flask db`` commands used in this process, disposed at exit.
_engines: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
_arranged = False


def end_quickly(engines: cabc.Iterable[sa.Engine]) -> None:
    """Dispose these engines when the process exits, then let it end
    without a last walk of every object it holds.

    Python ends by collecting garbage, clearing every module and collecting
    again, walking every object the app and its libraries made and freeing
    them one by one: a quarter of a second for the benchmark's small app,
    longer than most ``flask db`` commands take. At exit, after the exit
    handlers registered after this one and before those registered before
    it, the engines a command used are disposed, so their pooled
    connections close properly; the garbage left at that point is
    collected, so its finalizers run; and the objects still alive are
    frozen, so the interpreter does not walk them again. Python does not
    promise to finalize objects still alive when it exits, and a frozen
    object freed by reference counting is still finalized; what is skipped
    is freeing reference cycles the process held until its end.
    """
    global _arranged

    if not _arranged:
        atexit.register(_at_exit)
        _arranged = True

    _engines.update(engines)


def _at_exit() -> None:
    for engine in list(_engines):
        with contextlib.suppress(Exception):
            engine.dispose()

    gc.collect()
    gc.freeze()
