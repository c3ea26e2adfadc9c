"""The branch registry, built from validated settings: no files, no database."""

from __future__ import annotations

import typing as t

import pytest

from flask_alembic import ConfigError
from flask_alembic import UnknownBranchError
from flask_alembic.branches.registry import Branch
from flask_alembic.branches.registry import build_registry
from flask_alembic.branches.registry import find_cycles
from flask_alembic.branches.registry import Registry
from flask_alembic.config import load_settings

ROOT = "/app"


def registry(alembic: dict[str, t.Any], binds: t.Iterable[str] = ()) -> Registry:
    """Validate an ``ALEMBIC`` dict and build its registry under ``ROOT``,
    declaring each of ``binds`` in ``ALEMBIC["binds"]``, which gives each
    (but ``default``) a branch of its own.
    """
    if binds:
        alembic = {**alembic, "binds": {name: {} for name in binds}}

    return build_registry(load_settings(alembic, {})[0], ROOT)


def problems(alembic: dict[str, t.Any], binds: t.Iterable[str] = ()) -> list[t.Any]:
    """The ``(key path, message)`` pairs building the registry reports."""
    with pytest.raises(ConfigError) as info:
        registry(alembic, binds)

    return info.value.problems


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        # only the implicit default branch, at script_location
        ({}, [("default", "/app/migrations")]),
        ({"script_location": "db"}, [("default", "/app/db")]),
        ({"script_location": "/abs/db"}, [("default", "/abs/db")]),
        ({"script_location": "pkg:migrations"}, [("default", "pkg:migrations")]),
        # (branch, path) tuples join; plain paths do not make branches
        (
            {"version_locations": ["/plain", ("users", "users/migrations")]},
            [("default", "/app/migrations"), ("users", "/app/users/migrations")],
        ),
        (
            {"version_locations": [("auth", "/abs/auth"), ("users", "pkg:users")]},
            [
                ("default", "/app/migrations"),
                ("auth", "/abs/auth"),
                ("users", "pkg:users"),
            ],
        ),
        # declared branches default to <script_location>/<name>
        (
            {"script_location": "db", "branches": {"users": {}}},
            [("default", "/app/db"), ("users", "/app/db/users")],
        ),
        (
            {"branches": {"users": {"path": "apps/users"}, "auth": {"path": "/a"}}},
            [
                ("default", "/app/migrations"),
                ("users", "/app/apps/users"),
                ("auth", "/a"),
            ],
        ),
        # default first, then version_locations, then declared branches
        (
            {
                "branches": {"zeta": {}, "alpha": {}},
                "version_locations": [("mid", "/mid")],
            },
            [
                ("default", "/app/migrations"),
                ("mid", "/mid"),
                ("zeta", "/app/migrations/zeta"),
                ("alpha", "/app/migrations/alpha"),
            ],
        ),
        # names may use underscores, digits and dashes
        (
            {"branches": {"_x": {}, "a-1": {}}},
            [
                ("default", "/app/migrations"),
                ("_x", "/app/migrations/_x"),
                ("a-1", "/app/migrations/a-1"),
            ],
        ),
    ],
)
def test_branches(alembic: dict[str, t.Any], expected: list[tuple[str, str]]) -> None:
    """The registry holds default, located and declared branches, in order."""
    result = registry(alembic)
    assert [(branch.name, branch.path) for branch in result] == expected
    assert result.names == [name for name, _ in expected]
    assert len(result) == len(expected)


def test_declared_branch_fields() -> None:
    """A declared branch keeps its bind, dependencies and description."""
    result = registry(
        {
            "branches": {
                "users": {},
                "auth": {
                    "bind": "accounts",
                    "depends_on": ["users"],
                    "description": "Logins.",
                },
            }
        },
        binds=["accounts"],
    )
    assert result.get("auth") == Branch(
        "auth",
        "/app/migrations/auth",
        "accounts",
        ("users",),
        "Logins.",
        declared=True,
    )
    assert result.get("default") == Branch("default", "/app/migrations")


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        ({}, False),
        ({"version_locations": [("users", "/u"), "/plain"]}, False),
        ({"branches": {"users": {}}}, True),
    ],
)
def test_declares(alembic: dict[str, t.Any], expected: bool) -> None:
    """Only branches in ALEMBIC["branches"] count as declared."""
    assert registry(alembic).declares is expected


