"""A picture of the revision history: text for a terminal, a Mermaid
flowchart, or a Graphviz graph.

Pure: drawn from the revision map, the registry and the revisions each
database is at, with no Flask, no files and no database.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import re

from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap

from . import _alembic
from .branches.registry import DEFAULT_BRANCH
from .branches.registry import Registry
from .branches.resolver import down_revisions
from .branches.resolver import in_branch
from .branches.resolver import is_revision_id
from .branches.status import oldest_first

#: The formats :func:`render` draws.
FORMATS = ("ascii", "mermaid", "dot")


@dataclasses.dataclass
class _Node:
    """One revision of the picture, or a run of revisions collapsed into one
    entry.
    """

    ident: str
    #: The first line of the revision's message.
    message: str
    #: The bind the revision runs on.
    bind: str
    #: The ids of its down revisions that the picture shows.
    parents: list[str]
    #: The ids of the revisions that follow it in the picture.
    children: list[str] = dataclasses.field(default_factory=list)
    #: The branch labels the revision declares itself.
    labels: tuple[str, ...] = ()
    #: The ids of the revisions its ``depends_on`` names.
    depends_on: tuple[str, ...] = ()
    #: The databases whose newest applied revision of the picture it is.
    current: tuple[str, ...] = ()
    #: For a collapsed run, how many revisions it stands for.
    hidden: int = 0


@dataclasses.dataclass
class _Section:
    """The revisions of one bind, or of the whole history, as lines of
    history that are not connected to each other, each newest first.
    """

    bind: str | None
    components: list[list[_Node]]

    def oldest_first(self) -> list[_Node]:
        return [node for nodes in self.components for node in reversed(nodes)]


def render(
    revision_map: RevisionMap,
    registry: Registry,
    current: cabc.Mapping[str, cabc.Iterable[str]],
    *,
    format: str = "ascii",
    binds: cabc.Collection[str] | None = None,
    branch: str | None = None,
    collapse: int = 5,
) -> str:
    """Draw the revision history.

    Every revision shows its id, the first line of its message, the branch
    labels it declares and the databases at it; ``depends_on`` is drawn
    apart from ``down_revision``. With per-bind histories the revisions are
    grouped by the bind they run on.

    A straight line of more than ``collapse`` revisions is drawn as its
    first revision, an entry standing for the revisions inside it, and its
    last revision. Only revisions that are plain links of the line are
    collapsed: one parent and one child in the picture, no branch label of
    their own, no database at them, and no ``depends_on`` from or to them.

    :param revision_map: The known revisions.
    :param registry: The declared and implicit branches.
    :param current: The revision ids each database's version table records,
        by database name. Each database is marked on the newest revisions of
        the picture it has applied. Leave out a database that could not be
        read.
    :param format: ``"ascii"``, ``"mermaid"`` or ``"dot"``.
    :param binds: With per-bind histories, only the revisions of these binds.
    :param branch: Only the revisions of this branch.
    :param collapse: The longest straight line drawn in full; ``0`` draws
        every revision.
    :raise ValueError: If ``format`` is unknown, or ``collapse`` is 1 or 2,
        which would not make a line shorter.
    """
    if format not in FORMATS:
        raise ValueError(
            f"Unknown format '{format}': use {', '.join(repr(f) for f in FORMATS)}."
        )

    if collapse < 0 or collapse in (1, 2):
        raise ValueError(
            f"Cannot collapse lines of more than {collapse} revisions: use 0 to"
            " show every revision, or 3 or more."
        )

    history = oldest_first(revision_map)

    if binds is not None and registry.per_bind:
        history = [r for r in history if registry.bind_of(r.branch_labels) in binds]

    if branch is not None:
        history = [r for r in history if in_branch(r, branch)]

    nodes = _nodes(revision_map, registry, history, current)

    if collapse:
        nodes = _collapse(nodes, collapse)

    sections = _sections(nodes, registry, history)
    return _RENDERERS[format](sections, nodes)


def _nodes(
    revision_map: RevisionMap,
    registry: Registry,
    history: list[Revision],
    current: cabc.Mapping[str, cabc.Iterable[str]],
) -> dict[str, _Node]:
    """The picture's revisions by id, oldest first, linked to each other."""
    nodes: dict[str, _Node] = {}

    for rev in history:
        parents = [p for p in dict.fromkeys(down_revisions(rev)) if p in nodes]
        nodes[rev.revision] = _Node(
            rev.revision,
            _first_line(getattr(rev, "doc", None)),
            registry.bind_of(rev.branch_labels),
            parents,
            labels=_alembic.own_labels(rev),
            depends_on=_alembic.dependency_ids(rev),
        )

        for parent in parents:
            nodes[parent].children.append(rev.revision)

    for name, recorded in current.items():
        known = [r for r in recorded if is_revision_id(revision_map, r)]
        applied = _alembic.applied_ids(revision_map, known) if known else set()

        for node in nodes.values():
            if node.ident in applied and not any(c in applied for c in node.children):
                node.current += (name,)

    return nodes


