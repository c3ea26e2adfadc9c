"""The resolver over in-memory revision maps: no files, no database."""

from __future__ import annotations

import types
import typing as t

import pytest
from alembic.script import Script
from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap

from flask_alembic import MultipleHeadsError
from flask_alembic import RevisionError
from flask_alembic import UnknownRevisionError
from flask_alembic.branches.registry import Branch
from flask_alembic.branches.registry import build_registry
from flask_alembic.branches.registry import Registry
from flask_alembic.branches.resolver import bind_heads
from flask_alembic.branches.resolver import bind_of_revision
from flask_alembic.branches.resolver import is_revision_id
from flask_alembic.branches.resolver import movement_target
from flask_alembic.branches.resolver import plan_movement
from flask_alembic.branches.resolver import plan_revision
from flask_alembic.branches.resolver import RevisionPlan
from flask_alembic.branches.resolver import to_ids
from flask_alembic.config import load_settings

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


# Per-bind histories: ALEMBIC["binds"]

#: Binds ``analytics`` (declared first, depending on ``auth``), ``auth`` and
#: ``empty``, so they run default, auth, analytics, empty. ``profiles`` runs on
#: auth and depends on auth's branch; ``audit`` on auth depends on profiles
#: and on posts of default; ``reports`` on analytics depends on profiles.
PER_BIND = build_registry(
    load_settings(
        {
            "binds": {
                "analytics": {"depends_on": ["auth"]},
                "auth": {},
                "empty": {},
            },
            "branches": {
                "posts": {},
                "profiles": {"bind": "auth", "depends_on": ["auth"]},
                "audit": {"bind": "auth", "depends_on": ["profiles", "posts"]},
                "reports": {"bind": "analytics", "depends_on": ["profiles"]},
            },
        },
        {},
    )[0],
    "/app",
)
#: Every bind's history but empty's. ``legacy`` is a label the registry does
#: not know; a numeric id is in analytics.
BOUND = make_map(
    ("d1", None, "default"),
    ("d2", "d1", None),
    ("l1", None, "legacy"),
    ("a1", None, "auth"),
    ("a2", "a1", None),
    ("n1", None, "analytics"),
    ("1700000001", "n1", None),
)
#: BOUND, with profiles started on auth's head.
WITH_PROFILES = make_map(
    ("d1", None, "default"),
    ("a1", None, "auth"),
    ("a2", "a1", None),
    ("p1", None, "profiles"),
    depends={"p1": "a2"},
)
#: The binds in the order they run.
ALL_BINDS = ["default", "auth", "analytics", "empty"]


def test_per_bind_registry() -> None:
    """The registry the per-bind tests use runs the binds in dependency order."""
    assert PER_BIND.binds == tuple(ALL_BINDS)
    assert PER_BIND.per_bind


@pytest.mark.parametrize(
    ("revision_map", "bind", "expected"),
    [
        # labels unknown to the registry are default's
        (BOUND, "default", ["d2", "l1"]),
        (BOUND, "auth", ["a2"]),
        (BOUND, "analytics", ["1700000001"]),
        # a bind whose branches have no revisions
        (BOUND, "empty", []),
        (make_map(), "default", []),
        # every branch of a bind, but not a head that another depends on
        (WITH_PROFILES, "auth", ["p1"]),
        (WITH_PROFILES, "default", ["d1"]),
        # an unlabelled history is default's
        (LINEAR, "default", ["1700000002"]),
        (LINEAR, "auth", []),
        # a bind that is not in the registry has no heads
        (BOUND, "nope", []),
    ],
)
def test_bind_heads(revision_map: RevisionMap, bind: str, expected: list[str]) -> None:
    """bind_heads lists the heads of a bind's branches: what upgrade
    brings it to.
    """
    assert bind_heads(revision_map, PER_BIND, bind) == expected


@pytest.mark.parametrize(
    ("ident", "expected"),
    [
        # revision ids, by the labels they carry or inherit
        ("d1", "default"),
        ("d2", "default"),
        ("a1", "auth"),
        ("a2", "auth"),
        ("1700000001", "analytics"),
        # a unique prefix of an id
        ("1700", "analytics"),
        # branch names, alone or with @
        ("auth", "auth"),
        ("analytics", "analytics"),
        ("empty", "empty"),
        ("profiles", "auth"),
        ("auth@head", "auth"),
        ("auth@-1", "auth"),
        ("profiles@base", "auth"),
        ("reports@head", "analytics"),
        ("default@head", "default"),
        # labels and branches the registry does not know are default's
        ("l1", "default"),
        ("legacy", "default"),
        ("legacy@head", "default"),
    ],
)
def test_bind_of_revision(ident: str, expected: str) -> None:
    """bind_of_revision names the bind a revision argument belongs to."""
    assert bind_of_revision(BOUND, PER_BIND, ident) == expected


