import numpy as np
import pytest

from gnnas import ArchSpec, NASBench101, OutOfDomainError

from .helpers import random_specs, write_synthetic


@pytest.fixture(scope="module")
def full_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nasbench_api")
    specs = random_specs(25, seed=20)
    path = folder / "full.tfrecord"
    write_synthetic(path, specs, "full", seed=21)
    return path, folder / "cache", specs


def load(full_table, seed=0):
    path, cache, _ = full_table
    return NASBench101.from_tfrecord(path, cache_dir=cache, progress=False, seed=seed)


def test_query_returns_one_run_with_the_official_keys(full_table):
    table = load(full_table)
    spec = full_table[2][0]
    fixed, computed = table.get_metrics_from_spec(spec)
    for epochs in (4, 12, 36, 108):
        for stop_halfway in (False, True):
            data = table.query(spec, epochs=epochs, stop_halfway=stop_halfway)
            assert list(data) == ["module_adjacency", "module_operations", "trainable_parameters",
                                  "training_time", "train_accuracy", "validation_accuracy", "test_accuracy"]
            assert data["module_adjacency"].tolist() == spec.matrix.tolist()
            assert data["module_operations"] == list(spec.ops)
            assert data["trainable_parameters"] == fixed["trainable_parameters"]
            stage = "halfway" if stop_halfway else "final"
            runs = [{name: run[f"{stage}_{name}"] for name in ("training_time", "train_accuracy",
                                                               "validation_accuracy", "test_accuracy")}
                    for run in computed[epochs]]
            assert {k: data[k] for k in runs[0]} in runs


def test_query_is_reproducible_and_draws_every_repeat(full_table):
    specs = full_table[2]
    first = [load(full_table, seed=5).query(spec)["validation_accuracy"] for spec in specs]
    a, b = load(full_table, seed=5), load(full_table, seed=5)
    assert ([a.query(s)["validation_accuracy"] for s in specs]
            == [b.query(s)["validation_accuracy"] for s in specs])
    assert [load(full_table, seed=5).query(s)["validation_accuracy"] for s in specs] == first
    table = load(full_table, seed=6)
    runs = {run["final_validation_accuracy"] for run in table.get_metrics_from_spec(specs[0])[1][108]}
    drawn = {table.query(specs[0])["validation_accuracy"] for _ in range(60)}
    assert drawn == runs  # all three repeats come up, nothing else
    generator = np.random.default_rng(1)
    assert NASBench101(table.arrays, seed=generator)._rng is generator


def test_budget_counters(full_table):
    table = load(full_table)
    specs = full_table[2]
    assert table.get_budget_counters() == (0.0, 0)
    expected_time, expected_epochs = 0.0, 0
    for spec, epochs, halfway in [(specs[0], 108, False), (specs[1], 4, True), (specs[0], 108, False),
                                  (specs[2], 36, True)]:
        data = table.query(spec, epochs=epochs, stop_halfway=halfway)
        expected_time += data["training_time"]
        expected_epochs += epochs // 2 if halfway else epochs
    assert table.get_budget_counters() == (pytest.approx(expected_time, rel=1e-12), 108 + 2 + 108 + 18)
    assert expected_epochs == 236
    # Free calls do not count.
    table.get_metrics_from_spec(specs[3])
    table.get_metrics_from_hash(specs[3].hash)
    table.is_valid(specs[3])
    table.metric_array("test_accuracy")
    assert table.get_budget_counters()[1] == 236
    table.reset_budget_counters()
    assert table.get_budget_counters() == (0.0, 0)


def test_out_of_domain(full_table):
    table = load(full_table)
    outside = next(spec for spec in random_specs(60, seed=99) if spec.hash not in table)
    with pytest.raises(OutOfDomainError, match=outside.hash) as info:
        table.query(outside)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert info.value.module_hash == outside.hash
    assert str(info.value).startswith("the table does not hold")  # no KeyError quoting
    with pytest.raises(KeyError):
        table.get_metrics_from_hash("0" * 32)
    with pytest.raises(ValueError):
        table.index_of("not a hash")
    with pytest.raises(OutOfDomainError, match="invalid number of epochs 100"):
        table.query(full_table[2][0], epochs=100)
    assert table.get_budget_counters() == (0.0, 0)  # failed queries cost nothing
    # is_valid answers as officially (a valid cell); membership is `in`
    assert table.is_valid(outside) and outside not in table and outside.hash not in table
    assert table.is_valid(full_table[2][0]) and full_table[2][0] in table and full_table[2][0].hash in table


def test_official_style_spec_objects(full_table):
    """Anything with ``matrix`` and ``ops`` (the official ModelSpec) is accepted; invalid ones are
    out of the domain, as officially."""
    table = load(full_table)

    class ModelSpec:
        def __init__(self, matrix, ops):
            self.matrix, self.ops = matrix, ops

    spec = full_table[2][1]
    assert table.query(ModelSpec(spec.matrix.tolist(), list(spec.ops)))["module_operations"] == list(spec.ops)
    disconnected = ModelSpec([[0, 0], [0, 0]], ["input", "output"])
    assert not table.is_valid(disconnected)
    with pytest.raises(OutOfDomainError, match="invalid spec"):
        table.query(disconnected)
    with pytest.raises(TypeError, match="ArchSpec"):
        table.query("0100")