def _first_line(doc: object) -> str:
    lines = doc.strip().splitlines() if isinstance(doc, str) else []
    return lines[0].strip() if lines else ""


def _collapse(nodes: dict[str, _Node], longest: int) -> dict[str, _Node]:
    """Replace each run of more than ``longest - 2`` plain revisions in a
    straight line by one entry that stands for them.
    """
    dependencies = {dep for node in nodes.values() for dep in node.depends_on}

    def plain(node: _Node) -> bool:
        if len(node.parents) != 1 or len(node.children) != 1:
            return False

        parent, child = nodes[node.parents[0]], nodes[node.children[0]]
        return (
            not node.labels
            and not node.current
            and not node.depends_on
            and node.ident not in dependencies
            and parent.bind == node.bind == child.bind
        )

    runs: list[list[_Node]] = []

    for node in nodes.values():
        # Oldest first, so a run starts at a plain revision whose parent is
        # not plain.
        if plain(node) and not plain(nodes[node.parents[0]]):
            run = [node]

            while plain(nodes[run[-1].children[0]]):
                run.append(nodes[run[-1].children[0]])

            if len(run) + 2 > longest:
                runs.append(run)

    if not runs:
        return nodes

    result = dict(nodes)

    for run in runs:
        first, last = run[0], run[-1]
        parent, child = first.parents[0], last.children[0]
        # "@" cannot be part of a revision id, so this key is no revision's.
        key = f"@{first.ident}"

        for node in run:
            del result[node.ident]

        result[key] = _Node(key, "", first.bind, [parent], [child], hidden=len(run))
        result[parent].children = [
            key if c == first.ident else c for c in result[parent].children
        ]
        result[child].parents = [
            key if p == last.ident else p for p in result[child].parents
        ]

    # Keep the oldest-first order, with each entry where its run was.
    order = {ident: index for index, ident in enumerate(nodes)}
    return dict(sorted(result.items(), key=lambda item: order[item[0].lstrip("@")]))


def _sections(
    nodes: dict[str, _Node], registry: Registry, history: list[Revision]
) -> list[_Section]:
    """Group the picture by bind with per-bind histories, and each group
    into the lines of history that are not connected to each other. The
    lines are in the order of the branches they carry in the registry, each
    drawn newest first.
    """
    binds: list[str | None] = list(registry.binds) if registry.per_bind else [None]
    ranks = {name: index for index, name in enumerate(registry.names)}
    position = {rev.revision: index for index, rev in enumerate(history)}
    branch_rank: dict[str, int] = {}

    for rev in history:
        labels = rev.branch_labels or {DEFAULT_BRANCH}
        branch_rank[rev.revision] = min(
            ranks.get(label, len(ranks)) for label in labels
        )

    def rank(ident: str) -> tuple[int, int]:
        ident = ident.lstrip("@")
        return branch_rank[ident], position[ident]

    sections = []

    for bind in binds:
        members = [n for n in nodes.values() if bind is None or n.bind == bind]

        if not members:
            continue

        components = _components(members)
        components.sort(key=lambda c: min(rank(n.ident) for n in c))
        sections.append(_Section(bind, [_newest_first(c, rank) for c in components]))

    return sections


