"""Pictures of the revision history: in-memory histories drawn in each format
with fixed ids, every random history drawn faithfully, and ``graph()`` on an
app with per-bind histories and real databases.
"""

from __future__ import annotations

import collections.abc as cabc
import itertools
import random
import re
import textwrap
import typing as t
from pathlib import Path

import pydot
import pytest
import sqlalchemy as sa
from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap
from flask import Flask

from flask_alembic import Alembic
from flask_alembic import RevisionError
from flask_alembic import UnknownBindError
from flask_alembic import UnknownBranchError
from flask_alembic.branches.registry import Branch
from flask_alembic.branches.registry import Registry
from flask_alembic.graph import render

from . import test_docs_branches as docs_branches
from .conftest import AppFactory
from .test_docs_binds import parse_transcript
from .test_verify import unreachable_url


class Rev(Revision):
    """A revision in memory, with a message as a revision file has."""

    def __init__(
        self,
        revision: str,
        down_revision: str | tuple[str, ...] | None = None,
        doc: str = "",
        labels: str | None = None,
        depends_on: str | None = None,
    ) -> None:
        super().__init__(revision, down_revision, depends_on, labels)
        self.doc = doc


def make_map(*revisions: Rev) -> RevisionMap:
    return RevisionMap(lambda: list(revisions))


#: Only the implicit default branch.
DEFAULT = Registry({"default": Branch("default", "/app/migrations")})
#: default, users, and billing, which depends on users.
BRANCHES = Registry(
    {
        "default": Branch("default", "/app/migrations"),
        "users": Branch("users", "/app/users", declared=True),
        "billing": Branch(
            "billing", "/app/billing", depends_on=("users",), declared=True
        ),
    }
)

#: An unlabelled history, as Flask-Migrate makes it.
LINEAR = make_map(
    Rev("1000", None, "create tables"),
    Rev("1001", "1000", "add posts"),
    Rev("1002", "1001", "add index"),
)
#: A history that forked and was merged.
MERGED = make_map(
    Rev("1000", None, "create tables", "default"),
    Rev("1001", "1000", "add posts"),
    Rev("1002", "1001", "add index"),
    Rev("1003", "1001", "add email"),
    Rev("1004", ("1002", "1003"), "merge 1002, 1003"),
)
#: Three labelled branches; billing's first revision depends on users'.
LABELLED = make_map(
    Rev("1000", None, "create tables", "default"),
    Rev("1001", None, "create users", "users"),
    Rev("1002", None, "create invoices", "billing", "1001"),
    Rev("1003", "1001", "add email"),
    Rev("1004", "1002", "add totals"),
)
#: Eleven revisions in a line, one labelled in the middle.
LONG = make_map(
    Rev("1000", None, "create tables", "default"),
    *(
        Rev(str(1000 + n), str(999 + n), f"step {n}", "v2" if n == 6 else None)
        for n in range(1, 11)
    ),
)


def draw(
    revision_map: RevisionMap,
    current: cabc.Mapping[str, list[str]] | None = None,
    format: str = "ascii",
    registry: Registry = DEFAULT,
    **kwargs: t.Any,
) -> str:
    return render(revision_map, registry, current or {}, format=format, **kwargs)


