import itertools
import time

import numpy as np
import pytest
import torch

import gnnas.space.enumerate as enumerate_module
from gnnas import ArchSpec
from gnnas.space import (
    NUM_CELLS,
    OPS,
    CacheWarning,
    CellArray,
    CellNotFoundError,
    CellSpace,
    default_cache_dir,
    enumerate_cells,
    hash_cells,
    module_hash,
    sample_cells,
)
from gnnas.space.enumerate import (
    CELLS_UP_TO,
    FULL_DAG_PATTERNS,
    _full_dag_patterns,
    _labellings,
    _load,
    _save,
    _wl_fingerprints,
    cache_path,
)
from gnnas.space.hashing import _module_hash_reference


def brute_force_full_dags(num_vertices: int) -> list[np.ndarray]:
    """Full DAGs with at most 9 edges, in the order of the official generator, by plain loops."""
    edges = [(i, j) for j in range(num_vertices) for i in range(j)]
    found = []
    for bits in range(1 << len(edges)):
        matrix = np.zeros((num_vertices, num_vertices), dtype=np.uint8)
        for k, (i, j) in enumerate(edges):
            matrix[i, j] = (bits >> k) & 1
        if matrix.sum() > 9:
            continue
        if all(matrix[v].any() for v in range(num_vertices - 1)) and all(
            matrix[:, v].any() for v in range(1, num_vertices)
        ):
            found.append(matrix)
    return found


