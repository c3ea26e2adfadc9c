"""The order revisions are walked in (``log``, ``branches``, upgrades) is
Alembic's, from a sort that holds ancestors as bits instead of walking the
history again at every merge.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from alembic.script.revision import DependencyCycleDetected
from alembic.script.revision import Revision
from alembic.script.revision import RevisionMap

from flask_alembic import _alembic


def random_history(
    seed: int, several: float = 0.0
) -> list[tuple[str, t.Any, t.Any, t.Any]]:
    """Revision ids, down revisions, dependencies and labels of a random
    history: roots (some labelled), lines, forks, merges of two or three,
    and dependencies on revisions or labels; with ``several``, that share
    of the revisions with dependencies has up to twelve.
    """
    rng = random.Random(seed)
    history: list[tuple[str, t.Any, t.Any, t.Any]] = []
    labels: list[str] = []

    for n in range(rng.randint(1, 60)):
        rev = f"r{n:03d}"
        earlier = [h[0] for h in history]
        roll = rng.random()
        label = None

        if not earlier or roll < 0.06:
            down: t.Any = None

            if rng.random() < 0.6:
                label = f"label{len(labels)}"
                labels.append(label)
        elif roll < 0.25 and len(earlier) >= 2:
            down = tuple(rng.sample(earlier, rng.choice([2, 2, 3][: len(earlier)])))
        else:
            down = rng.choice(earlier[-8:])

        depends: t.Any = None

        if earlier and rng.random() < 0.12:
            choices = [e for e in earlier if e not in (down or ())]

            if labels and rng.random() < 0.3:
                choices = labels

            if choices and rng.random() < several:
                count = min(len(choices), rng.randint(2, 12))
                depends = tuple(rng.sample(choices, count))
            elif choices:
                depends = rng.choice(choices)

        history.append((rev, down, depends, label))

    return history


def build(
    history: list[tuple[str, t.Any, t.Any, t.Any]], cls: type[RevisionMap]
) -> RevisionMap:
    return cls(
        lambda: [
            Revision(rev, down, dependencies=depends, branch_labels=label)
            for rev, down, depends, label in history
        ]
    )


def normalized(revision_map: RevisionMap) -> dict[str, tuple[str, ...]]:
    """Each revision's dependencies once an ancestor's are dropped."""
    return {
        rev.revision: rev._normalized_resolved_dependencies
        for rev in revision_map._revision_map.values()
        if rev is not None
    }


def outcome(fn: t.Callable[[], t.Any]) -> t.Any:
    try:
        return fn()
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.mark.parametrize("seed", range(300))
def test_same_order_as_alembic(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sort, and the walks built on it, give Alembic's order for every
    range of a random history, or Alembic's error.
    """
    history = random_history(seed)
    alembic_map = build(history, RevisionMap)
    ours = build(history, _alembic._CheckedRevisionMap)
    try:
        assert alembic_map.heads is not None
    except DependencyCycleDetected:
        # Not a history Alembic accepts, nor flask_alembic, whose own check
        # reports the cycle before the map is built.
        return

    revisions = {r for r in alembic_map._revision_map.values() if r is not None}
    heads = alembic_map.get_revisions(alembic_map.heads)

    # The dependencies left once an ancestor's are dropped: the same, in
    # the same order, as Alembic's, without falling back on Alembic's walk.
    def no_fallback(*args: t.Any) -> None:
        raise AssertionError("Alembic's _normalize_depends_on ran")

    monkeypatch.setattr(RevisionMap, "_normalize_depends_on", no_fallback)
    assert normalized(ours) == normalized(alembic_map)

    expected = alembic_map._topological_sort(revisions, heads)
    fast = _alembic._sort_topologically(alembic_map._revision_map, revisions, heads)
    assert fast == expected

    rng = random.Random(seed)
    ids = [h[0] for h in history]
    ranges = [("heads", "base")] + [
        (rng.choice(ids), rng.choice([*ids, "base"])) for _ in range(5)
    ]

    def walk(m: RevisionMap, upper: str, lower: str) -> t.Any:
        return outcome(lambda: [r.revision for r in m.iterate_revisions(upper, lower)])

    for upper, lower in ranges:
        assert walk(ours, upper, lower) == walk(alembic_map, upper, lower)


