from collections import Counter

import numpy as np
import pytest

from gnnas import ArchSpec
from gnnas.transforms import (
    DEFAULT_EDIT_WEIGHTS,
    EDIT_COSTS,
    NoValidEditError,
    edit_cell,
    edit_weights,
)
from tests.transforms.cells import CHAIN3, DIAMOND, TRIVIAL, apply_edits, random_cells

CELLS = random_cells(1000, seed=0)


def test_default_weights_are_the_papers_mix():
    grouped = edit_weights()
    assert sorted(grouped) == [1, 2, 3]
    assert grouped[1] == {"op": 0.5, "flip": 0.5}
    assert grouped[2] == pytest.approx({"op+op": 1 / 3, "flip+op": 1 / 3, "flip+flip": 1 / 3})
    assert grouped[3] == pytest.approx(
        {"delete": 0.1, "op+op+op": 0.3, "flip+op+op": 0.3, "flip+flip+op": 0.3})
    assert EDIT_COSTS == {"delete": 3, "flip": 1, "op": 1}
    assert set(DEFAULT_EDIT_WEIGHTS) == {name for group in grouped.values() for name in group}
    # beyond 3 edits: every mixture of flips and op changes, equally
    assert edit_weights(max_edits=4)[4] == pytest.approx({n: 0.2 for n in
                                                          ["op+op+op+op", "flip+op+op+op", "flip+flip+op+op",
                                                           "flip+flip+flip+op", "flip+flip+flip+flip"]})


def test_edit_weights_normalise_and_canonicalise():
    grouped = edit_weights({"op": 1, "flip": 3, "op+flip": 2, "op+op": 2, "op+op+op": 1}, max_edits=3)
    assert grouped == {1: {"op": 0.25, "flip": 0.75}, 2: {"flip+op": 0.5, "op+op": 0.5}, 3: {"op+op+op": 1.0}}


@pytest.mark.parametrize("weights, match", [
    ({"swap": 1, "op+op": 1, "op+op+op": 1}, "unknown edit kinds"),
    ({"op": -1, "op+op": 1, "op+op+op": 1}, "finite and >= 0"),
    ({"op": float("nan"), "op+op": 1, "op+op+op": 1}, "finite and >= 0"),
    ({"op": "a", "op+op": 1, "op+op+op": 1}, "must be a number"),
    ({"op": 1, "op+op": 1}, r"no combination with positive weight for \[3\]"),
    ({"op": 1, "op+op": 1, "op+op+op": 0}, r"for \[3\]"),
    ({"delete+delete": 1}, "at most one vertex"),
    ([("op", 1)], "mapping"),
])
def test_edit_weights_reject_bad_input(weights, match):
    with pytest.raises(ValueError, match=match):
        edit_weights(weights, max_edits=3)


@pytest.mark.parametrize("max_edits", [0, -1, 1.5, True, "3"])
def test_edit_weights_reject_bad_max_edits(max_edits):
    with pytest.raises(ValueError, match="max_edits"):
        edit_weights(None, max_edits)


@pytest.mark.parametrize("num_edits", [1, 2, 3])
def test_edit_cell_gives_valid_different_cells(num_edits):
    rng = np.random.default_rng(num_edits)
    combinations = Counter()
    for spec in CELLS:
        if num_edits == 3 and spec.num_vertices == 3 and spec.num_edges == 2:
            continue  # the chain input → v → output has no outcome at 3 edits (tested below)
        result = edit_cell(spec, num_edits, generator=rng)
        out = result.spec
        assert isinstance(out, ArchSpec) and not out.was_pruned
        assert out.num_vertices <= 7 and out.num_edges <= 9
        assert out.hash != spec.hash and out != spec
        assert result.num_edits == num_edits
        assert sum(EDIT_COSTS[kind] for kind in result.combination.split("+")) == num_edits
        assert [edit[0] for edit in result.edits] == result.combination.split("+")
        assert apply_edits(spec, result.edits).hash == out.hash  # the record replays to the result
        combinations[result.combination] += 1
    assert set(combinations) == set(edit_weights()[num_edits])  # every combination of the mix occurs