def expect(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_linear_ascii() -> None:
    """A line of revisions, newest first, the database marked where it is."""
    assert draw(LINEAR, {"default": ["1001"]}) == expect(
        """
        * 1002 add index
        * 1001 add posts [current: default]
        * 1000 create tables
        """
    )


def test_linear_mermaid() -> None:
    """A Mermaid flowchart, oldest at the bottom, the database's revision
    with a thick border.
    """
    assert draw(LINEAR, {"default": ["1001"]}, "mermaid") == expect(
        """
        flowchart BT
            r_1000["1000 create tables"]
            r_1001["1001 add posts<br>current: default"]
            r_1002["1002 add index"]
            r_1000 --> r_1001
            r_1001 --> r_1002
            classDef current stroke-width:3px
            class r_1001 current
        """
    )


def test_linear_dot() -> None:
    """A Graphviz digraph, oldest at the bottom, the database's revision
    bold.
    """
    assert draw(LINEAR, {"default": ["1001"]}, "dot") == expect(
        r"""
        digraph revisions {
            rankdir=BT;
            node [shape=box];
            "1000" [label="1000 create tables"];
            "1001" [label="1001 add posts\ncurrent: default", penwidth=3];
            "1002" [label="1002 add index"];
            "1000" -> "1001";
            "1001" -> "1002";
        }
        """
    )


def test_merged_ascii() -> None:
    """A branch point and a merge draw two lanes; a database can be at one
    side of them.
    """
    assert draw(MERGED, {"default": ["1003"]}) == expect(
        r"""
        * 1004 merge 1002, 1003
        |\
        | * 1003 add email [current: default]
        * | 1002 add index
        |/
        * 1001 add posts
        * 1000 (default) create tables
        """
    )


def test_merged_mermaid() -> None:
    """A merge has an arrow from each parent."""
    assert draw(MERGED, {"default": ["1003"]}, "mermaid") == expect(
        """
        flowchart BT
            r_1000["1000 create tables<br>(default)"]
            r_1001["1001 add posts"]
            r_1002["1002 add index"]
            r_1003["1003 add email<br>current: default"]
            r_1004["1004 merge 1002, 1003"]
            r_1000 --> r_1001
            r_1001 --> r_1002
            r_1001 --> r_1003
            r_1002 --> r_1004
            r_1003 --> r_1004
            classDef current stroke-width:3px
            class r_1003 current
        """
    )


def test_merged_dot() -> None:
    """A merge has an edge from each parent."""
    assert draw(MERGED, {"default": ["1003"]}, "dot") == expect(
        r"""
        digraph revisions {
            rankdir=BT;
            node [shape=box];
            "1000" [label="1000 create tables\n(default)"];
            "1001" [label="1001 add posts"];
            "1002" [label="1002 add index"];
            "1003" [label="1003 add email\ncurrent: default", penwidth=3];
            "1004" [label="1004 merge 1002, 1003"];
            "1000" -> "1001";
            "1001" -> "1002";
            "1001" -> "1003";
            "1002" -> "1004";
            "1003" -> "1004";
        }
        """
    )


#: The version table records 1003 and the heads of default and billing;
#: users' 1001 is applied too, since billing depends on it.
LABELLED_AT = {"default": ["1000", "1003", "1004"]}


def test_labelled_ascii() -> None:
    """Branches that do not meet are apart, in the registry's order, each
    with its label where it starts; depends_on is listed.
    """
    assert draw(LABELLED, LABELLED_AT, registry=BRANCHES) == expect(
        """
        * 1000 (default) create tables [current: default]

        * 1003 add email [current: default]
        * 1001 (users) create users

        * 1004 add totals [current: default]
        * 1002 (billing) create invoices (depends on 1001)
        """
    )


def test_labelled_mermaid() -> None:
    """depends_on is a dotted arrow, from the revision depended on."""
    assert draw(LABELLED, LABELLED_AT, "mermaid", BRANCHES) == expect(
        """
        flowchart BT
            r_1000["1000 create tables<br>(default)<br>current: default"]
            r_1001["1001 create users<br>(users)"]
            r_1003["1003 add email<br>current: default"]
            r_1002["1002 create invoices<br>(billing)"]
            r_1004["1004 add totals<br>current: default"]
            r_1001 --> r_1003
            r_1001 -.-> r_1002
            r_1002 --> r_1004
            classDef current stroke-width:3px
            class r_1000,r_1003,r_1004 current
        """
    )


#: The DOT picture of :data:`LABELLED`.
LABELLED_DOT = r"""
digraph revisions {
    rankdir=BT;
    node [shape=box];
    "1000" [label="1000 create tables\n(default)\ncurrent: default", penwidth=3];
    "1001" [label="1001 create users\n(users)"];
    "1003" [label="1003 add email\ncurrent: default", penwidth=3];
    "1002" [label="1002 create invoices\n(billing)"];
    "1004" [label="1004 add totals\ncurrent: default", penwidth=3];
    "1001" -> "1003";
    "1001" -> "1002" [style=dashed];
    "1002" -> "1004";
}
"""


def test_labelled_dot() -> None:
    """depends_on is a dashed edge, from the revision depended on."""
    assert draw(LABELLED, LABELLED_AT, "dot", BRANCHES) == expect(LABELLED_DOT)


def test_collapsed_ascii() -> None:
    """Five plain revisions between two shown ones are one entry; a line of
    five is drawn in full.
    """
    assert draw(LONG, {"default": ["1010"]}) == expect(
        """
        * 1010 step 10 [current: default]
        * 1009 step 9
        * 1008 step 8
        * 1007 step 7
        * 1006 (v2) step 6
        : ... 5 revisions ...
        * 1000 (default) create tables
        """
    )


def test_collapsed_mermaid() -> None:
    """A collapsed run is a rounded node counting its revisions."""
    assert draw(LONG, {"default": ["1010"]}, "mermaid") == expect(
        """
        flowchart BT
            r_1000["1000 create tables<br>(default)"]
            more_1001(["… 5 revisions …"])
            r_1006["1006 step 6<br>(v2)"]
            r_1007["1007 step 7"]
            r_1008["1008 step 8"]
            r_1009["1009 step 9"]
            r_1010["1010 step 10<br>current: default"]
            r_1000 --> more_1001
            more_1001 --> r_1006
            r_1006 --> r_1007
            r_1007 --> r_1008
            r_1008 --> r_1009
            r_1009 --> r_1010
            classDef current stroke-width:3px
            class r_1010 current
        """
    )


def test_collapsed_dot() -> None:
    """A collapsed run is a dashed node counting its revisions."""
    assert draw(LONG, {"default": ["1010"]}, "dot") == expect(
        r"""
        digraph revisions {
            rankdir=BT;
            node [shape=box];
            "1000" [label="1000 create tables\n(default)"];
            "@1001" [label="… 5 revisions …", style=dashed];
            "1006" [label="1006 step 6\n(v2)"];
            "1007" [label="1007 step 7"];
            "1008" [label="1008 step 8"];
            "1009" [label="1009 step 9"];
            "1010" [label="1010 step 10\ncurrent: default", penwidth=3];
            "1000" -> "@1001";
            "@1001" -> "1006";
            "1006" -> "1007";
            "1007" -> "1008";
            "1008" -> "1009";
            "1009" -> "1010";
        }
        """
    )


def line_of(count: int, **marks: str) -> RevisionMap:
    """``count`` revisions in a line, ``r0`` oldest; ``labels``, ``depends``
    name revisions to label or to make ``r0`` depend on.
    """
    revs = [
        Rev(
            f"r{n}",
            f"r{n - 1}" if n else None,
            labels=f"l{n}" if f"r{n}" in marks.get("labels", "").split() else None,
        )
        for n in range(count)
    ]

    if "depends" in marks:
        revs.append(Rev("x", None, depends_on=marks["depends"]))

    return make_map(*revs)


@pytest.mark.parametrize(
    ("count", "collapse", "expected"),
    [
        (5, 5, ["r4", "r3", "r2", "r1", "r0"]),
        (6, 5, ["r5", "... 4 revisions ...", "r0"]),
        (6, 0, ["r5", "r4", "r3", "r2", "r1", "r0"]),
        (4, 3, ["r3", "... 2 revisions ...", "r0"]),
        (3, 3, ["r2", "r1", "r0"]),
        (20, 10, ["r19", "... 18 revisions ...", "r0"]),
    ],
)
def test_collapse_length(count: int, collapse: int, expected: list[str]) -> None:
    """A straight line is collapsed when it has more revisions than
    ``collapse``, keeping its first and last.
    """
    text = draw(line_of(count), collapse=collapse)
    assert [line[2:] for line in text.splitlines()] == expected


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        # A label of its own keeps a revision; the rest of the line is
        # collapsed where it is long enough.
        ({"labels": "r5"}, ["r9", "r8", "r7", "r6", "r5 (l5)", "... 4 ...", "r0"]),
        ({"labels": "r2 r6"}, ["r9", "r8", "r7", "r6 (l6)", "r5", "r4", "r3"]),
        # So does a database at it, and a revision depending on it.
        ({"current": "r4"}, ["r9", "... 4 ...", "r4 [current: default]", "r3"]),
        ({"depends": "r5"}, ["r9", "r8", "r7", "r6", "r5", "... 4 ...", "r0"]),
    ],
)
def test_collapse_keeps(marks: dict[str, str], expected: list[str]) -> None:
    """Labelled revisions, database marks and depends_on break a line into
    shorter ones.
    """
    current = {"default": [marks.pop("current")]} if "current" in marks else {}
    text = draw(line_of(10, **marks), current)
    shown = [
        line[2:].replace(" revisions ...", " ...")
        for line in text.split("\n\n")[0].splitlines()
    ]
    assert shown[: len(expected)] == expected


