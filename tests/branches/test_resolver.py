"""The resolver over in-memory revision maps: no files, no database."""

from __future__ import annotations

import types
import typing as t

import pytest
from alembic.script import Script
from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap

from flask_alembic import MultipleHeadsError
from flask_alembic.branches.registry import Branch
from flask_alembic.branches.registry import Registry
from flask_alembic.branches.resolver import is_revision_id
from flask_alembic.branches.resolver import movement_target
from flask_alembic.branches.resolver import plan_revision
from flask_alembic.branches.resolver import RevisionPlan
from flask_alembic.branches.resolver import to_ids

Spec = tuple[str, str | tuple[str, ...] | None, str | tuple[str, ...] | None]


def make_map(*specs: Spec, depends: dict[str, str] | None = None) -> RevisionMap:
    """A revision map of ``(revision, down_revision, branch_labels)``."""
    depends = depends or {}
    return RevisionMap(
        lambda: [
            Revision(rev, down, dependencies=depends.get(rev), branch_labels=labels)
            for rev, down, labels in specs
        ]
    )


#: An unlabelled history, as Flask-Migrate or plain Alembic make it.
LINEAR = make_map(("1700000001", None, None), ("1700000002", "1700000001", None))
#: Two independent labelled branches.
BRANCHES = make_map(
    ("a1", None, "default"),
    ("a2", "a1", None),
    ("u1", None, "users"),
)
#: An unlabelled history that forked, with no merge.
FORKED = make_map(("r1", None, None), ("r2", "r1", None), ("r3", "r1", None))
#: An unlabelled history beside a labelled branch.
MIXED = make_map(("r1", None, None), ("r2", "r1", None), ("u1", None, "users"))


def script(revision: str) -> Script:
    """A Script that exists only in memory."""
    module = types.ModuleType(f"rev_{revision}")
    module.down_revision = None  # type: ignore[attr-defined]
    return Script(module, revision, "/nowhere.py")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", ["abc"]),
        (["a", "b"], ["a", "b"]),
        (("a", "b"), ["a", "b"]),
        (3, ["+3"]),
        (-2, ["-2"]),
        (0, ["+0"]),
        ([], []),
    ],
)
def test_to_ids(value: t.Any, expected: list[str]) -> None:
    """Loose revision arguments become a list of ids; ints get a sign."""
    assert to_ids(value) == expected


def test_to_ids_script() -> None:
    """A Script, alone or in a list, becomes its revision id."""
    assert to_ids(script("abc")) == ["abc"]
    assert to_ids([script("abc"), "def"]) == ["abc", "def"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000001", True),
        ("1700000002", True),
        ("17000000", False),  # a prefix is not an id
        ("1700000003", False),
        ("head", False),
        ("heads", False),
        ("base", False),
        ("170000000", False),  # a prefix of both revisions
        ("", False),
    ],
)
def test_is_revision_id(value: str, expected: bool) -> None:
    """Only the exact id of a known revision counts."""
    assert is_revision_id(LINEAR, value) is expected


def test_is_revision_id_label() -> None:
    """A branch label is not a revision id."""
    assert not is_revision_id(BRANCHES, "users")
    assert is_revision_id(BRANCHES, "u1")


@pytest.mark.parametrize(
    ("target", "down", "expected"),
    [
        # ints are relative steps, and a downgrade always goes down
        (2, False, ["+2"]),
        (2, True, ["-2"]),
        (-1, True, ["-1"]),
        (-1, False, ["-1"]),
        # unsigned numbers that are not revision ids are steps too
        ("2", False, ["+2"]),
        ("2", True, ["-2"]),
        ("170000000", False, ["+170000000"]),
        # numbers that are exactly revision ids name those revisions
        ("1700000001", False, ["1700000001"]),
        ("1700000001", True, ["1700000001"]),
        # signed numbers are steps; a downgrade never goes up
        ("+1", False, ["+1"]),
        ("-1", False, ["-1"]),
        ("-1", True, ["-1"]),
        ("+2", True, ["-2"]),
        # everything else passes through
        ("heads", False, ["heads"]),
        ("base", True, ["base"]),
        ("head-1", True, ["head-1"]),
        ("users@+1", False, ["users@+1"]),
        ("²", False, ["²"]),
        (["1", "2"], False, ["1", "2"]),
    ],
)
def test_movement_target(target: t.Any, down: bool, expected: list[str]) -> None:
    """Numbers are steps unless they are exactly a revision id."""
    assert movement_target(LINEAR, target, down=down) == expected


def test_movement_target_script() -> None:
    """A Script target names its revision, even when its id is numeric."""
    assert movement_target(LINEAR, script("1700000001"), down=True) == ["1700000001"]