#: default, users (from version_locations) and auth (declared).
REGISTRY_CONFIG: dict[str, t.Any] = {
    "version_locations": [("users", "/u")],
    "branches": {"auth": {}},
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", "default"),
        ("users", "users"),
        ("auth", "auth"),
        ("nope", None),
        ("", None),
    ],
)
def test_get(name: str, expected: str | None) -> None:
    """get returns the branch of that name, or None."""
    branch = registry(REGISTRY_CONFIG).get(name)
    assert (branch.name if branch is not None else None) == expected
    assert (name in registry(REGISTRY_CONFIG)) is (expected is not None)


@pytest.mark.parametrize(
    ("name", "also_known", "expected"),
    [
        ("default", (), "default"),
        ("auth", (), "auth"),
        ("users", ["users"], "users"),
        ("legacy", ["legacy"], None),
        ("legacy", ["other", "legacy"], None),
    ],
)
def test_require(name: str, also_known: list[str], expected: str | None) -> None:
    """require returns a registry branch, or None for names only also known."""
    branch = registry(REGISTRY_CONFIG).require(name, also_known)
    assert (branch.name if branch is not None else None) == expected


@pytest.mark.parametrize(
    ("name", "also_known", "known", "possibilities"),
    [
        ("uesrs", (), ["default", "users", "auth"], ["users"]),
        ("zzz", (), ["default", "users", "auth"], []),
        ("defualt", (), ["default", "users", "auth"], ["default"]),
        # names found elsewhere are known, once, after the registry's
        (
            "legacyy",
            ["users", "legacy"],
            ["default", "users", "auth", "legacy"],
            ["legacy"],
        ),
        # at most three close matches, best first
        (
            "aut",
            ["authxyz", "authxy", "authx"],
            ["default", "users", "auth", "authxyz", "authxy", "authx"],
            ["auth", "authx", "authxy"],
        ),
    ],
)
def test_require_unknown(
    name: str, also_known: list[str], known: list[str], possibilities: list[str]
) -> None:
    """An unknown name raises with the known names and close matches."""
    with pytest.raises(UnknownBranchError) as info:
        registry(REGISTRY_CONFIG).require(name, also_known)

    assert info.value.name == name
    assert info.value.known == known
    assert info.value.possibilities == possibilities
    assert f"The branches are: {', '.join(known)}." in str(info.value)


@pytest.mark.parametrize(
    ("branches", "name", "expected"),
    [
        ({"a": {}}, "a", []),
        ({"a": {}}, "default", []),
        ({"a": {"depends_on": ["default"]}}, "a", ["default"]),
        # transitive, nearest first
        (
            {"a": {}, "b": {"depends_on": ["a"]}, "c": {"depends_on": ["b"]}},
            "c",
            ["b", "a"],
        ),
        # shared dependencies once
        (
            {
                "a": {},
                "b": {"depends_on": ["a"]},
                "c": {"depends_on": ["a"]},
                "d": {"depends_on": ["b", "c"]},
            },
            "d",
            ["b", "c", "a"],
        ),
    ],
)
def test_dependencies(
    branches: dict[str, t.Any], name: str, expected: list[str]
) -> None:
    """dependencies lists every branch a branch depends on, nearest first."""
    result = registry({"branches": branches}).dependencies(name)
    assert [branch.name for branch in result] == expected


def _invalid(name: str) -> str:
    """The message for a name that is not valid."""
    return (
        f"'{name}' is not a valid branch name; use letters, digits, '_'"
        " and '-', starting with a letter or '_' (no '/', '@' or '.')"
    )


def _reserved(name: str) -> str:
    """The message for a name Alembic reserves."""
    return f"'{name}' means something else to Alembic; rename it"


def _shares(owner: str) -> str:
    """The message for a path another branch has."""
    return f"shares its path with branch '{owner}'; give each branch its own directory"


def _outside(path: str) -> str:
    """The message for a path outside the root."""
    return (
        f"'{path}' is outside the application root; use a path inside it,"
        " or an absolute path"
    )