def _components(members: list[_Node]) -> list[list[_Node]]:
    """The lines of history connected through ``down_revision``."""
    by_id = {node.ident: node for node in members}
    root: dict[str, str] = {ident: ident for ident in by_id}

    def find(ident: str) -> str:
        while root[ident] != ident:
            root[ident] = root[root[ident]]
            ident = root[ident]

        return ident

    for node in members:
        for parent in node.parents:
            if parent in by_id:
                root[find(node.ident)] = find(parent)

    groups: dict[str, list[_Node]] = {}

    for node in members:
        groups.setdefault(find(node.ident), []).append(node)

    return list(groups.values())


def _newest_first(
    component: list[_Node], rank: cabc.Callable[[str], tuple[int, int]]
) -> list[_Node]:
    """A component's revisions, each before the revisions it follows, the
    revisions of one line together: the reverse of a depth-first walk from
    the heads through the parents, which emits each revision after its
    parents.
    """
    by_id = {node.ident: node for node in component}
    heads = sorted(
        (n.ident for n in component if not any(c in by_id for c in n.children)),
        key=rank,
    )
    order: dict[str, _Node] = {}
    stack = [(head, False) for head in reversed(heads)]

    while stack:
        ident, expanded = stack.pop()

        if ident in order:
            continue

        if expanded:
            order[ident] = by_id[ident]
        else:
            stack.append((ident, True))
            parents = [p for p in by_id[ident].parents if p in by_id]
            stack.extend((p, False) for p in reversed(parents))

    return list(reversed(order.values()))


def _ascii(sections: list[_Section], nodes: dict[str, _Node]) -> str:
    """Lines of history drawn with ``*`` for each revision, newest first,
    ``|``, ``/``, ``\\`` and ``X`` for the links to its parents, ``:`` for
    collapsed revisions. A blank line separates lines of history that do not
    meet; with per-bind histories, each bind is under a heading.
    """
    blocks = []

    for section in sections:
        lines = [] if section.bind is None else [f"Bind '{section.bind}':"]

        for index, component in enumerate(section.components):
            if index:
                lines.append("")

            lines.extend(_draw(component))

        blocks.append("\n".join(lines))

    return "\n\n".join(blocks) + "\n" if blocks else ""


def _draw(component: list[_Node]) -> list[str]:
    """The rows of one line of history, newest first.

    Each column is a lane waiting for the revision it leads to. A revision
    is drawn in its lane, which then leads to its first parent; a merge
    opens a lane for each other parent to its right. After each revision,
    lanes waiting for the same revision join and gaps close, one column per
    row.
    """
    members = {node.ident for node in component}
    lanes: list[str | None] = []
    rows: list[str] = []
    ended: int | None = None

    for node in component:
        if node.ident in lanes:
            column = lanes.index(node.ident)
        else:
            column = len(lanes)

            if ended == column:
                # A line ended right here on the row above: leave a gap, or
                # this revision would seem to follow that one.
                rows.append(_lanes_row(lanes))

            lanes.append(node.ident)

        mark = ":" if node.hidden else "*"
        rows.append(_lanes_row(lanes, column, mark) + " " + _ascii_text(node))
        parents = [p for p in node.parents if p in members]
        lanes[column] = parents[0] if parents else None

        for parent in reversed(parents[1:]):
            rows.append(_fork_row(lanes, column))
            lanes.insert(column + 1, parent)

        joins, lanes = _compact(lanes)
        rows.extend(joins)
        ended = column if not parents and not joins else None

    return rows


def _lanes_row(lanes: list[str | None], column: int = -1, mark: str = "") -> str:
    chars = [" "] * (2 * len(lanes))

    for index, lane in enumerate(lanes):
        if index == column:
            chars[2 * index] = mark
        elif lane is not None:
            chars[2 * index] = "|"

    return "".join(chars).rstrip()