def test_collapse_not_across_branch_points() -> None:
    """A branch point and a merge are the first and last revisions of the
    line between them, which is collapsed.
    """
    revision_map = make_map(
        Rev("a", None),
        *(Rev(f"b{n}", f"b{n - 1}" if n else "a") for n in range(6)),
        Rev("c", "a"),
        Rev("m", ("b5", "c")),
    )
    assert draw(revision_map) == expect(
        r"""
        * m
        |\
        | * c
        : | ... 6 revisions ...
        |/
        * a
        """
    )


def test_octopus_merge() -> None:
    """A merge of three heads opens a lane for each."""
    revision_map = make_map(
        Rev("a", None),
        Rev("b", "a"),
        Rev("c", "a"),
        Rev("d", "a"),
        Rev("m", ("b", "c", "d")),
    )
    assert draw(revision_map) == expect(
        r"""
        * m
        |\
        |\ \
        | | * d
        | * | c
        | |/
        * | b
        |/
        * a
        """
    )


def test_line_ending_beside_another() -> None:
    """Where a line ends and another starts in the same column, a gap keeps
    them apart.
    """
    revision_map = make_map(
        Rev("r0", None),
        Rev("r1", None),
        Rev("r2", "r0"),
        Rev("r3", ("r0", "r1")),
    )
    assert draw(revision_map) == expect(
        r"""
        * r3
        |\
        | * r1
        |
        | * r2
        |/
        * r0
        """
    )


