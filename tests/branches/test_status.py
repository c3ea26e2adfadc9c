"""Branch status over in-memory revision maps: no files, no database."""

from __future__ import annotations

import pytest
from alembic.script.revision import RevisionMap

from flask_alembic.branches.registry import Branch
from flask_alembic.branches.registry import Registry
from flask_alembic.branches.status import branch_status
from flask_alembic.branches.status import BranchStatus

from .test_resolver import make_map

#: A row as ``(branch, heads, current, pending)``.
Row = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]

#: default, users and auth, which depends on users.
REGISTRY = Registry(
    {
        "default": Branch("default", "/app/migrations"),
        "users": Branch("users", "/app/migrations/users", declared=True),
        "auth": Branch(
            "auth", "/app/migrations/auth", depends_on=("users",), declared=True
        ),
    }
)
#: Only the implicit default branch.
DEFAULT_ONLY = Registry({"default": Branch("default", "/app/migrations")})

#: Three labelled branches; auth's first revision depends on users' head.
BRANCHES = make_map(
    ("d1", None, "default"),
    ("d2", "d1", None),
    ("u1", None, "users"),
    ("u2", "u1", None),
    ("a1", None, "auth"),
    ("a2", "a1", None),
    depends={"a1": "u2"},
)
#: An unlabelled history, as Flask-Migrate or plain Alembic make it.
LINEAR = make_map(("r1", None, None), ("r2", "r1", None), ("r3", "r2", None))
#: An unlabelled history that forked, with no merge.
FORKED = make_map(("r1", None, None), ("r2", "r1", None), ("r3", "r1", None))
#: A branch labelled before any was declared, beside an unlabelled history.
LEGACY = make_map(
    ("r1", None, None),
    ("r2", "r1", None),
    ("l1", None, "legacy"),
    ("l2", "l1", None),
    ("o1", None, "other"),
)


def rows(
    revision_map: RevisionMap,
    registry: Registry,
    recorded: list[str],
    branches: list[Branch] | None = None,
) -> list[Row]:
    """The status rows, without bind and path."""
    return [
        (row.branch, row.heads, row.current, row.pending)
        for row in branch_status(revision_map, registry, "default", recorded, branches)
    ]


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        # nothing applied: everything pending, oldest first
        (
            [],
            [
                ("default", ("d2",), (), ("d1", "d2")),
                ("users", ("u2",), (), ("u1", "u2")),
                ("auth", ("a2",), (), ("a1", "a2")),
            ],
        ),
        # everything applied
        (
            ["d2", "u2", "a2"],
            [
                ("default", ("d2",), ("d2",), ()),
                ("users", ("u2",), ("u2",), ()),
                ("auth", ("a2",), ("a2",), ()),
            ],
        ),
        # partially applied
        (
            ["d1", "u1"],
            [
                ("default", ("d2",), ("d1",), ("d2",)),
                ("users", ("u2",), ("u1",), ("u2",)),
                ("auth", ("a2",), (), ("a1", "a2")),
            ],
        ),
        (
            ["d2"],
            [
                ("default", ("d2",), ("d2",), ()),
                ("users", ("u2",), (), ("u1", "u2")),
                ("auth", ("a2",), (), ("a1", "a2")),
            ],
        ),
        # users' head is not recorded, but auth depends on it: it is applied
        (
            ["a1"],
            [
                ("default", ("d2",), (), ("d1", "d2")),
                ("users", ("u2",), ("u2",), ()),
                ("auth", ("a2",), ("a1",), ("a2",)),
            ],
        ),
        (
            ["d2", "a2"],
            [
                ("default", ("d2",), ("d2",), ()),
                ("users", ("u2",), ("u2",), ()),
                ("auth", ("a2",), ("a2",), ()),
            ],
        ),
    ],
)
def test_branches(recorded: list[str], expected: list[Row]) -> None:
    """Each branch shows its heads, where the database is, and what is pending."""
    assert rows(BRANCHES, REGISTRY, recorded) == expected