def test_bind_of_revision_unlabelled() -> None:
    """A revision of an unlabelled history belongs to default."""
    assert bind_of_revision(LINEAR, PER_BIND, "1700000001") == "default"


@pytest.mark.parametrize("ident", ["zzz", "a3", "heads"])
def test_bind_of_revision_unknown(ident: str) -> None:
    """An argument that names no revision raises, naming it."""
    with pytest.raises(UnknownRevisionError) as info:
        bind_of_revision(BOUND, PER_BIND, ident)

    assert info.value.revision == ident
    assert str(info.value) == (
        f"Can't locate revision identified by '{ident}'. Run 'flask db log'"
        " to list the revisions."
    )


def movement(
    target: list[str], kind: str, binds: list[str] | None = None
) -> list[tuple[str, list[str]]]:
    """plan_movement on BOUND, as (bind, target) pairs in the order they run."""
    plans = plan_movement(
        BOUND, PER_BIND, target, ALL_BINDS if binds is None else binds, kind=kind
    )
    return list(plans.items())


@pytest.mark.parametrize(
    ("target", "kind", "binds", "expected"),
    [
        # heads is each bind's own heads, in dependency order; binds without
        # revisions are left out
        (
            ["heads"],
            "upgrade",
            None,
            [
                ("default", ["d2", "l1"]),
                ("auth", ["a2"]),
                ("analytics", ["1700000001"]),
            ],
        ),
        (
            ["head"],
            "stamp",
            None,
            [
                ("default", ["d2", "l1"]),
                ("auth", ["a2"]),
                ("analytics", ["1700000001"]),
            ],
        ),
        # downgrade runs the binds the other way round
        (
            ["heads"],
            "downgrade",
            None,
            [
                ("analytics", ["1700000001"]),
                ("auth", ["a2"]),
                ("default", ["d2", "l1"]),
            ],
        ),
        # base is each bind's base, empty's too
        (
            ["base"],
            "downgrade",
            None,
            [
                ("empty", ["base"]),
                ("analytics", ["base"]),
                ("auth", ["base"]),
                ("default", ["base"]),
            ],
        ),
        (
            ["base"],
            "stamp",
            None,
            [
                ("default", ["base"]),
                ("auth", ["base"]),
                ("analytics", ["base"]),
                ("empty", ["base"]),
            ],
        ),
        # only the binds asked for, in their running order whatever the
        # order asked in
        (
            ["heads"],
            "upgrade",
            ["analytics", "default"],
            [("default", ["d2", "l1"]), ("analytics", ["1700000001"])],
        ),
        (["heads"], "upgrade", ["empty"], []),
        (["base"], "downgrade", ["auth"], [("auth", ["base"])]),
        # revisions, labels and branch@ go to their bind only
        (["a1"], "downgrade", None, [("auth", ["a1"])]),
        (["a1"], "upgrade", ["auth"], [("auth", ["a1"])]),
        (["auth@head"], "upgrade", None, [("auth", ["auth@head"])]),
        (["analytics"], "stamp", None, [("analytics", ["analytics"])]),
        (["legacy@head"], "upgrade", None, [("default", ["legacy@head"])]),
        (
            ["a2", "d1", "n1"],
            "upgrade",
            None,
            [("default", ["d1"]), ("auth", ["a2"]), ("analytics", ["n1"])],
        ),
        (
            ["a2", "d1", "n1"],
            "downgrade",
            None,
            [("analytics", ["n1"]), ("auth", ["a2"]), ("default", ["d1"])],
        ),
        (
            ["auth@head", "profiles@head"],
            "upgrade",
            None,
            [("auth", ["auth@head", "profiles@head"])],
        ),
        # a numeric revision id is a revision, not a count
        (["1700000001"], "upgrade", None, [("analytics", ["1700000001"])]),
        # a count, for a single bind
        (["-1"], "downgrade", ["auth"], [("auth", ["auth@-1"])]),
        (["+2"], "upgrade", ["default"], [("default", ["default@+2"])]),
        (["auth@-1"], "downgrade", None, [("auth", ["auth@-1"])]),
        # nothing asked, nothing to do
        ([], "upgrade", None, []),
    ],
)
def test_plan_movement(
    target: list[str],
    kind: str,
    binds: list[str] | None,
    expected: list[tuple[str, list[str]]],
) -> None:
    """A target becomes a target per bind, in the order the binds run."""
    assert movement(target, kind, binds) == expected