def test_crossing() -> None:
    """A lane that must pass another to join its revision crosses it."""
    revision_map = make_map(
        Rev("r0", None),
        Rev("r1", "r0"),
        Rev("r2", "r1"),
        Rev("r3", ("r1", "r0")),
    )
    assert draw(revision_map) == expect(
        r"""
        * r3
        |\
        | | * r2
        |  X
        |/ /
        * | r1
        |/
        * r0
        """
    )


def test_escaped() -> None:
    """Messages and labels cannot break out of a Mermaid label or a DOT
    string.
    """
    revision_map = make_map(
        Rev("1000", None, 'say "hi" <b>#1;</b> & `x` back\\slash\nsecond line', "v.1")
    )
    assert draw(revision_map, format="mermaid").splitlines()[1] == (
        '    r_1000["1000 say #34;hi#34; #60;b#62;#35;1;#60;/b#62; #38; #96;x#96;'
        ' back\\slash<br>(v.1)"]'
    )
    assert draw(revision_map, format="dot").splitlines()[3] == (
        '    "1000" [label="1000 say \\"hi\\" <b>#1;</b> & `x` back\\\\slash\\n(v.1)"];'
    )
    assert draw(revision_map) == '* 1000 (v.1) say "hi" <b>#1;</b> & `x` back\\slash\n'


def test_ids_made_safe_for_mermaid() -> None:
    """Revision ids Mermaid cannot take as node names get safe, distinct
    ones.
    """
    revision_map = make_map(Rev("a.b", None), Rev("a_b", "a.b"), Rev("end", "a_b"))
    lines = draw(revision_map, format="mermaid").splitlines()
    assert lines[1:6] == [
        '    r_a_b["a.b"]',
        '    r_a_b_2["a_b"]',
        '    r_end["end"]',
        "    r_a_b --> r_a_b_2",
        "    r_a_b_2 --> r_end",
    ]