def _cycle(path: str) -> str:
    """The message for a cycle of dependencies."""
    return (
        f"branches depend on each other in a cycle ({path}); remove one"
        " of the dependencies"
    )


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        # invalid names, declared or in version_locations
        *(
            (
                {"branches": {name: {}}},
                [(f"ALEMBIC.branches.{name}", _invalid(name))],
            )
            for name in ("a/b", "a@b", "a.b", "1abc", "", "-a", "a b")
        ),
        *(
            (
                {"version_locations": ["/plain", (name, "/v")]},
                [("ALEMBIC.version_locations.1", _invalid(name))],
            )
            for name in ("a/b", "a@b", "a.b", "1abc", "")
        ),
        # words Alembic reserves
        *(
            (
                {"branches": {name: {}}},
                [(f"ALEMBIC.branches.{name}", _reserved(name))],
            )
            for name in ("head", "heads", "base", "current")
        ),
        *(
            (
                {"version_locations": [(name, "/v")]},
                [("ALEMBIC.version_locations.0", _reserved(name))],
            )
            for name in ("head", "heads", "base", "current")
        ),
        # a declared name that is already a branch
        (
            {"version_locations": [("users", "/u")], "branches": {"users": {}}},
            [
                (
                    "ALEMBIC.branches.users",
                    "'users' is already a branch; pick another name",
                )
            ],
        ),
        (
            {"branches": {"default": {}}},
            [
                (
                    "ALEMBIC.branches.default",
                    "'default' is already a branch; pick another name",
                )
            ],
        ),
        # shared paths, however they are written
        (
            {"branches": {"a": {"path": "shared"}, "b": {"path": "shared/"}}},
            [("ALEMBIC.branches.b.path", _shares("a"))],
        ),
        (
            {"branches": {"a": {"path": "/x"}, "b": {"path": "/y/../x"}}},
            [("ALEMBIC.branches.b.path", _shares("a"))],
        ),
        (
            {"branches": {"a": {"path": "migrations"}}},
            [("ALEMBIC.branches.a.path", _shares("default"))],
        ),
        (
            {"branches": {"a": {"path": "/app/migrations"}}},
            [("ALEMBIC.branches.a.path", _shares("default"))],
        ),
        (
            {"version_locations": [("users", "migrations")]},
            [("ALEMBIC.version_locations", _shares("default"))],
        ),
        (
            {
                "version_locations": [("users", "/u")],
                "branches": {"auth": {"path": "/u"}},
            },
            [("ALEMBIC.branches.auth.path", _shares("users"))],
        ),
        (
            {"version_locations": [("users", "/u"), ("auth", "/u")]},
            [("ALEMBIC.version_locations", _shares("users"))],
        ),
        # relative paths must stay inside the root
        (
            {"branches": {"x": {"path": "../x"}}},
            [("ALEMBIC.branches.x.path", _outside("../x"))],
        ),
        (
            {"branches": {"x": {"path": "sub/../../x"}}},
            [("ALEMBIC.branches.x.path", _outside("sub/../../x"))],
        ),
        (
            {"script_location": "../m", "branches": {"x": {}}},
            [("ALEMBIC.branches.x.path", _outside("../m/x"))],
        ),
        # unknown dependencies, with a suggestion when one is close
        (
            {"branches": {"users": {}, "auth": {"depends_on": ["usres"]}}},
            [
                (
                    "ALEMBIC.branches.auth.depends_on",
                    "unknown branch 'usres' (known: default, users, auth);"
                    " did you mean 'users'?",
                )
            ],
        ),
        (
            {"branches": {"auth": {"depends_on": ["zzz"]}}},
            [
                (
                    "ALEMBIC.branches.auth.depends_on",
                    "unknown branch 'zzz' (known: default, auth)",
                )
            ],
        ),
        # cycles, including a branch depending on itself
        (
            {"branches": {"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}}},
            [("ALEMBIC.branches.a.depends_on", _cycle("a -> b -> a"))],
        ),
        (
            {
                "branches": {
                    "a": {"depends_on": ["b"]},
                    "b": {"depends_on": ["c"]},
                    "c": {"depends_on": ["a"]},
                }
            },
            [("ALEMBIC.branches.a.depends_on", _cycle("a -> b -> c -> a"))],
        ),
        (
            {
                "branches": {
                    "a": {},
                    "b": {"depends_on": ["c"]},
                    "c": {"depends_on": ["b"]},
                }
            },
            [("ALEMBIC.branches.b.depends_on", _cycle("b -> c -> b"))],
        ),
        (
            {"branches": {"a": {"depends_on": ["a"]}}},
            [("ALEMBIC.branches.a.depends_on", _cycle("a -> a"))],
        ),
        # unknown binds, with a suggestion when one is close
        (
            {"branches": {"a": {"bind": "acounts"}}, "binds": {"accounts": {}}},
            [
                (
                    "ALEMBIC.branches.a.bind",
                    "unknown bind 'acounts' (known: default, accounts); did you"
                    " mean 'accounts'?",
                )
            ],
        ),
        (
            {"branches": {"a": {"bind": "zzz"}}, "binds": {"accounts": {}}},
            [
                (
                    "ALEMBIC.branches.a.bind",
                    "unknown bind 'zzz' (known: default, accounts)",
                )
            ],
        ),
        # without ALEMBIC["binds"], default is the only bind
        (
            {"branches": {"a": {"bind": "accounts"}}},
            [
                (
                    "ALEMBIC.branches.a.bind",
                    "unknown bind 'accounts' (known: default)",
                )
            ],
        ),
    ],
)
def test_problem(alembic: dict[str, t.Any], expected: list[tuple[str, str]]) -> None:
    """Each mistake is reported at its key, with what to do about it."""
    assert problems(alembic) == expected