def test_metrics_from_hash_layout_and_copies(full_table):
    table = load(full_table)
    spec = full_table[2][4]
    fixed, computed = table.get_metrics_from_hash(spec.hash)
    assert sorted(fixed) == ["module_adjacency", "module_operations", "trainable_parameters"]
    assert sorted(computed) == [4, 12, 36, 108]
    assert all(len(runs) == 3 for runs in computed.values())
    assert sorted(computed[108][0]) == sorted(f"{stage}_{name}" for stage in ("halfway", "final") for name in
                                              ("training_time", "train_accuracy", "validation_accuracy",
                                               "test_accuracy"))
    fixed["module_adjacency"][0, 0] = 5
    computed[108][0]["final_test_accuracy"] = -1.0
    fixed_again, computed_again = table.get_metrics_from_hash(spec.hash)
    assert fixed_again["module_adjacency"][0, 0] == 0
    assert computed_again[108][0]["final_test_accuracy"] != -1.0
    assert table.get_metrics_from_spec(spec)[1] == computed_again


def test_vectorised_accessors_match_the_per_cell_api(full_table):
    table = load(full_table)
    hashes = table.hash_iterator()  # a sized view, as the official dict keys
    assert len(hashes) == len(table) == 25 and list(hashes) == table.hashes.tolist()
    assert table.hashes[3] in hashes and "0" * 32 not in hashes
    assert table.hashes.tolist() == sorted(spec.hash for spec in full_table[2])
    for metric, epochs, halfway in [("validation_accuracy", 108, False), ("test_accuracy", 12, True),
                                    ("training_time", 36, False)]:
        stage = "halfway" if halfway else "final"
        for reduce, function in [("mean", np.mean), ("max", np.max), ("min", np.min), ("median", np.median)]:
            values = table.metric_array(metric, epochs=epochs, reduce=reduce, stop_halfway=halfway)
            assert values.shape == (25,)
            for k, module_hash in enumerate(table.hashes.tolist()):
                computed = table.get_metrics_from_hash(module_hash)[1]
                runs = [run[f"{stage}_{metric}"] for run in computed[epochs]]
                assert values[k] == pytest.approx(function(runs), rel=1e-12)
                assert table.index_of(module_hash) == k
        assert np.array_equal(table.metric_array(f"{stage}_{metric}", epochs=epochs),
                              table.metric_array(metric, epochs=epochs, stop_halfway=halfway))
    runs = table.metric_array("validation_accuracy", reduce=None)
    assert runs.shape == (25, 3)
    params = table.metric_array("trainable_parameters")
    fixed = [table.get_metrics_from_hash(h)[0] for h in table.hashes]
    assert params.tolist() == [stats["trainable_parameters"] for stats in fixed]
    best_hash, best_value = table.best("test_accuracy")
    means = table.metric_array("test_accuracy")
    assert best_value == means.max() and best_hash == table.hashes[int(np.argmax(means))]
    with pytest.raises(ValueError, match="unknown metric"):
        table.metric_array("accuracy")
    with pytest.raises(ValueError, match="reduce"):
        table.metric_array(reduce="sum")
    with pytest.raises(ValueError, match="reduction"):
        table.best(reduce=None)


def test_specs_are_archspecs_with_the_table_hash(full_table):
    table = load(full_table)
    specs = table.specs()
    assert [spec.hash for spec in specs] == table.hashes.tolist()
    for spec in specs:  # the stored hash is the recomputed one
        assert ArchSpec(spec.matrix, spec.ops).hash == spec.hash
    assert table.spec(table.hashes[3]) is specs[3]
    assert repr(table).startswith("NASBench101(cells=25, epochs=[4, 12, 36, 108], repeats=3")


def _official_is_valid(matrix, ops) -> bool:
    """The official ``ModelSpec`` pruning and ``NASBench._check_spec``, transcribed with networkx."""
    import networkx as nx

    matrix = np.asarray(matrix)
    graph = nx.DiGraph([(i, j) for i in range(len(ops)) for j in range(len(ops)) if matrix[i, j]])
    graph.add_nodes_from(range(len(ops)))
    last = len(ops) - 1
    keep = sorted(nx.descendants(graph, 0) & nx.ancestors(graph, last) | {0, last})
    if last not in nx.descendants(graph, 0):
        return False  # ModelSpec.valid_spec is False: the output is disconnected
    pruned = matrix[np.ix_(keep, keep)]
    pruned_ops = [ops[i] for i in keep]
    return (len(pruned_ops) <= 7 and int(pruned.sum()) <= 9 and pruned_ops[0] == "input"
            and pruned_ops[-1] == "output"
            and all(op in ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3") for op in pruned_ops[1:-1]))


def test_is_valid_answers_as_the_official_api(full_table):
    """Random upper-triangular matrices of 2..8 vertices with random ops (some outside the space),
    as objects with matrix and ops, against a transcription of the official checks."""
    table = load(full_table)

    class ModelSpec:
        def __init__(self, matrix, ops):
            self.matrix, self.ops = matrix, ops

    rng = np.random.default_rng(6)
    names = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
    answers = []
    for _ in range(2000):
        size = int(rng.integers(2, 9))
        matrix = np.triu(rng.random((size, size)) < rng.uniform(0.1, 0.8), k=1).astype(int)
        ops = ["input", *rng.choice(names, size - 2).tolist(), "output"]
        if rng.random() < 0.05 and size > 2:
            ops[int(rng.integers(1, size - 1))] = "conv5x5"  # outside the space: invalid
        expected = _official_is_valid(matrix, ops)
        assert table.is_valid(ModelSpec(matrix.tolist(), ops)) == expected, (matrix.tolist(), ops)
        answers.append(expected)
    assert 200 < sum(answers) < 1800  # both answers well represented
    assert not table.is_valid(ModelSpec(None, None))  # what the official ModelSpec holds when invalid
    assert table.is_valid(full_table[2][0])  # an ArchSpec is valid by construction
    with pytest.raises(TypeError, match="ArchSpec"):
        table.is_valid("0100")