#: Two binds, each with a history of its own.
PER_BIND = Registry(
    {
        "default": Branch("default", "/app/migrations"),
        "auth": Branch("auth", "/app/migrations/auth", "auth", declared=True),
    },
    binds=("default", "auth"),
    per_bind=True,
)
#: A history of each bind of :data:`PER_BIND`.
TWO_BINDS = make_map(
    Rev("a1", None, "create users", "auth"),
    Rev("d1", None, "create posts", "default"),
    Rev("a2", "a1", "add email"),
)


@pytest.mark.parametrize(
    ("revision_map", "registry", "current"),
    [
        (LINEAR, DEFAULT, {"default": ["1001"]}),
        (MERGED, DEFAULT, {"default": ["1003"]}),
        (LABELLED, BRANCHES, LABELLED_AT),
        (LONG, DEFAULT, {"default": ["1010"]}),
        (TWO_BINDS, PER_BIND, {"default": ["d1"], "auth": ["a1"]}),
    ],
    ids=["linear", "merged", "labelled", "collapsed", "binds"],
)
# pydot's parser calls pyparsing by the names pyparsing 3.3 deprecates.
@pytest.mark.filterwarnings("ignore::pyparsing.warnings.PyparsingDeprecationWarning")
def test_dot_parses(
    revision_map: RevisionMap, registry: Registry, current: dict[str, list[str]]
) -> None:
    """Graphviz reads the DOT output: every node and edge is there, the
    dependencies dashed, the revisions of each bind in its cluster.
    """
    text = draw(revision_map, current, "dot", registry)
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    graph = graphs[0]
    clusters = {
        _unquote(sub.get_name()): {_unquote(n.get_name()) for n in sub.get_nodes()}
        for sub in graph.get_subgraphs()
    }
    names = {_unquote(node.get_name()) for node in graph.get_nodes()} - {"node"}
    names = names.union(*clusters.values())
    edges = {
        (_unquote(e.get_source()), _unquote(e.get_destination()), e.get("style"))
        for e in graph.get_edges()
    }
    expected_nodes, expected_edges = structure(draw(revision_map, current, "mermaid"))
    assert names == expected_nodes
    assert edges == expected_edges

    if registry.per_bind:
        assert clusters == {"cluster_default": {"d1"}, "cluster_auth": {"a1", "a2"}}
    else:
        assert clusters == {}


def _unquote(value: object) -> str:
    return str(value).strip('"')


def structure(mermaid: str) -> tuple[set[str], set[tuple[str, str, str | None]]]:
    """The revision ids and edges of a Mermaid picture, named as in DOT."""

    def name(node: str) -> str:
        return re.sub(r"^r_", "", re.sub(r"^more_", "@", node))

    nodes = set(re.findall(r"^\s+(\w+)\(?\[", mermaid, re.M))
    edges = {
        (name(a), name(b), "dashed" if arrow == "-.->" else None)
        for a, arrow, b in re.findall(r"^\s+(\w+) (-->|-\.->) (\w+)$", mermaid, re.M)
    }
    return {name(n) for n in nodes}, edges


def test_per_bind_sections() -> None:
    """With per-bind histories each bind has its own section, cluster or
    subgraph, in the order the binds run.
    """
    registry, revision_map = PER_BIND, TWO_BINDS
    current = {"default": ["d1"], "auth": ["a1"]}
    assert draw(revision_map, current, registry=registry) == expect(
        """
        Bind 'default':
        * d1 (default) create posts [current: default]

        Bind 'auth':
        * a2 add email
        * a1 (auth) create users [current: auth]
        """
    )
    assert draw(revision_map, current, "mermaid", registry) == expect(
        """
        flowchart BT
            subgraph bind_default["bind default"]
                r_d1["d1 create posts<br>(default)<br>current: default"]
            end
            subgraph bind_auth["bind auth"]
                r_a1["a1 create users<br>(auth)<br>current: auth"]
                r_a2["a2 add email"]
            end
            r_a1 --> r_a2
            classDef current stroke-width:3px
            class r_d1,r_a1 current
        """
    )
    assert draw(revision_map, current, "dot", registry) == expect(
        r"""
        digraph revisions {
            rankdir=BT;
            node [shape=box];
            subgraph "cluster_default" {
                label="bind default";
                "d1" [label="d1 create posts\n(default)\ncurrent: default", penwidth=3];
            }
            subgraph "cluster_auth" {
                label="bind auth";
                "a1" [label="a1 create users\n(auth)\ncurrent: auth", penwidth=3];
                "a2" [label="a2 add email"];
            }
            "a1" -> "a2";
        }
        """
    )
    assert draw(revision_map, current, registry=registry, binds=["auth"]) == expect(
        """
        Bind 'auth':
        * a2 add email
        * a1 (auth) create users [current: auth]
        """
    )


