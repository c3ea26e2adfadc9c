"""The registry: every branch the configuration declares, plus the implicit
ones, validated as a whole.

Pure: built from the configuration model and the app's root path, with no
Flask, no files and no database.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import difflib
import os
import re

from ..config import AlembicSettings
from ..config import bind_path
from ..config import branch_path
from ..config import DEFAULT_BIND
from ..config import resolve_path
from ..errors import ConfigError
from ..errors import UnknownBranchError

#: The branch of ``script_location``, and of histories without labels.
DEFAULT_BRANCH = "default"

#: A branch name: a letter or underscore, then letters, digits, ``_`` or ``-``.
#: No path separators, ``@`` or dots, which Alembic would read as syntax.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

#: Words Alembic gives a meaning of their own in revision arguments.
_RESERVED = {"head", "heads", "base", "current"}


@dataclasses.dataclass(frozen=True)
class Branch:
    """One independent line of revisions.

    .. versionadded:: 4.0
    """

    #: The branch label its revisions carry.
    name: str
    #: The directory its revisions are written to: absolute, or a
    #: ``package:path`` resource.
    path: str
    #: The database its revisions run on.
    bind: str = DEFAULT_BIND
    #: Branches whose heads its first revision depends on.
    depends_on: tuple[str, ...] = ()
    #: What the branch is for.
    description: str = ""
    #: Whether ``ALEMBIC["branches"]`` declares it, rather than it being
    #: implicit (``default``, or a ``(branch, path)`` version location).
    declared: bool = False


@dataclasses.dataclass(frozen=True)
class Registry:
    """The branches of an application, by name, ``default`` first.

    .. versionadded:: 4.0
    """

    branches: cabc.Mapping[str, Branch]
    #: The binds, each after the binds it depends on; ``("default",)`` unless
    #: ``ALEMBIC["binds"]`` declares more.
    binds: tuple[str, ...] = (DEFAULT_BIND,)
    #: Whether ``ALEMBIC["binds"]`` is declared: each bind has its own history.
    per_bind: bool = False

    def __iter__(self) -> cabc.Iterator[Branch]:
        return iter(self.branches.values())

    def __contains__(self, name: object) -> bool:
        return name in self.branches

    def __len__(self) -> int:
        return len(self.branches)

    @property
    def names(self) -> list[str]:
        """The branch names, ``default`` first."""
        return list(self.branches)

    @property
    def declares(self) -> bool:
        """Whether any branch is declared in ``ALEMBIC["branches"]``. Then
        only known names may be used for new revisions.
        """
        return any(branch.declared for branch in self)

    def get(self, name: str) -> Branch | None:
        """The branch of that name, or ``None``."""
        return self.branches.get(name)

    def require(self, name: str, also_known: cabc.Iterable[str] = ()) -> Branch | None:
        """The branch of that name; ``None`` if it is not in the registry but
        is one of ``also_known`` (such as labels found in the history).

        :raise UnknownBranchError: If the name is known nowhere, with close
            matches.
        """
        if name in self.branches:
            return self.branches[name]

        known = [*self.branches, *(n for n in also_known if n not in self.branches)]

        if name in known:
            return None

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        raise UnknownBranchError(name, known, close)

    def branches_of(self, bind: str) -> list[Branch]:
        """The branches whose revisions run on a bind."""
        return [branch for branch in self if branch.bind == bind]

    def bind_of(self, labels: cabc.Iterable[str]) -> str:
        """The bind of a revision with these branch labels: that of the first
        label that is a known branch, else ``default``, whose history may
        carry no label at all.
        """
        for label in sorted(labels):
            branch = self.branches.get(label)

            if branch is not None:
                return branch.bind

        return DEFAULT_BIND

    def dependencies(self, name: str) -> list[Branch]:
        """Every branch a branch depends on, directly or not, nearest first."""
        seen: dict[str, Branch] = {}
        queue = list(self.branches[name].depends_on)

        while queue:
            dep = queue.pop(0)

            if dep not in seen and dep != name:
                seen[dep] = self.branches[dep]
                queue.extend(self.branches[dep].depends_on)

        return list(seen.values())


def build_registry(
    settings: AlembicSettings, root_path: str, versions: str | None = None
) -> Registry:
    """Build the registry from the validated configuration and check it as a
    whole.

    :param settings: The validated ``ALEMBIC`` configuration.
    :param root_path: The application's root path.
    :param versions: The directory of the ``default`` branch's revisions, if
        it is not ``script_location`` (Flask-Migrate's ``versions``).
    :raise ConfigError: Listing every problem: bad names, shared paths, paths
        outside the root, unknown ``depends_on`` names or binds, cycles.
    """
    problems: list[tuple[str, str]] = []
    known_binds = [DEFAULT_BIND, *(b for b in settings.binds if b != DEFAULT_BIND)]
    branches: dict[str, Branch] = {
        DEFAULT_BRANCH: Branch(
            DEFAULT_BRANCH,
            versions or resolve_path(settings.script_location, root_path),
        )
    }

    for name in known_binds[1:]:
        key = f"ALEMBIC.binds.{name}"

        if not _check_name(name, key, problems, "bind"):
            continue

        path = bind_path(settings, name)
        _check_inside_root(path, root_path, f"{key}.path", problems)
        # A bind's branch is declared by declaring the bind.
        branches[name] = Branch(
            name, resolve_path(path, root_path), name, declared=True
        )

    for index, item in enumerate(settings.version_locations):
        if isinstance(item, str):
            continue

        name, path = item
        key = f"ALEMBIC.version_locations.{index}"

        if not _check_name(name, key, problems):
            continue

        if name in branches:
            problems.append((key, _taken(branches[name])))
        else:
            branches[name] = Branch(name, resolve_path(path, root_path))

    for name, config in settings.branches.items():
        key = f"ALEMBIC.branches.{name}"

        if not _check_name(name, key, problems):
            continue

        if name in branches:
            problems.append((key, _taken(branches[name])))
            continue

        path = branch_path(settings, name, config)
        _check_inside_root(path, root_path, f"{key}.path", problems)

        if config.bind not in known_binds:
            problems.append((f"{key}.bind", _unknown("bind", config.bind, known_binds)))

        branches[name] = Branch(
            name,
            resolve_path(path, root_path),
            config.bind,
            tuple(config.depends_on),
            config.description,
            declared=True,
        )

    _check_paths(branches, problems)
    _check_depends_on(settings, branches, problems)
    order = _order_binds(settings, known_binds, branches, problems)

    if problems:
        raise ConfigError(problems)

    return Registry(branches, tuple(order), per_bind=bool(settings.binds))


def _taken(branch: Branch) -> str:
    if branch.name == branch.bind and branch.name != DEFAULT_BRANCH:
        return (
            f"'{branch.name}' is already the branch of bind '{branch.name}';"
            " pick another name"
        )

    return f"'{branch.name}' is already a branch; pick another name"


def _order_binds(
    settings: AlembicSettings,
    known_binds: list[str],
    branches: dict[str, Branch],
    problems: list[tuple[str, str]],
) -> list[str]:
    """The binds, each after those it depends on: through its own
    ``depends_on``, or a branch of it depending on a branch of another bind.
    Binds in a cycle are reported and put last.
    """
    needs: dict[str, list[str]] = {name: [] for name in known_binds}

    for name, bind in settings.binds.items():
        for dep in bind.depends_on:
            if dep not in needs:
                problems.append(
                    (
                        f"ALEMBIC.binds.{name}.depends_on",
                        _unknown("bind", dep, known_binds),
                    )
                )
            elif name in needs and dep not in needs[name]:
                needs[name].append(dep)

    for branch in branches.values():
        for dep in branch.depends_on:
            other = branches.get(dep)

            if (
                other is not None
                and other.bind != branch.bind
                and branch.bind in needs
                and other.bind not in needs[branch.bind]
            ):
                needs[branch.bind].append(other.bind)

    for cycle in find_cycles(needs):
        path = " -> ".join([*cycle, cycle[0]])
        # Point at a bind whose depends_on the user wrote, where there is one.
        where = next((name for name in cycle if name in settings.binds), cycle[0])
        problems.append(
            (
                f"ALEMBIC.binds.{where}.depends_on",
                f"binds depend on each other in a cycle ({path}), directly or"
                " through their branches; remove one of the dependencies",
            )
        )

    order: list[str] = []

    while len(order) < len(needs):
        ready = [
            name
            for name in needs
            if name not in order and all(dep in order for dep in needs[name])
        ]

        if not ready:
            return [*order, *(name for name in needs if name not in order)]

        order.append(ready[0])

    return order


def _check_name(
    name: str, key: str, problems: list[tuple[str, str]], kind: str = "branch"
) -> bool:
    if not _NAME.match(name):
        problems.append(
            (
                key,
                f"'{name}' is not a valid {kind} name; use letters, digits, '_'"
                " and '-', starting with a letter or '_' (no '/', '@' or '.')",
            )
        )
        return False

    if name in _RESERVED:
        problems.append((key, f"'{name}' means something else to Alembic; rename it"))
        return False

    return True


def _check_inside_root(
    path: str, root_path: str, key: str, problems: list[tuple[str, str]]
) -> None:
    if os.path.isabs(path) or ":" in path:
        return

    full = os.path.normpath(os.path.join(root_path, path))
    root = os.path.normpath(root_path)

    if os.path.commonpath([full, root]) != root:
        problems.append(
            (
                key,
                f"'{path}' is outside the application root; use a path inside it,"
                " or an absolute path",
            )
        )


def _check_paths(branches: dict[str, Branch], problems: list[tuple[str, str]]) -> None:
    owners: dict[str, str] = {}

    for branch in branches.values():
        path = os.path.normpath(branch.path)

        if path in owners:
            problems.append(
                (
                    _key(branch),
                    f"shares its path with branch '{owners[path]}'; give each"
                    " branch its own directory",
                )
            )
        else:
            owners[path] = branch.name


def _check_depends_on(
    settings: AlembicSettings,
    branches: dict[str, Branch],
    problems: list[tuple[str, str]],
) -> None:
    for name, config in settings.branches.items():
        for dep in config.depends_on:
            if dep not in branches:
                problems.append(
                    (
                        f"ALEMBIC.branches.{name}.depends_on",
                        _unknown("branch", dep, list(branches)),
                    )
                )

    graph = {name: list(branch.depends_on) for name, branch in branches.items()}

    for cycle in find_cycles(graph):
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(
            (
                f"ALEMBIC.branches.{cycle[0]}.depends_on",
                f"branches depend on each other in a cycle ({path}); remove one"
                " of the dependencies",
            )
        )


def find_cycles(graph: cabc.Mapping[str, cabc.Sequence[str]]) -> list[list[str]]:
    """The cycles of a dependency graph (name -> names it depends on), each
    name in one at most, each in the order its dependencies lead. The walk
    keeps its own stack, so a history thousands of revisions deep is fine.
    """
    done: set[str] = set()
    cycles = []

    for start in graph:
        if start in done:
            continue

        trail = [start]
        on_trail = {start: 0}
        stack = [iter(graph[start])]
        found: list[str] | None = None

        while stack and found is None:
            for dep in stack[-1]:
                if dep in on_trail:
                    found = trail[on_trail[dep] :]
                    break

                if dep in done or dep not in graph:
                    continue

                on_trail[dep] = len(trail)
                trail.append(dep)
                stack.append(iter(graph[dep]))
                break
            else:
                stack.pop()
                done.add(trail[-1])
                del on_trail[trail.pop()]

        if found:
            cycles.append(found)
            done.update(found)

    return cycles


def _unknown(kind: str, name: str, known: list[str]) -> str:
    message = f"unknown {kind} '{name}' (known: {', '.join(known)})"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)

    if close:
        message += f"; did you mean '{close[0]}'?"

    return message


def _key(branch: Branch) -> str:
    if branch.name == branch.bind and branch.name != DEFAULT_BRANCH:
        return f"ALEMBIC.binds.{branch.name}.path"

    if branch.declared:
        return f"ALEMBIC.branches.{branch.name}.path"

    if branch.name == DEFAULT_BRANCH:
        return "ALEMBIC.script_location"

    return "ALEMBIC.version_locations"
