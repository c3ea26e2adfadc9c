"""A cache of the header values of revision files.

Building the revision graph needs five values from each file: its id, its
``down_revision``, ``branch_labels`` and ``depends_on``, and its docstring.
Alembic executes every file to read them, on every command. Here they are
kept in one file per version location, ``__pycache__/flask_alembic-headers.json``,
each entry keyed by the file's name, size, modification and change times and
inode, so a command reads one small file and stats each revision file. A
file whose key changed is executed again; a file that is gone is dropped.

A file changed twice within the file system's timestamp resolution would
keep its key, so entries for files changed in the last few seconds are never
written: the next command reads those files again. No Flask or Alembic here.
"""

from __future__ import annotations

import json
import logging
import os
import time
import typing as t

logger = logging.getLogger(__name__)

#: The cache file, in the version location's ``__pycache__`` directory.
FILENAME = "flask_alembic-headers.json"

#: Changes to the cache's layout change this, which discards older caches.
FORMAT = 1

#: Files changed more recently than this, in nanoseconds, are not cached.
#: Two seconds covers the coarsest timestamps in use (FAT's).
RACY_NS = 2_000_000_000

#: A header value: ``None``, a string, or a tuple or list of strings.
Value: t.TypeAlias = "str | tuple[str, ...] | list[str] | None"


class Header(t.NamedTuple):
    """What the revision graph needs from a revision file."""

    revision: str
    down_revision: Value
    branch_labels: Value
    depends_on: Value
    doc: str | None


def key(stat: os.stat_result) -> list[int]:
    """What must be unchanged for a cached header to be used."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


class HeaderCache:
    """The cached headers of the revision files in one directory.

    :param directory: A version location.
    :param enabled: If false, nothing is read or written.
    """

    def __init__(self, directory: str, enabled: bool = True) -> None:
        self.path = os.path.join(directory, "__pycache__", FILENAME)
        self.enabled = enabled
        self._old: dict[str, t.Any] = self._read() if enabled else {}
        self._new: dict[str, t.Any] = {}

    def _read(self) -> dict[str, t.Any]:
        try:
            with open(self.path, encoding="utf-8") as file:
                data = json.load(file)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            logger.debug("Ignoring the header cache %s: %s", self.path, e)
            return {}

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return {}

        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, name: str, stat: os.stat_result) -> Header | None:
        """The cached header of a file, if its key is unchanged.

        :param name: The file's path relative to the directory.
        :param stat: The file's current ``os.stat()``.
        """
        entry = self._old.get(name)

        if entry is None:
            return None

        try:
            if entry[0] != key(stat):
                return None

            header = Header(
                entry[1],
                _decode(entry[2]),
                _decode(entry[3]),
                _decode(entry[4]),
                entry[5],
            )
        except (IndexError, TypeError, ValueError):
            return None

        if not isinstance(header.revision, str) or not (
            header.doc is None or isinstance(header.doc, str)
        ):
            return None

        self._new[name] = entry
        return header

    def put(self, name: str, stat: os.stat_result, header: Header) -> None:
        """Record the header of a file that was just executed, unless its
        values cannot be stored or it changed too recently to be trusted.
        """
        now = time.time_ns()

        if now - max(stat.st_mtime_ns, stat.st_ctime_ns) < RACY_NS:
            return

        try:
            values = [_encode(value) for value in header[1:4]]
        except TypeError:
            return

        self._new[name] = [key(stat), header.revision, *values, header.doc]

    def save(self) -> None:
        """Write the cache if a file was added, changed or removed. A cache
        that cannot be written is skipped: it only saves time.
        """
        if not self.enabled or self._new == self._old:
            return

        data = json.dumps(
            {"format": FORMAT, "entries": self._new}, separators=(",", ":")
        )
        directory = os.path.dirname(self.path)
        temporary = f"{self.path}.{os.getpid()}.tmp"

        try:
            os.makedirs(directory, exist_ok=True)

            with open(temporary, "w", encoding="utf-8") as file:
                file.write(data)

            os.replace(temporary, self.path)
        except OSError as e:
            logger.debug("Could not write the header cache %s: %s", self.path, e)

            try:
                os.unlink(temporary)
            except OSError:
                pass


def _encode(value: object) -> t.Any:
    """A header value as JSON: tuples are kept apart from lists, as Alembic
    gives them back as they were written.
    """
    if value is None or isinstance(value, str):
        return value

    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return {"tuple": list(value)} if isinstance(value, tuple) else list(value)

    raise TypeError(f"cannot cache {type(value).__name__}")


def _decode(value: t.Any) -> Value:
    if value is None or isinstance(value, str):
        return value

    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value

    if isinstance(value, dict) and isinstance(value.get("tuple"), list):
        return tuple(_decode(value["tuple"]) or ())

    raise ValueError("not a header value")