def test_branch() -> None:
    """``branch`` keeps that branch's revisions; one it depends on outside
    the picture is named in the label instead of drawn.
    """
    assert draw(LABELLED, LABELLED_AT, registry=BRANCHES, branch="billing") == expect(
        """
        * 1004 add totals [current: default]
        * 1002 (billing) create invoices (depends on 1001)
        """
    )
    mermaid = draw(LABELLED, {}, "mermaid", BRANCHES, branch="billing")
    assert mermaid.splitlines()[1:4] == [
        '    r_1002["1002 create invoices<br>(billing)<br>depends on 1001"]',
        '    r_1004["1004 add totals"]',
        "    r_1002 --> r_1004",
    ]
    assert draw(LINEAR, branch="default") == draw(LINEAR)
    assert draw(LABELLED, registry=BRANCHES, branch="default") == (
        "* 1000 (default) create tables\n"
    )


def test_current_not_applied_everywhere() -> None:
    """A database is marked on the newest revision of each line it has
    applied, and not at all when it is at base or at an unknown revision.
    """
    current = {"one": ["1002"], "two": ["1003"], "empty": [], "lost": ["nowhere"]}
    assert draw(MERGED, current) == expect(
        r"""
        * 1004 merge 1002, 1003
        |\
        | * 1003 add email [current: two]
        * | 1002 add index [current: one]
        |/
        * 1001 add posts
        * 1000 (default) create tables
        """
    )


def test_empty() -> None:
    """A history without revisions is an empty text, and an empty graph."""
    empty = make_map()
    assert draw(empty) == ""
    assert draw(empty, format="mermaid") == "flowchart BT\n"
    assert draw(empty, format="dot").splitlines()[-1] == "}"


def test_bad_arguments() -> None:
    """An unknown format, and a collapse that shortens nothing, are refused."""
    with pytest.raises(ValueError, match="Unknown format 'svg'"):
        draw(LINEAR, format="svg")

    with pytest.raises(ValueError, match="use 0 to show every revision, or 3"):
        draw(LINEAR, collapse=2)


#: The characters of the text picture's lanes.
_LANES = re.compile(r"[ |/\\X*:]*")


def read_back(picture: str) -> tuple[list[str], set[tuple[str, str]]]:
    """The revisions a text picture shows, and each link from a revision
    down to a parent, read by following its lanes. Every lane character must
    be on the way from a revision to a parent.
    """
    order: list[str] = []
    edges: set[tuple[str, str]] = set()

    for block in picture.rstrip("\n").split("\n\n"):
        rows: list[tuple[str, str | None]] = []

        for line in block.splitlines():
            lanes = _LANES.match(line)
            assert lanes is not None
            text = line[lanes.end() :]
            rows.append((lanes.group().rstrip(), text.split()[0] if text else None))

        order.extend(ident for _, ident in rows if ident is not None)
        edges |= _follow(rows)

    return order, edges