@pytest.mark.parametrize(
    ("target", "kind", "binds", "message"),
    [
        (
            ["-1"],
            "downgrade",
            None,
            "A number of revisions to downgrade differs from bind to bind. Name"
            " the bind to downgrade: --bind NAME (the binds are default, auth,"
            " analytics, empty).",
        ),
        (
            ["+1"],
            "upgrade",
            ["analytics", "auth"],
            "A number of revisions to upgrade differs from bind to bind. Name"
            " the bind to upgrade: --bind NAME (the binds are auth, analytics).",
        ),
        (
            ["a2"],
            "upgrade",
            ["default", "analytics"],
            "'a2' belongs to bind 'auth', which this upgrade does not include."
            " Add --bind auth, or leave out --bind.",
        ),
        (
            ["profiles@head"],
            "stamp",
            ["default"],
            "'profiles@head' belongs to bind 'auth', which this stamp does not"
            " include. Add --bind auth, or leave out --bind.",
        ),
        (
            ["1700000001"],
            "downgrade",
            ["auth"],
            "'1700000001' belongs to bind 'analytics', which this downgrade does"
            " not include. Add --bind analytics, or leave out --bind.",
        ),
    ],
)
def test_plan_movement_error(
    target: list[str], kind: str, binds: list[str] | None, message: str
) -> None:
    """A count for several binds, or a revision of a bind that is not moved,
    is refused with the fix.
    """
    with pytest.raises(RevisionError) as info:
        movement(target, kind, binds)

    assert str(info.value) == message


def test_plan_movement_unknown() -> None:
    """A revision that does not exist is named."""
    with pytest.raises(UnknownRevisionError) as info:
        movement(["zzz"], "upgrade")

    assert info.value.revision == "zzz"


@pytest.mark.parametrize(
    ("target", "kind", "binds", "expected"),
    [
        (["a2-1"], "downgrade", ["auth"], [("auth", ["a2-1"])]),
        (["a2-1"], "downgrade", None, [("auth", ["a2-1"])]),
        (["a1+1"], "upgrade", ["auth"], [("auth", ["a1+1"])]),
    ],
)
def test_plan_movement_relative_to_revision(
    target: list[str],
    kind: str,
    binds: list[str] | None,
    expected: list[tuple[str, list[str]]],
) -> None:
    """A step count relative to a revision goes to that revision's bind."""
    assert movement(target, kind, binds) == expected


def plan_bound(revision_map: RevisionMap, branch: str) -> RevisionPlan:
    """plan_revision for a new revision at the head of a branch of PER_BIND."""
    return plan_revision(
        revision_map,
        branch=branch,
        parents=["head"],
        labels=[],
        path=None,
        registry=PER_BIND,
    )


@pytest.mark.parametrize(
    ("revision_map", "branch", "expected"),
    [
        # a bind's branch starts in <script_location>/<bind>
        (make_map(), "auth", (["base"], ["auth"], "/app/migrations/auth")),
        (BOUND, "empty", (["base"], ["empty"], "/app/migrations/empty")),
        # and continues from its own head
        (BOUND, "auth", (["auth@head"], [], "/app/migrations/auth")),
        (BOUND, "analytics", (["analytics@head"], [], "/app/migrations/analytics")),
        (BOUND, "default", (["default@head"], [], None)),
        # a branch depending on a branch of its own bind depends on its heads
        (
            BOUND,
            "profiles",
            (["base"], ["profiles"], "/app/migrations/profiles", ["a2"]),
        ),
        # one on another bind's branch does not: that orders the binds, even
        # before the other branch has revisions
        (BOUND, "reports", (["base"], ["reports"], "/app/migrations/reports", [])),
        # with both, only the same bind's heads
        (
            WITH_PROFILES,
            "audit",
            (["base"], ["audit"], "/app/migrations/audit", ["p1"]),
        ),
    ],
)
def test_plan_revision_per_bind(
    revision_map: RevisionMap, branch: str, expected: tuple[t.Any, ...]
) -> None:
    """Branches of binds start and continue in their own directories, and
    depend only on branches of the same bind.
    """
    assert plan_bound(revision_map, branch) == RevisionPlan(*expected)


def test_plan_revision_same_bind_needs_revisions() -> None:
    """A branch depending on a branch of its own bind that has no revisions
    cannot start, and says which branch to create first.
    """
    with pytest.raises(RevisionError) as info:
        plan_bound(BOUND, "audit")

    assert str(info.value) == (
        "Branch 'audit' depends on branch 'profiles', which has no revisions"
        " yet. Create one first: flask db revision MESSAGE --branch profiles"
    )