@pytest.mark.parametrize(
    ("alembic", "binds", "names"),
    [
        ({"branches": {"x": {"path": "/abs/x"}}}, (), ["default", "x"]),
        ({"branches": {"x": {"path": "/elsewhere/../x"}}}, (), ["default", "x"]),
        ({"branches": {"x": {"path": "pkg:x"}}}, (), ["default", "x"]),
        ({"branches": {"x": {"path": "sub/../x"}}}, (), ["default", "x"]),
        ({"branches": {"x": {"bind": "default"}}}, (), ["default", "x"]),
        # a declared bind is known, and has a branch of its own
        (
            {"branches": {"x": {"bind": "users"}}},
            ["users"],
            ["default", "users", "x"],
        ),
        # default may be declared as a bind; it has no branch of its own
        ({"branches": {"x": {"bind": "default"}}}, ["default"], ["default", "x"]),
    ],
)
def test_allowed(
    alembic: dict[str, t.Any], binds: t.Iterable[str], names: list[str]
) -> None:
    """Absolute, resource and inside-root paths and known binds are accepted."""
    assert registry(alembic, binds).names == names


def test_problems_together() -> None:
    """Every problem is reported at once, in one ConfigError."""
    alembic = {
        "version_locations": [("a.b", "/v"), ("current", "/w"), ("users", "/u")],
        "branches": {
            "a/b": {},
            "head": {},
            "users": {},
            "x": {"path": "../x", "bind": "nope", "depends_on": ["y"]},
            "y2": {"path": "/u"},
            "c": {"depends_on": ["c"]},
        },
    }
    assert problems(alembic, binds=["accounts"]) == [
        ("ALEMBIC.version_locations.0", _invalid("a.b")),
        ("ALEMBIC.version_locations.1", _reserved("current")),
        ("ALEMBIC.branches.a/b", _invalid("a/b")),
        ("ALEMBIC.branches.head", _reserved("head")),
        ("ALEMBIC.branches.users", "'users' is already a branch; pick another name"),
        ("ALEMBIC.branches.x.path", _outside("../x")),
        ("ALEMBIC.branches.x.bind", "unknown bind 'nope' (known: default, accounts)"),
        ("ALEMBIC.branches.y2.path", _shares("users")),
        (
            "ALEMBIC.branches.x.depends_on",
            "unknown branch 'y' (known: default, accounts, users, x, y2, c);"
            " did you mean 'y2'?",
        ),
        ("ALEMBIC.branches.c.depends_on", _cycle("c -> c")),
    ]