def labelled_graphs(num_vertices: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every labelled full DAG of ``V`` vertices, packed, with its integer WL fingerprint."""
    patterns, labellings = _full_dag_patterns(num_vertices), _labellings(num_vertices)
    fingerprints = _wl_fingerprints(patterns, labellings).ravel()
    pattern, labelling = np.divmod(np.arange(len(fingerprints)), len(labellings))
    return pattern, labelling, fingerprints


def pack(patterns, labellings, pattern, labelling):
    size = patterns.shape[1]
    matrices = np.zeros((len(pattern), 7, 7), dtype=np.uint8)
    matrices[:, :size, :size] = patterns[pattern]
    op_indices = np.full((len(pattern), 7), -1, dtype=np.int8)
    op_indices[:, :size] = labellings[labelling]
    return matrices, op_indices, np.full(len(pattern), size, dtype=np.int8)


# ------------------------------------------------------------------ enumeration against references
def test_full_dag_patterns_against_brute_force():
    for size in range(2, 6):
        expected = brute_force_full_dags(size)
        patterns = _full_dag_patterns(size)
        assert len(patterns) == len(expected) == FULL_DAG_PATTERNS[size]
        assert all((a == b).all() for a, b in zip(patterns, expected, strict=True))
    counts = {size: len(_full_dag_patterns(size)) for size in range(2, 8)}
    assert counts == FULL_DAG_PATTERNS == {2: 1, 3: 2, 4: 10, 5: 121, 6: 1_545, 7: 4_793}
    assert sum(counts[v] * 3 ** (v - 2) for v in counts) == 1_293_208


def test_labellings_in_product_order():
    labellings = _labellings(4)
    assert labellings.tolist()[:4] == [[0, 1, 1, 4], [0, 1, 2, 4], [0, 1, 3, 4], [0, 2, 1, 4]]
    assert len(labellings) == 9


def test_integer_wl_separates_the_official_hash_classes_up_to_six_vertices():
    for size in range(2, 7):
        patterns, labellings = _full_dag_patterns(size), _labellings(size)
        pattern, labelling, fingerprints = labelled_graphs(size)
        hashes = hash_cells(*pack(patterns, labellings, pattern, labelling))
        classes = len(np.unique(hashes))
        assert len(np.unique(fingerprints)) == classes
        pairs = np.unique(np.stack([np.unique(fingerprints, return_inverse=True)[1],
                                    np.unique(hashes, return_inverse=True)[1]]), axis=1)
        assert pairs.shape[1] == classes  # the two partitions are the same
    rng = np.random.default_rng(0)  # the batched hash used above, against the per-cell one
    chosen = rng.choice(len(hashes), size=300, replace=False)
    for i in chosen:
        ops = [OPS[k] for k in labellings[labelling[i]]]
        assert hashes[i] == module_hash(patterns[pattern[i]], ops)


def test_integer_wl_on_a_sample_of_seven_vertex_graphs():
    patterns, labellings = _full_dag_patterns(7), _labellings(7)
    pattern, labelling, fingerprints = labelled_graphs(7)
    _, first, inverse = np.unique(fingerprints, return_index=True, return_inverse=True)
    assert len(first) == CELLS_UP_TO[7] - CELLS_UP_TO[6]
    representative = np.zeros(len(first), dtype=np.int64)
    representative[inverse[first]] = first  # class id -> its first labelled graph
    chosen = np.random.default_rng(1).choice(len(fingerprints), size=3000, replace=False)
    hashes = hash_cells(*pack(patterns, labellings, pattern[chosen], labelling[chosen]))
    reps = representative[inverse[chosen]]
    rep_hashes = hash_cells(*pack(patterns, labellings, pattern[reps], labelling[reps]))
    assert (hashes == rep_hashes).all()  # every sampled graph hashes like the representative of its class
    assert len(np.unique(hashes)) == len(np.unique(inverse[chosen]))


def test_representatives_are_first_in_official_order(space):
    first_seen = {}
    for size in range(2, 5):
        for matrix in brute_force_full_dags(size):
            for inner in itertools.product(OPS[1:4], repeat=size - 2):
                ops = ("input", *inner, "output")
                first_seen.setdefault(_module_hash_reference(matrix, ops), (matrix, ops))
    assert len(first_seen) == CELLS_UP_TO[4]
    for key, (matrix, ops) in first_seen.items():
        cell = space[space.index_of(key)]
        assert cell.matrix.tolist() == matrix.tolist() and cell.ops == ops


# ------------------------------------------------------------------ the space
def test_space_counts_and_order(space):
    assert isinstance(space, CellSpace)
    assert repr(space) == "CellSpace(num_cells=423624)"
    assert len(space) == NUM_CELLS == 423_624
    counts = space.counts_by_num_vertices()
    assert dict(zip(counts, np.cumsum(list(counts.values())).tolist(), strict=True)) == {
        2: 1, 3: 7, 4: 91, 5: 2_532, 6: 64_542, 7: 423_624}
    assert space.hashes.dtype == np.dtype("U32")
    assert (space.hashes[1:] > space.hashes[:-1]).all()
    assert all(len(h) == 32 for h in space.hashes[:100])


def test_space_arrays_layout(space):
    assert space.matrices.shape == (NUM_CELLS, 7, 7) and space.matrices.dtype == np.uint8
    assert space.op_indices.shape == (NUM_CELLS, 7) and space.op_indices.dtype == np.int8
    assert space.num_vertices.shape == (NUM_CELLS,) and space.num_vertices.dtype == np.int8
    size = space.num_vertices.astype(np.int64)
    assert (space.op_indices[np.arange(NUM_CELLS), size - 1] == OPS.index("output")).all()
    assert ((space.op_indices == -1).sum(axis=1) == 7 - size).all()
    assert (np.tril(space.matrices) == 0).all() and space.matrices.sum(axis=(1, 2)).max() == 9
    with pytest.raises(ValueError):
        space.matrices[0, 0, 1] = 1


def test_specs_agree_with_hashes_and_arrays(space):
    index = np.random.default_rng(2).choice(NUM_CELLS, size=400, replace=False)
    cells = space[index]
    for i, cell in zip(index, cells, strict=True):
        assert _module_hash_reference(cell.matrix, cell.ops) == space.hashes[i]
        assert not cell.was_pruned
    packed = CellArray.from_specs(cells)
    assert (packed.matrices == space.matrices[index]).all()
    assert (packed.op_indices == space.op_indices[index]).all()
    assert (packed.num_vertices == space.num_vertices[index]).all()
    part = space.cells[index]
    assert part.specs() == cells and (part.hashes == space.hashes[index]).all()


def test_the_bundled_cells_are_in_the_space(space):
    from gnnas.nasbench import NASBench101
    from gnnas.nasbench.arrays import cell_strings

    arrays = NASBench101.bundled().arrays
    hashes = arrays.hashes
    assert np.isin(hashes, space.hashes).all()
    # the sample is the first 20,001 hashes plus sorted positions 36,202-46,201
    assert (space.hashes[:20_001] == hashes[:20_001]).all()
    assert (space.hashes[36_202:46_202] == hashes[20_001:]).all()
    adjacency, operations = cell_strings(arrays.adjacency, arrays.ops, arrays.num_vertices)
    for k in range(0, len(hashes), 3000):
        cell = ArchSpec.from_strings(adjacency[k], operations[k])
        assert space[space.index_of(hashes[k])] == cell


def test_indexing(space):
    assert space[-1].hash == space.hashes[-1]
    assert space[np.int64(5)].hash == space.hashes[5]
    assert [c.hash for c in space[2:5]] == space.hashes[2:5].tolist()
    assert [c.hash for c in space[[7, 3]]] == [space.hashes[7], space.hashes[3]]
    assert space[np.array([], dtype=np.int64)] == []
    with pytest.raises(IndexError):
        space[NUM_CELLS]
    with pytest.raises(IndexError):
        space[[0, -NUM_CELLS - 1]]
    with pytest.raises(TypeError):
        space[1.5]
    with pytest.raises(IndexError):
        space[np.array([True, False])]


def test_index_of(space):
    spec = space[1234]
    assert space.index_of(spec) == 1234
    assert space.index_of(spec.hash) == 1234
    assert spec in space and spec.hash in space and "f" * 32 not in space and "bad" not in space
    with pytest.raises(CellNotFoundError, match="no cell with hash"):
        space.index_of("f" * 32)
    assert issubclass(CellNotFoundError, KeyError)
    with pytest.raises(ValueError, match="32 lowercase hex"):
        space.index_of("ABC")
    with pytest.raises(ValueError, match="expected an ArchSpec"):
        space.index_of(42)
    assert space.index(spec) == 1234 and space.count(spec) == 1 and space.count("f" * 32) == 0
    with pytest.raises(ValueError):
        space.index("f" * 32)


def test_from_specs_packs_like_the_space():
    spec = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                    ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    cells = CellArray.from_specs([spec])
    matrices, op_indices, num_vertices = cells.matrices, cells.op_indices, cells.num_vertices
    assert matrices.shape == (1, 7, 7) and matrices[0, :4, :4].tolist() == spec.matrix.tolist()
    assert matrices[0].sum() == 4
    assert op_indices.tolist() == [[0, 1, 3, 4, -1, -1, -1]] and num_vertices.tolist() == [4]
    empty = CellArray.from_specs([])
    shapes = [a.shape for a in (empty.matrices, empty.op_indices, empty.num_vertices)]
    assert shapes == [(0, 7, 7), (0, 7), (0,)]
    with pytest.raises(ValueError, match="ArchSpec"):
        CellArray.from_specs([spec, "not a cell"])


# ------------------------------------------------------------------ sampling
def test_sampling_reproducible(space):
    first = space.sample(20, seed=7)
    assert [c.hash for c in first] == [c.hash for c in space.sample(20, seed=7)]
    assert [c.hash for c in first] != [c.hash for c in space.sample(20, seed=8)]
    assert [c.hash for c in sample_cells(20, seed=7, space=space)] == [c.hash for c in first]
    assert [c.hash for c in sample_cells(20, seed=7)] == [c.hash for c in first]  # the memoised space
    numpy_draw = space.sample_indices(50, generator=np.random.default_rng(3))
    assert (numpy_draw == space.sample_indices(50, generator=np.random.default_rng(3))).all()
    torch_draw = space.sample_indices(50, generator=torch.Generator().manual_seed(3))
    assert (torch_draw == space.sample_indices(50, generator=torch.Generator().manual_seed(3))).all()
    replaced = space.sample_indices(60, replace=True, generator=torch.Generator().manual_seed(3))
    assert replaced.shape == (60,) and replaced.max() < NUM_CELLS


def test_sampling_without_replacement_is_distinct():
    indices = enumerate_module._sample_indices(100, 100, False, 0, None)
    assert sorted(indices.tolist()) == list(range(100))
    indices = enumerate_module._sample_indices(100, 100, False, None, torch.Generator().manual_seed(0))
    assert sorted(indices.tolist()) == list(range(100))
    assert len(enumerate_module._sample_indices(100, 500, True, 0, None)) == 500


def test_sampling_is_uniform(space):
    draws = space.sample_indices(200_000, replace=True, seed=11)
    counts = np.bincount(draws * 50 // NUM_CELLS, minlength=50)  # 50 equal slices of the space
    expected = len(draws) / 50
    assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)
    seven = (space.num_vertices[draws] == 7).mean()  # uniform over unique cells, not labelled graphs
    assert abs(seven - (CELLS_UP_TO[7] - CELLS_UP_TO[6]) / NUM_CELLS) < 0.005


def test_sampling_bad_input(space):
    with pytest.raises(ValueError, match="num"):
        space.sample(-1)
    with pytest.raises(ValueError, match="num"):
        space.sample(2.0)
    with pytest.raises(ValueError, match="replace=True"):
        space.sample_indices(NUM_CELLS + 1)
    with pytest.raises(ValueError, match="not both"):
        space.sample(1, seed=0, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="generator"):
        space.sample(1, generator=42)
    with pytest.raises(ValueError, match="seed"):
        space.sample(1, seed=-3)


# ------------------------------------------------------------------ the cache
def test_memo_and_session_cache(space):
    assert enumerate_cells(progress=False) is space
    path = cache_path(None)
    assert path.exists() and path.parent == default_cache_dir()
    start = time.perf_counter()
    loaded = _load(path)
    assert time.perf_counter() - start < 5  # about 0.3 s on an idle machine; loose on a shared one
    for name in ("hashes", "matrices", "op_indices", "num_vertices"):
        assert (getattr(loaded, name) == getattr(space, name)).all()


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNAS_CACHE_DIR", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("GNNAS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "gnnas"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(default_cache_dir()).endswith(".cache/gnnas")


@pytest.fixture
def isolated(monkeypatch, space):
    """A fresh memo, and a 'build' that returns the session's space instead of enumerating again."""
    calls = []
    monkeypatch.setattr(enumerate_module, "_MEMO", {})

    def build(progress=True):
        calls.append(progress)
        return space

    monkeypatch.setattr(enumerate_module, "_build", build)
    return calls


def tamper(path, **changes):
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays.update(changes)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def test_cache_write_and_reload(isolated, space, tmp_path):
    result = enumerate_cells(cache_dir=tmp_path, progress=False)
    assert result is space and isolated == [False]
    assert (tmp_path / enumerate_module._CACHE_NAME).exists()
    enumerate_module._MEMO.clear()
    reloaded = enumerate_cells(cache_dir=tmp_path)
    assert reloaded is not space and isolated == [False]  # read from disk, not rebuilt
    assert (reloaded.hashes == space.hashes).all() and (reloaded.matrices == space.matrices).all()
    assert enumerate_cells(cache_dir=tmp_path) is reloaded  # memoised


@pytest.mark.parametrize("damage", ["garbage", "truncated", "version", "swapped"])
def test_damaged_cache_is_rebuilt_with_a_warning(isolated, space, tmp_path, damage):
    path = tmp_path / enumerate_module._CACHE_NAME
    _save(space, path)
    if damage == "garbage":
        path.write_bytes(b"not an npz file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "version":
        tamper(path, format_version=np.array(0))
    else:
        with np.load(path) as archive:
            digests = archive["digests"].copy()
        digests[[10, 20]] = digests[[20, 10]]
        tamper(path, digests=digests)
    with pytest.warns(CacheWarning, match="rebuilding"):
        result = enumerate_cells(cache_dir=tmp_path, progress=False)
    assert result is space and isolated == [False]
    assert (_load(path).hashes == space.hashes).all()  # rewritten


def test_unwritable_cache_warns(isolated, space, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(CacheWarning, match="could not write"):
        assert enumerate_cells(cache_dir=blocker, progress=False) is space