def test_each_combination_alone():
    rng = np.random.default_rng(5)
    for name in ["op", "flip", "op+op", "flip+op", "flip+flip", "delete", "op+op+op", "flip+op+op",
                 "flip+flip+op", "flip+flip+flip", "delete+op"]:
        made = 0
        for spec in CELLS[:200]:
            k = sum(EDIT_COSTS[kind] for kind in name.split("+"))
            try:
                result = edit_cell(spec, k, generator=rng, weights={name: 1.0})
            except NoValidEditError:
                continue
            made += 1
            assert result.combination == name
            assert not result.spec.was_pruned and result.spec != spec
            assert apply_edits(spec, result.edits) == result.spec
            if name.startswith("delete"):
                assert result.spec.num_vertices == spec.num_vertices - 1
        assert made > 20, name


def test_deletion_removes_a_vertex_and_its_two_edges():
    spec = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                    ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    outcomes = {edit_cell(spec, 3, generator=s, weights={"delete": 1}).spec for s in range(20)}
    assert outcomes == {ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"]),
                        ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])}


def test_outcomes_are_uniform_and_cancellations_rejected():
    # two op changes on the symmetric diamond: 4 outcomes, one of which (swapping the two ops) is
    # isomorphic to the anchor and must never come out; the other 3 are equally likely.
    rng = np.random.default_rng(7)
    counts = Counter(edit_cell(DIAMOND, 2, generator=rng, weights={"op+op": 1}).spec.hash
                     for _ in range(1500))
    assert DIAMOND.hash not in counts
    assert len(counts) == 3
    assert min(counts.values()) > 400


def test_rare_outcomes_are_found_by_the_exhaustive_fallback():
    # 7 vertices and 9 edges: most flips break the cell or add a tenth edge
    rng = np.random.default_rng(3)
    dense = [s for s in CELLS if s.num_edges == 9][:40]
    assert dense
    for spec in dense:
        for name in ["flip", "flip+flip", "flip+op"]:
            k = len(name.split("+"))
            try:
                result = edit_cell(spec, k, generator=rng, weights={name: 1}, max_tries=1)
            except NoValidEditError:
                continue
            assert not result.spec.was_pruned and result.spec != spec


def test_no_valid_edit_raises_and_other_combinations_are_tried():
    for k in (1, 2, 3):
        with pytest.raises(NoValidEditError, match="no valid cell"):
            edit_cell(TRIVIAL, k, generator=0)
    assert issubclass(NoValidEditError, ValueError)
    with pytest.raises(NoValidEditError):
        edit_cell(CHAIN3, 3, generator=0)
    # the chain has no vertex to delete and no pair of interior vertices: flip+op is the only one left
    for seed in range(10):
        assert edit_cell(CHAIN3, 2, generator=seed).combination == "flip+op"


def test_reproducible_from_a_seed():
    spec = CELLS[0]
    first = [edit_cell(spec, 2, generator=np.random.default_rng(11)).spec.hash for _ in range(5)]
    again = [edit_cell(spec, 2, generator=np.random.default_rng(11)).spec.hash for _ in range(5)]
    assert first == again
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    assert [edit_cell(s, 2, generator=rng_a).spec.hash for s in CELLS[:20]] == \
           [edit_cell(s, 2, generator=rng_b).spec.hash for s in CELLS[:20]]
    other = np.random.default_rng(12)
    assert [edit_cell(s, 2, generator=other).spec.hash for s in CELLS[:20]] != \
           [edit_cell(s, 2, generator=np.random.default_rng(11)).spec.hash for s in CELLS[:20]]
    assert edit_cell(spec, 1, generator=4) == edit_cell(spec, 1, generator=4)


def test_edit_cell_rejects_bad_input():
    with pytest.raises(ValueError, match="ArchSpec"):
        edit_cell("not a cell", 1)
    with pytest.raises(ValueError, match="ArchSpec"):
        edit_cell(DIAMOND.to_data(), 1)
    for bad in (0, -2, 1.0, None):
        with pytest.raises(ValueError, match="num_edits"):
            edit_cell(DIAMOND, bad)
    with pytest.raises(ValueError, match="max_tries"):
        edit_cell(DIAMOND, 1, max_tries=0)
    with pytest.raises(ValueError, match=r"for \[2\] edits"):
        edit_cell(DIAMOND, 2, weights={"op": 1})
    with pytest.raises(ValueError, match="generator"):
        edit_cell(DIAMOND, 1, generator="seed")