def test_every_cycle_reported() -> None:
    """Two separate cycles are both reported."""
    alembic = {
        "branches": {
            "a": {"depends_on": ["b"]},
            "b": {"depends_on": ["a"]},
            "c": {"depends_on": ["c"]},
        }
    }
    assert problems(alembic) == [
        ("ALEMBIC.branches.a.depends_on", _cycle("a -> b -> a")),
        ("ALEMBIC.branches.c.depends_on", _cycle("c -> c")),
    ]


@pytest.mark.parametrize(
    "locations",
    [
        [("users", "/u"), ("users", "/v")],
        [("default", "/x")],
    ],
)
def test_version_location_duplicate_name(locations: list[tuple[str, str]]) -> None:
    """A (branch, path) name that is already a branch is reported."""
    index = len(locations) - 1
    name = locations[index][0]
    assert problems({"version_locations": locations}) == [
        (
            f"ALEMBIC.version_locations.{index}",
            f"'{name}' is already a branch; pick another name",
        )
    ]


# Binds: ALEMBIC["binds"]


def test_no_binds() -> None:
    """Without ALEMBIC["binds"], default is the only bind and histories are
    shared.
    """
    result = registry({"branches": {"x": {}}})
    assert result.binds == ("default",)
    assert result.per_bind is False


@pytest.mark.parametrize(
    ("binds", "expected"),
    [
        ({"auth": {}}, ("default", "auth")),
        # declaring default alone still switches to per-bind histories
        ({"default": {}}, ("default",)),
        ({"default": {"version_table": "v"}, "auth": {}}, ("default", "auth")),
    ],
)
def test_per_bind(binds: dict[str, t.Any], expected: tuple[str, ...]) -> None:
    """Declaring any bind switches to per-bind histories."""
    result = registry({"binds": binds})
    assert result.per_bind is True
    assert result.binds == expected


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        # a branch per bind, at <script_location>/<name>
        (
            {"binds": {"auth": {}}},
            [
                Branch("default", "/app/migrations"),
                Branch("auth", "/app/migrations/auth", "auth", declared=True),
            ],
        ),
        (
            {"script_location": "db", "binds": {"auth": {}}},
            [
                Branch("default", "/app/db"),
                Branch("auth", "/app/db/auth", "auth", declared=True),
            ],
        ),
        # or at the path given: relative to the root, absolute or a resource
        (
            {
                "binds": {
                    "auth": {"path": "auth/migrations"},
                    "stats": {"path": "/abs/stats"},
                    "logs": {"path": "pkg:logs"},
                }
            },
            [
                Branch("default", "/app/migrations"),
                Branch("auth", "/app/auth/migrations", "auth", declared=True),
                Branch("stats", "/abs/stats", "stats", declared=True),
                Branch("logs", "pkg:logs", "logs", declared=True),
            ],
        ),
        # default is a bind without a branch of its own; the others keep
        # their declaration order
        (
            {"binds": {"zeta": {}, "default": {}, "alpha": {}}},
            [
                Branch("default", "/app/migrations"),
                Branch("zeta", "/app/migrations/zeta", "zeta", declared=True),
                Branch("alpha", "/app/migrations/alpha", "alpha", declared=True),
            ],
        ),
        # bind branches come after default, before version_locations and
        # declared branches
        (
            {
                "binds": {"auth": {}},
                "version_locations": [("legacy", "/legacy")],
                "branches": {"profiles": {"bind": "auth"}, "posts": {}},
            },
            [
                Branch("default", "/app/migrations"),
                Branch("auth", "/app/migrations/auth", "auth", declared=True),
                Branch("legacy", "/legacy"),
                Branch("profiles", "/app/migrations/profiles", "auth", declared=True),
                Branch("posts", "/app/migrations/posts", declared=True),
            ],
        ),
    ],
)
def test_bind_branches(alembic: dict[str, t.Any], expected: list[Branch]) -> None:
    """Each declared bind but default gets a declared branch named after it,
    whose revisions run on it.
    """
    result = registry(alembic)
    assert list(result) == expected
    assert result.declares is True


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        # declaration order
        ({"binds": {"b": {}, "a": {}}}, ("default", "b", "a")),
        # a bind after the binds it depends on
        ({"binds": {"a": {"depends_on": ["b"]}, "b": {}}}, ("default", "b", "a")),
        (
            {
                "binds": {
                    "a": {"depends_on": ["c"]},
                    "b": {},
                    "c": {"depends_on": ["b"]},
                }
            },
            ("default", "b", "c", "a"),
        ),
        # default too, when it depends on another bind
        ({"binds": {"default": {"depends_on": ["a"]}, "a": {}}}, ("a", "default")),
        ({"binds": {"a": {"depends_on": ["default"]}}}, ("default", "a")),
        # a branch depending on a branch of another bind orders the binds
        (
            {
                "binds": {"a": {}, "b": {}},
                "branches": {"x": {"bind": "a", "depends_on": ["b"]}},
            },
            ("default", "b", "a"),
        ),
        (
            {
                "binds": {"a": {}, "b": {}},
                "branches": {
                    "x": {"bind": "a", "depends_on": ["y"]},
                    "y": {"bind": "b"},
                },
            },
            ("default", "b", "a"),
        ),
        (
            {"binds": {"a": {}}, "branches": {"x": {"depends_on": ["a"]}}},
            ("a", "default"),
        ),
        # a branch depending on a branch of its own bind does not
        (
            {
                "binds": {"a": {}, "b": {}},
                "branches": {"x": {"bind": "a", "depends_on": ["a"]}},
            },
            ("default", "a", "b"),
        ),
        # nor does a bind listing itself
        # a branch of a version location runs on default
        (
            {
                "binds": {"default": {"depends_on": ["b"]}, "a": {}, "b": {}},
                "version_locations": [("legacy", "/legacy")],
            },
            ("a", "b", "default"),
        ),
        (
            {
                "binds": {"default": {"depends_on": ["b"]}, "a": {}, "b": {}},
                "version_locations": [("legacy", "/legacy")],
                "branches": {"x": {"bind": "a", "depends_on": ["legacy"]}},
            },
            ("b", "default", "a"),
        ),
    ],
)
def test_bind_order(alembic: dict[str, t.Any], expected: tuple[str, ...]) -> None:
    """Registry.binds lists each bind after the binds it depends on, else in
    declaration order, default first.
    """
    assert registry(alembic).binds == expected