def _fork_row(lanes: list[str | None], column: int) -> str:
    """The row where a merge opens a lane right of its own: the lanes right
    of it move one column right.
    """
    chars = [" "] * (2 * len(lanes) + 2)

    for index, lane in enumerate(lanes):
        if lane is None:
            continue

        if index <= column:
            chars[2 * index] = "|"
        else:
            chars[2 * index + 1] = "\\"

    chars[2 * column + 1] = "\\"
    return "".join(chars).rstrip()


def _compact(lanes: list[str | None]) -> tuple[list[str], list[str | None]]:
    """The rows that join lanes waiting for the same revision and close the
    gaps, and the lanes after them.
    """
    target: list[str | None] = list(dict.fromkeys(x for x in lanes if x is not None))
    rows = []
    lanes = _trim(lanes)

    while lanes != target:
        row, lanes = _step(lanes, target)
        rows.append(row)
        lanes = _trim(lanes)

    return rows, lanes


def _trim(lanes: list[str | None]) -> list[str | None]:
    end = len(lanes)

    while end and lanes[end - 1] is None:
        end -= 1

    return lanes[:end]


def _step(
    lanes: list[str | None], target: list[str | None]
) -> tuple[str, list[str | None]]:
    """One row of :func:`_compact`: each lane left of its place moves one
    column left. A lane that would land on another lane crosses it
    (``X``), and the lanes right of the crossing wait for the next row.
    """
    chars = [" "] * (2 * len(lanes))
    moved: list[str | None] = [None] * len(lanes)
    crossed = False

    for index, lane in enumerate(lanes):
        if lane is None:
            continue

        if crossed or target.index(lane) >= index:
            chars[2 * index] = "|"
            moved[index] = lane
            continue

        occupant = moved[index - 1]

        if occupant is None or occupant == lane:
            chars[2 * index - 1] = "/"
            moved[index - 1] = lane
        else:
            chars[2 * index - 2] = " "
            chars[2 * index - 1] = "X"
            moved[index - 1], moved[index] = lane, occupant
            crossed = True

    return "".join(chars).rstrip(), moved


def _ascii_text(node: _Node) -> str:
    if node.hidden:
        return f"... {node.hidden} revisions ..."

    text = node.ident

    if node.labels:
        text += f" ({', '.join(node.labels)})"

    if node.message:
        text += f" {node.message}"

    if node.current:
        text += f" [current: {', '.join(node.current)}]"

    if node.depends_on:
        text += f" (depends on {', '.join(node.depends_on)})"

    return text


def _label_lines(node: _Node, shown: cabc.Container[str]) -> list[str]:
    """The lines of a node's label in a drawn graph, whose edges show the
    parents and the dependencies in the picture.
    """
    if node.hidden:
        return [
            f"\N{HORIZONTAL ELLIPSIS} {node.hidden} revisions \N{HORIZONTAL ELLIPSIS}"
        ]

    lines = [f"{node.ident} {node.message}".rstrip()]

    if node.labels:
        lines.append(f"({', '.join(node.labels)})")

    if node.current:
        lines.append(f"current: {', '.join(node.current)}")

    elsewhere = [dep for dep in node.depends_on if dep not in shown]

    if elsewhere:
        lines.append(f"depends on {', '.join(elsewhere)}")

    return lines


def _edges(
    sections: list[_Section], nodes: dict[str, _Node]
) -> list[tuple[str, str, bool]]:
    """``(from, to, dependency)`` for each edge, from the older revision to
    the newer one.
    """
    edges: list[tuple[str, str, bool]] = []

    for section in sections:
        for node in section.oldest_first():
            edges.extend((parent, node.ident, False) for parent in node.parents)
            edges.extend(
                (dep, node.ident, True) for dep in node.depends_on if dep in nodes
            )

    return edges