def shared_dependencies() -> list[tuple[str, t.Any, t.Any, t.Any]]:
    """A history whose revisions declare dependencies their ancestors
    declare too: ``a0`` to ``a9`` in a line, each depending on one of
    ``d0`` to ``d11``; ``r`` on all twelve, ``s`` on three, one of them
    shared.
    """
    history: list[tuple[str, t.Any, t.Any, t.Any]] = [
        (f"d{n}", None, None, None) for n in range(12)
    ]
    history += [(f"a{n}", f"a{n - 1}" if n else None, f"d{n}", None) for n in range(10)]
    history.append(("r", "a9", tuple(f"d{n}" for n in range(12)), None))
    history.append(("s", "a0", ("d0", "d5", "d7"), None))
    return history


def different_dependencies() -> list[tuple[int, str]]:
    """The revisions whose dependencies, once an ancestor's are dropped,
    differ from Alembic's in content or order: in :func:`shared_dependencies`
    (as -1) and in 300 random histories with several dependencies.
    """
    histories = {-1: shared_dependencies()}
    histories.update((seed, random_history(seed, several=0.5)) for seed in range(300))
    different: list[tuple[int, str]] = []

    for seed, history in histories.items():
        alembic_map = build(history, RevisionMap)

        try:
            assert alembic_map.heads is not None
        except DependencyCycleDetected:
            continue

        expected = normalized(alembic_map)
        ours = normalized(build(history, _alembic._CheckedRevisionMap))
        different.extend(
            (seed, rev_id)
            for rev_id, found in ours.items()
            if found != expected[rev_id]
        )

    return different


@pytest.mark.parametrize("hash_seed", range(6))
def test_dependencies_in_alembics_order(hash_seed: int) -> None:
    """Dependencies come in Alembic's order whatever the seed of string
    hashes, which decides the order of a set and when dropping several of
    its items reorders it. Each seed needs a process of its own.
    """
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.test_topological_sort import different_dependencies as d;"
            " print(d())",
        ],
        cwd=Path(__file__).parents[1],
        env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_deep_history_without_recursion() -> None:
    """A history deeper than Python's recursion limit, merging as it goes."""
    history: list[tuple[str, t.Any, t.Any, t.Any]] = [("a0", None, None, None)]

    for n in range(1, 3000):
        down = f"a{n - 1}" if n % 3 else (f"a{n - 1}", f"a{n - 2}")
        history.append((f"a{n}", down, None, None))

    alembic_map = build(history, RevisionMap)
    ours = build(history, _alembic._CheckedRevisionMap)
    walked = [r.revision for r in ours.iterate_revisions("heads", "base")]
    assert walked == [
        r.revision for r in alembic_map.iterate_revisions("heads", "base")
    ]
    assert walked[0] == "a2999" and walked[-1] == "a0"


def test_cycle_left_to_alembic() -> None:
    """A cycle the history check did not stop (the map skips Alembic's own
    check) ends the fast sort; Alembic's sort answers instead of a hang.
    """
    history: list[tuple[str, t.Any, t.Any, t.Any]] = [
        ("a", None, None, None),
        ("b", "a", "c", None),
        ("c", "b", None, None),
    ]
    ours = build(history, _alembic._CheckedRevisionMap)
    revisions = {r for r in ours._revision_map.values() if r is not None}
    heads = ours.get_revisions(ours.heads)

    with pytest.raises(KeyError):
        _alembic._sort_topologically(ours._revision_map, revisions, heads)

    assert outcome(lambda: ours._topological_sort(revisions, heads)) is not None