#: Binds auth and stats; branches on each and on default.
BIND_CONFIG: dict[str, t.Any] = {
    "binds": {"auth": {}, "stats": {}},
    "version_locations": [("legacy", "/legacy")],
    "branches": {
        "profiles": {"bind": "auth"},
        "posts": {},
        "sessions": {"bind": "auth"},
    },
}


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("default", ["default", "legacy", "posts"]),
        ("auth", ["auth", "profiles", "sessions"]),
        ("stats", ["stats"]),
        ("nope", []),
    ],
)
def test_branches_of(bind: str, expected: list[str]) -> None:
    """branches_of lists the branches that run on a bind, in registry order."""
    assert [b.name for b in registry(BIND_CONFIG).branches_of(bind)] == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["auth"], "auth"),
        (["profiles"], "auth"),
        (("stats",), "stats"),
        (["posts"], "default"),
        (["legacy"], "default"),
        (["default"], "default"),
        # no label: the unlabelled history of default
        ([], "default"),
        # labels that are not branches of the registry run on default
        (["unknown"], "default"),
        # the first known label, in sorted order
        (["unknown", "stats"], "stats"),
        (["stats", "auth"], "auth"),
        ({"sessions", "posts"}, "default"),
    ],
)
def test_bind_of(labels: t.Iterable[str], expected: str) -> None:
    """bind_of names the bind of a revision from its branch labels."""
    assert registry(BIND_CONFIG).bind_of(labels) == expected


def _taken_by_bind(name: str) -> str:
    """The message for a name that is already the branch of a bind."""
    return f"'{name}' is already the branch of bind '{name}'; pick another name"


