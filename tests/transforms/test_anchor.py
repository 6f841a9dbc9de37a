import numpy as np

from gnnas import ArchSpec
from gnnas.space import module_hash, prune
from gnnas.transforms.anchor import Anchor, delete_vertex, fast_hash, is_full, signature, to_spec, tokens_of
from tests.transforms.cells import DIAMOND, random_cells

CELLS = random_cells(300, seed=6)


def bitmasks(matrix: np.ndarray) -> list[int]:
    return [sum(1 << int(j) for j in np.flatnonzero(row)) for row in matrix]


def test_fast_helpers_match_the_slow_references():
    rng = np.random.default_rng(1)
    for spec in CELLS[:300]:
        anchor = Anchor(spec)
        assert fast_hash(anchor.n, anchor.rows, anchor.ops) == spec.hash == module_hash(spec.matrix, spec.ops)
        assert tokens_of(anchor.n, anchor.rows, anchor.ops) == spec.to_tokens()
        # the signature is an isomorphism invariant: renumber the interior vertices topologically
        order = [0, *rng.permutation(np.arange(1, spec.num_vertices - 1)).tolist(), spec.num_vertices - 1]
        permuted = spec.matrix[np.ix_(order, order)]
        if not np.tril(permuted).any():
            ops = [anchor.ops[v] for v in order]
            expected = signature(anchor.n, anchor.rows, anchor.ops)
            assert signature(anchor.n, bitmasks(permuted), ops) == expected
    # is_full agrees with ArchSpec's pruning on random matrices, pruned or invalid ones included
    for _ in range(2000):
        n = int(rng.integers(2, 8))
        matrix = np.triu(rng.random((n, n)) < rng.uniform(0.1, 0.8), k=1).astype(np.uint8)
        ops = ["input"] + ["conv3x3-bn-relu"] * (n - 2) + ["output"]
        try:
            pruned, _ = prune(matrix, ops)
            expected = pruned.shape == matrix.shape
        except ValueError:  # the output is unreachable
            expected = False
        assert is_full(n, bitmasks(matrix)) == expected


def test_delete_vertex_and_to_spec():
    anchor = Anchor(DIAMOND)
    assert anchor.deletable == (1, 2)
    rows, ops = delete_vertex(anchor.n, list(anchor.rows), list(anchor.ops), 1)
    chain = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    assert to_spec(3, rows, ops) == chain
    for spec in CELLS[:50]:
        a = Anchor(spec)
        assert to_spec(a.n, list(a.rows), list(a.ops)).matrix.tolist() == spec.matrix.tolist()
        built = Anchor.from_bits(a.n, a.rows, a.ops)
        assert built.spec == spec and built.hash == spec.hash and built.deletable == a.deletable


def test_valid_single_edits_match_archspec():
    for spec in CELLS[:100]:
        anchor = Anchor(spec)
        expected = []
        for i in range(spec.num_vertices):
            for j in range(i + 1, spec.num_vertices):
                matrix = spec.matrix.copy()
                matrix[i, j] ^= 1
                try:
                    if not ArchSpec(matrix, spec.ops).was_pruned:
                        expected.append((i, j))
                except ValueError:
                    pass
        assert anchor.valid_flips == expected
        expected = []
        for v in range(1, spec.num_vertices - 1):
            if spec.matrix[:, v].sum() == 1 and spec.matrix[v].sum() == 1:
                keep = [u for u in range(spec.num_vertices) if u != v]
                try:
                    if not ArchSpec(spec.matrix[np.ix_(keep, keep)], [spec.ops[u] for u in keep]).was_pruned:
                        expected.append(v)
                except ValueError:
                    pass
        assert [v for v, _, _ in anchor.valid_deletions] == expected