@pytest.mark.parametrize(
    ("revision_map", "recorded", "expected"),
    [
        (LINEAR, [], [("default", ("r3",), (), ("r1", "r2", "r3"))]),
        (LINEAR, ["r1"], [("default", ("r3",), ("r1",), ("r2", "r3"))]),
        (LINEAR, ["r3"], [("default", ("r3",), ("r3",), ())]),
        (FORKED, ["r2"], [("default", ("r2", "r3"), ("r2",), ("r3",))]),
        (FORKED, ["r2", "r3"], [("default", ("r2", "r3"), ("r2", "r3"), ())]),
    ],
)
def test_unlabelled(
    revision_map: RevisionMap, recorded: list[str], expected: list[Row]
) -> None:
    """A history without labels (Flask-Migrate style) is the default branch."""
    assert rows(revision_map, DEFAULT_ONLY, recorded) == expected


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (
            [],
            [
                ("default", ("r2",), (), ("r1", "r2")),
                ("legacy", ("l2",), (), ("l1", "l2")),
                ("other", ("o1",), (), ("o1",)),
            ],
        ),
        (
            ["r2", "l1"],
            [
                ("default", ("r2",), ("r2",), ()),
                ("legacy", ("l2",), ("l1",), ("l2",)),
                ("other", ("o1",), (), ("o1",)),
            ],
        ),
    ],
)
def test_unregistered_labels(recorded: list[str], expected: list[Row]) -> None:
    """Labels in the history but not in the registry get rows of their own."""
    assert rows(LEGACY, DEFAULT_ONLY, recorded) == expected


def test_unregistered_label_path() -> None:
    """A label's row has no path when its revisions do not know their file."""
    result = branch_status(LEGACY, DEFAULT_ONLY, "default", [])
    assert [row.path for row in result] == ["/app/migrations", "", ""]


def test_branch_without_revisions() -> None:
    """A registered branch with no revisions has a row with nothing in it."""
    assert rows(LINEAR, REGISTRY, ["r3"]) == [
        ("default", ("r3",), ("r3",), ()),
        ("users", (), (), ()),
        ("auth", (), (), ()),
    ]


def test_empty_history() -> None:
    """With no revisions, every registered branch has an empty row."""
    assert rows(make_map(), REGISTRY, []) == [
        ("default", (), (), ()),
        ("users", (), (), ()),
        ("auth", (), (), ()),
    ]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["users"], [("users", ("u2",), ("u2",), ())]),
        (
            ["auth", "default"],
            [
                ("auth", ("a2",), ("a1",), ("a2",)),
                ("default", ("d2",), (), ("d1", "d2")),
            ],
        ),
        ([], []),
    ],
)
def test_only_some_branches(names: list[str], expected: list[Row]) -> None:
    """Given branches, only their rows are computed, in the order given."""
    branches = [REGISTRY.branches[name] for name in names]
    assert rows(BRANCHES, REGISTRY, ["a1"], branches) == expected


def test_row_fields() -> None:
    """A row carries the bind, the branch path and whether it is up to date."""
    result = branch_status(BRANCHES, REGISTRY, "accounts", ["d2", "u1"])
    assert result[:2] == [
        BranchStatus("default", "accounts", "/app/migrations", ("d2",), ("d2",), ()),
        BranchStatus(
            "users", "accounts", "/app/migrations/users", ("u2",), ("u1",), ("u2",)
        ),
    ]
    assert [row.up_to_date for row in result] == [True, False, False]


def test_unlabelled_depends_on_branch() -> None:
    """A branch an unlabelled revision depends on counts as applied with it."""
    revision_map = make_map(
        ("r1", None, None),
        ("r2", "r1", None),
        ("u1", None, "users"),
        depends={"r2": "u1"},
    )
    assert rows(revision_map, REGISTRY, ["r2"]) == [
        ("default", ("r2",), ("r2",), ()),
        ("users", ("u1",), ("u1",), ()),
        ("auth", (), (), ()),
    ]