def _invalid_bind(name: str) -> str:
    """The message for a bind name that is not valid."""
    return (
        f"'{name}' is not a valid bind name; use letters, digits, '_'"
        " and '-', starting with a letter or '_' (no '/', '@' or '.')"
    )


def _bind_cycle(names: str) -> str:
    """The message for a cycle of binds, given as ``"a, b"``."""
    path = " -> ".join([*names.split(", "), names.split(", ")[0]])
    return (
        f"binds depend on each other in a cycle ({path}), directly or through"
        " their branches; remove one of the dependencies"
    )


@pytest.mark.parametrize(
    ("alembic", "expected"),
    [
        # invalid bind names
        *(
            (
                {"binds": {name: {}}},
                [(f"ALEMBIC.binds.{name}", _invalid_bind(name))],
            )
            for name in ("a/b", "a@b", "a.b", "1abc", "", "-a", "a b")
        ),
        # words Alembic reserves
        *(
            (
                {"binds": {name: {}}},
                [(f"ALEMBIC.binds.{name}", _reserved(name))],
            )
            for name in ("head", "heads", "base", "current")
        ),
        # a branch named like a bind
        (
            {"binds": {"auth": {}}, "branches": {"auth": {}}},
            [("ALEMBIC.branches.auth", _taken_by_bind("auth"))],
        ),
        (
            {"binds": {"auth": {}}, "branches": {"auth": {"bind": "auth"}}},
            [("ALEMBIC.branches.auth", _taken_by_bind("auth"))],
        ),
        (
            {"binds": {"auth": {}}, "version_locations": [("auth", "/a")]},
            [("ALEMBIC.version_locations.0", _taken_by_bind("auth"))],
        ),
        # the default bind's branch is the default branch
        (
            {"binds": {"default": {}}, "branches": {"default": {}}},
            [
                (
                    "ALEMBIC.branches.default",
                    "'default' is already a branch; pick another name",
                )
            ],
        ),
        # relative bind paths must stay inside the root
        (
            {"binds": {"auth": {"path": "../auth"}}},
            [("ALEMBIC.binds.auth.path", _outside("../auth"))],
        ),
        (
            {"script_location": "../m", "binds": {"auth": {}}},
            [("ALEMBIC.binds.auth.path", _outside("../m/auth"))],
        ),
        # a branch on the path of a bind
        (
            {"binds": {"auth": {}}, "branches": {"x": {"path": "migrations/auth"}}},
            [("ALEMBIC.branches.x.path", _shares("auth"))],
        ),
        (
            {"binds": {"auth": {}}, "version_locations": [("x", "migrations/auth")]},
            [("ALEMBIC.version_locations", _shares("auth"))],
        ),
        # unknown binds in depends_on, with a suggestion when one is close
        (
            {"binds": {"auth": {}, "stats": {"depends_on": ["atuh"]}}},
            [
                (
                    "ALEMBIC.binds.stats.depends_on",
                    "unknown bind 'atuh' (known: default, auth, stats); did you"
                    " mean 'auth'?",
                )
            ],
        ),
        (
            {"binds": {"auth": {"depends_on": ["zzz"]}}},
            [
                (
                    "ALEMBIC.binds.auth.depends_on",
                    "unknown bind 'zzz' (known: default, auth)",
                )
            ],
        ),
        # a branch of a bind is not a bind
        (
            {
                "binds": {"auth": {"depends_on": ["posts"]}},
                "branches": {"posts": {}},
            },
            [
                (
                    "ALEMBIC.binds.auth.depends_on",
                    "unknown bind 'posts' (known: default, auth)",
                )
            ],
        ),
        # cycles between binds, directly or through their branches
        (
            {"binds": {"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}}},
            [("ALEMBIC.binds.a.depends_on", _bind_cycle("a, b"))],
        ),
        (
            {
                "binds": {
                    "a": {"depends_on": ["b"]},
                    "b": {"depends_on": ["c"]},
                    "c": {"depends_on": ["a"]},
                }
            },
            [("ALEMBIC.binds.a.depends_on", _bind_cycle("a, b, c"))],
        ),
        (
            {
                "binds": {"a": {"depends_on": ["b"]}, "b": {}},
                "branches": {"x": {"bind": "b", "depends_on": ["a"]}},
            },
            [("ALEMBIC.binds.a.depends_on", _bind_cycle("a, b"))],
        ),
        (
            {
                "binds": {"default": {"depends_on": ["a"]}, "a": {}},
                "branches": {"x": {"bind": "a", "depends_on": ["default"]}},
            },
            [("ALEMBIC.binds.default.depends_on", _bind_cycle("default, a"))],
        ),
    ],
)
def test_bind_problem(
    alembic: dict[str, t.Any], expected: list[tuple[str, str]]
) -> None:
    """Each mistake in ALEMBIC["binds"] is reported at its key, with what to
    do about it.
    """
    assert problems(alembic) == expected


@pytest.mark.parametrize(
    ("binds", "expected"),
    [
        (
            {"a": {"path": "shared"}, "b": {"path": "shared/"}},
            [("ALEMBIC.binds.b.path", _shares("a"))],
        ),
        (
            {"auth": {"path": "migrations"}},
            [("ALEMBIC.binds.auth.path", _shares("default"))],
        ),
    ],
)
def test_bind_shared_path(
    binds: dict[str, t.Any], expected: list[tuple[str, str]]
) -> None:
    """A bind whose path another branch has is reported at the bind's path."""
    assert problems({"binds": binds}) == expected


def test_every_bind_cycle_reported() -> None:
    """Each cycle between binds is reported once, naming only its binds."""
    alembic = {
        "binds": {
            "a": {"depends_on": ["b"]},
            "b": {"depends_on": ["a"]},
            "c": {"depends_on": ["a"]},
            "d": {"depends_on": ["e"]},
            "e": {"depends_on": ["d"]},
        }
    }
    assert problems(alembic) == [
        ("ALEMBIC.binds.a.depends_on", _bind_cycle("a, b")),
        ("ALEMBIC.binds.d.depends_on", _bind_cycle("d, e")),
    ]


def test_bind_problems_together() -> None:
    """Problems with binds are reported at once, with those of branches."""
    alembic = {
        "binds": {
            "a.b": {},
            "base": {},
            "auth": {"path": "../auth"},
            "x": {"depends_on": ["y"]},
            "y": {"depends_on": ["x"]},
        },
        "version_locations": [("auth", "/v")],
        "branches": {"auth": {}, "c": {"depends_on": ["c"]}},
    }
    assert problems(alembic) == [
        ("ALEMBIC.binds.a.b", _invalid_bind("a.b")),
        ("ALEMBIC.binds.base", _reserved("base")),
        ("ALEMBIC.binds.auth.path", _outside("../auth")),
        ("ALEMBIC.version_locations.0", _taken_by_bind("auth")),
        ("ALEMBIC.branches.auth", _taken_by_bind("auth")),
        ("ALEMBIC.branches.c.depends_on", _cycle("c -> c")),
        ("ALEMBIC.binds.x.depends_on", _bind_cycle("x, y")),
    ]


def test_bind_depending_on_itself() -> None:
    """A bind listing itself in depends_on is a cycle, as for branches."""
    assert problems({"binds": {"a": {"depends_on": ["a"]}}}) == [
        ("ALEMBIC.binds.a.depends_on", _bind_cycle("a"))
    ]


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": ["b"], "b": []}, []),
        ({"a": ["a"]}, [["a"]]),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c"]]),
        # two separate cycles, each reported once
        ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]}, [["a", "b"], ["c", "d"]]),
        # a diamond is not a cycle
        ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, []),
        # names outside the graph are ignored
        ({"a": ["zzz"]}, []),
    ],
)
def test_find_cycles(graph: dict[str, list[str]], cycles: list[list[str]]) -> None:
    assert find_cycles(graph) == cycles


def test_find_cycles_deep() -> None:
    """A chain far deeper than Python's recursion limit is walked, and a
    cycle through all of it is found with every member.
    """
    size = 20_000
    chain = {str(i): [str(i + 1)] for i in range(size)}
    chain[str(size)] = []
    assert find_cycles(chain) == []
    chain[str(size)] = ["0"]
    assert find_cycles(chain) == [[str(i) for i in range(size + 1)]]