def _mermaid(sections: list[_Section], nodes: dict[str, _Node]) -> str:
    """A Mermaid flowchart, oldest revisions at the bottom, for a fenced
    ``mermaid`` block in Markdown. Dependencies are dotted arrows; the
    revisions databases are at have a thick border.
    """
    ids = _Ids(r"[^A-Za-z0-9_]")
    lines = ["flowchart BT"]

    for section in sections:
        indent = "    "

        if section.bind is not None:
            name = ids.get(f"bind_{section.bind}")
            lines.append(f'    subgraph {name}["bind {_mermaid_text(section.bind)}"]')
            indent = "        "

        for node in section.oldest_first():
            label = "<br>".join(_mermaid_text(x) for x in _label_lines(node, nodes))
            shape = '(["{}"])' if node.hidden else '["{}"]'
            lines.append(indent + _node_id(ids, node.ident) + shape.format(label))

        if section.bind is not None:
            lines.append("    end")

    for start, end, dependency in _edges(sections, nodes):
        arrow = "-.->" if dependency else "-->"
        lines.append(f"    {_node_id(ids, start)} {arrow} {_node_id(ids, end)}")

    at = [
        _node_id(ids, n.ident) for s in sections for n in s.oldest_first() if n.current
    ]

    if at:
        lines.append("    classDef current stroke-width:3px")
        lines.append(f"    class {','.join(at)} current")

    return "\n".join(lines) + "\n"


class _Ids:
    """Names for nodes made of safe characters, each name given once."""

    def __init__(self, unsafe: str) -> None:
        self.unsafe = re.compile(unsafe)
        self.names: dict[str, str] = {}
        self.taken: set[str] = set()

    def get(self, key: str) -> str:
        if key not in self.names:
            name = base = self.unsafe.sub("_", key)
            count = 1

            while name in self.taken:
                count += 1
                name = f"{base}_{count}"

            self.names[key] = name
            self.taken.add(name)

        return self.names[key]


def _node_id(ids: _Ids, ident: str) -> str:
    if ident.startswith("@"):
        return ids.get(f"more_{ident[1:]}")

    return ids.get(f"r_{ident}")


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: characters Mermaid or HTML would
    read as syntax become entity codes, which Mermaid shows as the
    characters.
    """
    return "".join(f"#{ord(c)};" if c in '"#&<>`' else c for c in text)


def _dot(sections: list[_Section], nodes: dict[str, _Node]) -> str:
    """A Graphviz digraph, oldest revisions at the bottom. Dependencies are
    dashed; the revisions databases are at have a bold border; with
    per-bind histories, each bind is a cluster.
    """
    lines = [
        "digraph revisions {",
        "    rankdir=BT;",
        "    node [shape=box];",
    ]

    for section in sections:
        indent = "    "

        if section.bind is not None:
            lines.append(f"    subgraph {_dot_text('cluster_' + section.bind)} {{")
            lines.append(f"        label={_dot_text('bind ' + section.bind)};")
            indent = "        "

        for node in section.oldest_first():
            label = "\\n".join(_dot_escape(x) for x in _label_lines(node, nodes))
            attributes = f'label="{label}"'

            if node.hidden:
                attributes += ", style=dashed"

            if node.current:
                attributes += ", penwidth=3"

            lines.append(f"{indent}{_dot_text(node.ident)} [{attributes}];")

        if section.bind is not None:
            lines.append("    }")

    for start, end, dependency in _edges(sections, nodes):
        style = " [style=dashed]" if dependency else ""
        lines.append(f"    {_dot_text(start)} -> {_dot_text(end)}{style};")

    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    """A quoted DOT string."""
    return f'"{_dot_escape(text)}"'


def _dot_escape(text: str) -> str:
    """Text for inside a quoted DOT string, where a backslash would start an
    escape sequence.
    """
    return text.replace("\\", "\\\\").replace('"', '\\"')


_RENDERERS: dict[str, cabc.Callable[[list[_Section], dict[str, _Node]], str]] = {
    "ascii": _ascii,
    "mermaid": _mermaid,
    "dot": _dot,
}