def plan(
    revision_map: RevisionMap,
    branch: str | None,
    parents: list[str] | None = None,
    labels: list[str] | None = None,
    path: str | None = None,
) -> RevisionPlan:
    """Call plan_revision with the defaults Alembic.revision uses."""
    return plan_revision(
        revision_map,
        branch=branch,
        parents=["head"] if parents is None else parents,
        labels=labels or [],
        path=path,
        registry=UNDECLARED,
    )


#: Branches paired with paths in ``version_locations``, none declared, so
#: unknown names still start new branches as in Flask-Alembic 3.x.
UNDECLARED = Registry(
    {
        "default": Branch("default", "/root/migrations"),
        "users": Branch("users", "users/migrations"),
        "auth": Branch("auth", "/abs/auth"),
    }
)


@pytest.mark.parametrize(
    ("revision_map", "branch", "parents", "labels", "path", "expected"),
    [
        # a new branch starts from base, labelled, in its configured path
        (BRANCHES, "auth", None, None, None, (["base"], ["auth"], "/abs/auth")),
        (BRANCHES, "new", None, ["x"], None, (["base"], ["new", "x"], None)),
        (BRANCHES, "auth", ["a2"], None, "p", (["base"], ["auth"], "p")),
        (make_map(), "default", None, None, None, (["base"], ["default"], None)),
        (
            make_map(),
            "users",
            None,
            None,
            None,
            (["base"], ["users"], "users/migrations"),
        ),
        # an existing branch continues from its own head or base
        (BRANCHES, "users", None, None, None, (["users@head"], [], "users/migrations")),
        (BRANCHES, "default", None, None, None, (["default@head"], [], None)),
        (BRANCHES, "default", ["base"], ["y"], None, (["default@base"], ["y"], None)),
        # explicit parents are kept
        (BRANCHES, "default", ["a1"], None, None, (["a1"], [], None)),
        (BRANCHES, "users", ["u1", "head"], None, "q", (["u1", "users@head"], [], "q")),
        # an unlabelled history is the default branch and continues
        (LINEAR, "default", None, None, None, (["1700000002"], [], None)),
        (MIXED, "default", None, ["z"], None, (["r2"], ["z"], None)),
        (MIXED, "default", ["r1"], None, None, (["r1"], [], None)),
        (MIXED, "default", ["r1", "head"], None, None, (["r1", "r2"], [], None)),
        (FORKED, "default", ["r3"], None, None, (["r3"], [], None)),
        # and it is not the named branch
        (LINEAR, "users", None, None, None, (["base"], ["users"], "users/migrations")),
        # no branch leaves everything alone
        (FORKED, None, None, None, None, (["head"], [], None)),
        (BRANCHES, None, ["base"], ["x"], "p", (["base"], ["x"], "p")),
        (BRANCHES, "", ["head"], None, None, (["head"], [], None)),
    ],
)
def test_plan_revision(
    revision_map: RevisionMap,
    branch: str | None,
    parents: list[str] | None,
    labels: list[str] | None,
    path: str | None,
    expected: tuple[list[str], list[str], str | None],
) -> None:
    """A new revision's parents, labels and path follow its branch."""
    assert plan(revision_map, branch, parents, labels, path) == RevisionPlan(*expected)


def test_plan_revision_unlabelled_heads() -> None:
    """An unlabelled history with two heads needs a parent to be named."""
    with pytest.raises(MultipleHeadsError) as info:
        plan(FORKED, "default")

    assert sorted(info.value.heads) == ["r2", "r3"]
    assert info.value.argument == "head"


def test_plan_revision_label_is_not_id_prefix() -> None:
    """A branch whose name prefixes a revision id does not exist yet."""
    revision_map = make_map(("ab12", None, "default"))
    assert plan(revision_map, "ab") == RevisionPlan(["base"], ["ab"], None)


def test_plan_revision_unlabelled_depends_on_branch() -> None:
    """An unlabelled revision that depends on a labelled one stays default."""
    revision_map = make_map(
        ("u1", None, "users"),
        ("r1", None, None),
        ("r2", "r1", None),
        depends={"r2": "u1"},
    )
    assert plan(revision_map, "default") == RevisionPlan(["r2"], [], None)


def test_plan_revision_does_not_mutate() -> None:
    """The caller's parents and labels lists are left as they were."""
    parents = ["head"]
    labels = ["x"]
    plan(BRANCHES, "auth", parents, labels)
    plan(BRANCHES, "users", parents, labels)
    assert parents == ["head"]
    assert labels == ["x"]