def _follow(rows: list[tuple[str, str | None]]) -> set[tuple[str, str]]:
    def char(row: int, index: int) -> str:
        lanes = rows[row][0] if row < len(rows) else ""
        return lanes[index] if 0 <= index < len(lanes) else " "

    def below(row: int, column: int) -> list[tuple[int, int]]:
        """Where a lane leaving a row at a column goes in the next row."""
        found = []

        if char(row + 1, 2 * column) in "|*:":
            found.append((2 * column, column))

        if column and char(row + 1, 2 * column - 1) in "/X":
            found.append((2 * column - 1, column - 1))

        if char(row + 1, 2 * column + 1) in "\\X":
            found.append((2 * column + 1, column + 1))

        return found

    edges = set()
    used = set()

    for start, (lanes, ident) in enumerate(rows):
        if ident is None:
            continue

        column = max(lanes.find("*"), lanes.find(":")) // 2
        used.add((start, 2 * column))
        todo = [(start, column)]

        while todo:
            row, column = todo.pop()
            steps = below(row, column)
            assert steps or row == start, f"a lane of {ident} stops at row {row}"

            for index, next_column in steps:
                used.add((row + 1, index))

                if char(row + 1, index) in "*:":
                    parent = rows[row + 1][1]
                    assert parent is not None
                    edges.add((ident, parent))
                else:
                    todo.append((row + 1, next_column))

    for row, (lanes, _) in enumerate(rows):
        for index, c in enumerate(lanes):
            assert c == " " or (row, index) in used, f"stray {c!r} in row {row}"

    return edges


@pytest.mark.parametrize("seed", range(300))
def test_random_history_drawn_faithfully(seed: int) -> None:
    """In any history, however tangled, following the lanes of the text
    picture from each revision leads exactly to its parents.
    """
    rnd = random.Random(seed)
    revisions = []
    parents: dict[str, list[str]] = {}

    for n in range(rnd.randint(2, 30)):
        if n and rnd.random() > 0.1:
            count = min(rnd.choice([1, 1, 1, 2, 2, 3]), n)
            parents[f"r{n}"] = [f"r{p}" for p in rnd.sample(range(n), count)]
        else:
            parents[f"r{n}"] = []

        revisions.append(Rev(f"r{n}", tuple(parents[f"r{n}"]) or None))

    order, edges = read_back(draw(make_map(*revisions), collapse=0))
    assert sorted(order) == sorted(parents)
    assert edges == {(rev, p) for rev, ps in parents.items() for p in ps}


# The app tests below run on SQLite files, with plain SQLAlchemy engines.
database = pytest.mark.parametrize(
    ("backend", "integration"),
    [("sqlite", "sqlalchemy")],
    indirect=True,
)


@pytest.fixture
def binds_app(
    make_app: AppFactory, make_url: cabc.Callable[..., str], tmp_path: Path
) -> cabc.Callable[..., Flask]:
    """Make an app with per-bind histories, ``default`` and ``auth``, on
    SQLite files; ``auth_url`` replaces auth's database.
    """
    urls = {"default": make_url(), "auth": make_url()}

    def make(auth_url: str | None = None) -> Flask:
        metadatas = {"default": sa.MetaData(), "auth": sa.MetaData()}
        app, alembic = make_app(
            {**urls, "auth": auth_url or urls["auth"]},
            metadatas,
            config={"binds": {"auth": {}}},
        )
        ids = iter(["1000", "1001", "1002", "1003"])
        alembic.rev_id = lambda: next(ids)  # type: ignore[method-assign]
        return app

    return make


def ext(app: Flask) -> Alembic:
    return t.cast(Alembic, app.extensions["alembic"])


#: The DOT picture of the auth bind in :func:`test_per_bind_app`.
AUTH_DOT = r"""
digraph revisions {
    rankdir=BT;
    node [shape=box];
    subgraph "cluster_auth" {
        label="bind auth";
        "1001" [label="1001 create users\n(auth)\ncurrent: auth", penwidth=3];
        "1003" [label="1003 add email"];
    }
    "1001" -> "1003";
}
"""


@database
def test_per_bind_app(binds_app: cabc.Callable[..., Flask]) -> None:
    """Each bind's database is marked where it is: default at its head,
    auth one revision behind.
    """
    app = binds_app()

    with app.app_context():
        alembic = ext(app)
        alembic.revision("create posts", empty=True)
        alembic.revision("create users", empty=True, bind="auth")
        alembic.revision("add title", empty=True)
        alembic.revision("add email", empty=True, bind="auth")

    with app.app_context():
        ext(app).upgrade()
        ext(app).downgrade(-1, bind="auth")

    with app.app_context():
        assert ext(app).graph() == expect(
            """
            Bind 'default':
            * 1002 add title [current: default]
            * 1000 (default) create posts

            Bind 'auth':
            * 1003 add email
            * 1001 (auth) create users [current: auth]
            """
        )
        assert ext(app).graph("mermaid") == expect(
            """
            flowchart BT
                subgraph bind_default["bind default"]
                    r_1000["1000 create posts<br>(default)"]
                    r_1002["1002 add title<br>current: default"]
                end
                subgraph bind_auth["bind auth"]
                    r_1001["1001 create users<br>(auth)<br>current: auth"]
                    r_1003["1003 add email"]
                end
                r_1000 --> r_1002
                r_1001 --> r_1003
                classDef current stroke-width:3px
                class r_1002,r_1001 current
            """
        )
        assert ext(app).graph("dot", bind="auth") == expect(AUTH_DOT)
        assert ext(app).graph(branch="default") == expect(
            """
            Bind 'default':
            * 1002 add title [current: default]
            * 1000 (default) create posts
            """
        )


@database
def test_unreachable_not_marked(
    binds_app: cabc.Callable[..., Flask], tmp_path: Path
) -> None:
    """A database that cannot be connected to is left unmarked, without an
    error; the others are marked.
    """
    app = binds_app()

    with app.app_context():
        ext(app).revision("create posts", empty=True)
        ext(app).revision("create users", empty=True, bind="auth")
        ext(app).upgrade()

    app = binds_app(auth_url=unreachable_url("sqlite", tmp_path))

    with app.app_context():
        assert ext(app).graph() == expect(
            """
            Bind 'default':
            * 1000 (default) create posts [current: default]

            Bind 'auth':
            * 1001 (auth) create users
            """
        )


@database
def test_bad_names(binds_app: cabc.Callable[..., Flask]) -> None:
    """Unknown binds and branches, and a branch on a bind left out, are the
    usual errors.
    """
    app = binds_app()

    with app.app_context():
        alembic = ext(app)

        with pytest.raises(UnknownBindError, match="Did you mean 'auth'"):
            alembic.graph(bind="auht")

        with pytest.raises(UnknownBranchError, match="Unknown branch 'auht'"):
            alembic.graph(branch="auht")

        with pytest.raises(RevisionError, match="Branch 'auth' runs on bind 'auth'"):
            alembic.graph(bind="default", branch="auth")


#: A block of the branches page the tests run: ``% test: NAME``, then a
#: fenced block.
_MARKED = re.compile(
    r"^% test: (?P<name>\w+)\n```\w+\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL
)


def page_blocks() -> dict[str, str]:
    """The marked blocks of the branches page, by name."""
    return {
        m["name"]: m["body"] for m in _MARKED.finditer(docs_branches.PAGE.read_text())
    }


def test_docs_collapsed() -> None:
    """The branches page shows the collapsed line as it is drawn."""
    assert page_blocks()["collapsed"] == draw(LONG, {"default": ["1010"]})


@database
def test_docs_pictures(
    make_app: AppFactory, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the worked example of the branches page, its pictures are
    printed as the page shows them.
    """
    app, alembic = make_app(
        {"default": url}, sa.MetaData(), config=docs_branches.config()
    )
    ids = itertools.count(1000)
    monkeypatch.setattr(alembic, "rev_id", lambda: str(next(ids)))
    runner = app.test_cli_runner()
    blocks = page_blocks()
    steps = docs_branches.transcript()
    steps += parse_transcript(blocks["graph"]) + parse_transcript(blocks["mermaid"])

    for args, expected in steps:
        result = runner.invoke(args=["db", *args])
        shown = result.stdout if result.exit_code == 0 else result.output
        shown = "".join(
            line for line in shown.splitlines(True) if not line.startswith("INFO ")
        )
        assert shown.replace(str(tmp_path), "/project") == expected, args
