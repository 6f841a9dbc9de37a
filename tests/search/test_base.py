"""What every search shares: the budget, reproducibility, checkpoints and resume."""

import pytest

from gnnas.search import (
    LocalSearch,
    LocalSearchConfig,
    Oracle,
    RandomSearch,
    RegularizedEvolution,
    RegularizedEvolutionConfig,
    SearchResult,
)

METHODS = {
    "random": (RandomSearch, None),
    "regularized_evolution": (RegularizedEvolution,
                              RegularizedEvolutionConfig(population_size=12, sample_size=4)),
    "local_search": (LocalSearch, LocalSearchConfig()),
}


def make(name, oracle, seed=0):
    cls, config = METHODS[name]
    return cls(oracle, config, seed=seed)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_budget_and_records(name, table):
    oracle = Oracle(table, budget=40, mapping="nearest")
    result = make(name, oracle).run()
    assert result.method == name and result.stop_reason == "budget"
    assert result.num_queries == 40
    assert [r.index for r in result.records] == list(range(1, 41))
    assert len({r.hash for r in result.records}) == 40
    assert all(oracle.contains(r.hash) for r in result.records)
    assert result.trajectory().tolist() == sorted(result.trajectory().tolist())


@pytest.mark.parametrize("name", sorted(METHODS))
def test_closed_table_needs_no_mapping(name, closed_table):
    result = make(name, Oracle(closed_table, budget=60, mapping=None), seed=3).run()
    assert result.num_queries == 60
    assert all(r.distance == 0 and r.proposed_hash == r.hash for r in result.records)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_reproducible_from_seed(name, table):
    runs = [make(name, Oracle(table, budget=30, mapping="nearest"), seed=s).run() for s in (5, 5, 6)]
    assert runs[0].records == runs[1].records
    assert [r.hash for r in runs[0].records] != [r.hash for r in runs[2].records]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_resume_gives_the_uninterrupted_trajectory(name, table, tmp_path):
    full = make(name, Oracle(table, budget=45, mapping="nearest"), seed=1).run()
    path = tmp_path / "run.ckpt"
    search = make(name, Oracle(table, budget=45, mapping="nearest"), seed=1)
    partial = search.run(checkpoint=path, max_steps=7)
    assert partial.stop_reason == "max_steps" and 0 < partial.num_queries < 45
    cls = METHODS[name][0]
    resumed = cls.resume(path, Oracle(table, budget=45, mapping="nearest")).run(checkpoint=path)
    assert resumed.records == full.records
    assert resumed.extra == full.extra
    again = cls.resume(path, Oracle(table, budget=45, mapping="nearest"))
    assert again.stop_reason == "budget" and again.run().records == full.records


def test_checkpoints_every_method_interval_and_at_the_end(table, tmp_path, monkeypatch):
    """A checkpoint holds every query so far: one per cheap step would make a long run quadratic."""
    from gnnas.search import NAOSearch, Search

    assert Search.checkpoint_every == 100 and NAOSearch.checkpoint_every == 1
    saved = []
    monkeypatch.setattr(Search, "save_checkpoint", lambda self, path: saved.append(self.steps))
    path = tmp_path / "run.ckpt"
    calls = []
    result = RandomSearch(Oracle(table, budget=250)).run(checkpoint=path, callback=lambda s: calls.append(
        s.oracle.num_queries))
    assert result.num_queries == 250 and saved == [100, 200, 250]  # every 100 steps, then the end
    assert calls == list(range(1, 251))  # the callback sees every step
    saved.clear()
    RandomSearch(Oracle(table, budget=25)).run(checkpoint=path, checkpoint_every=10)
    assert saved == [10, 20, 25]
    saved.clear()  # stopping at max_steps leaves a checkpoint of where it stopped
    search = RandomSearch(Oracle(table, budget=25))
    search.run(checkpoint=path, max_steps=7)
    assert saved == [7]
    search.run(checkpoint=path, max_steps=0)
    assert saved == [7]  # nothing new to save
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="checkpoint_every"):
            RandomSearch(Oracle(table, budget=5)).run(checkpoint=path, checkpoint_every=bad)


def test_resume_between_checkpoints_gives_the_uninterrupted_trajectory(table, tmp_path):
    """A run killed between two checkpoints redoes the steps since the last one, exactly."""
    full = make("regularized_evolution", Oracle(table, budget=45, mapping="nearest"), seed=2).run()
    path = tmp_path / "run.ckpt"
    search = make("regularized_evolution", Oracle(table, budget=45, mapping="nearest"), seed=2)

    class Killed(Exception):
        pass

    def kill(s):
        if s.steps == 33:
            raise Killed

    with pytest.raises(Killed):
        search.run(checkpoint=path, checkpoint_every=10, callback=kill)
    resumed = RegularizedEvolution.resume(path, Oracle(table, budget=45, mapping="nearest"))
    assert resumed.steps == 30
    assert resumed.run().records == full.records


def test_resume_checks_the_oracle_and_method(table, tmp_path):
    path = tmp_path / "run.ckpt"
    RandomSearch(Oracle(table, budget=20), seed=0).run(checkpoint=path, max_steps=3)
    with pytest.raises(ValueError, match="oracle settings differ"):
        RandomSearch.resume(path, Oracle(table, budget=21))
    with pytest.raises(ValueError, match="checkpoint of method"):
        LocalSearch.resume(path, Oracle(table, budget=20))


def test_result_json_round_trip(table, tmp_path):
    result = make("regularized_evolution", Oracle(table, budget=25, mapping="nearest")).run()
    result.save(tmp_path / "result.json")
    loaded = SearchResult.load(tmp_path / "result.json")
    assert loaded == result
    assert loaded.to_dict()["config"] == {"population_size": 12, "sample_size": 4, "num_edits": 1,
                                          "skip_queried": True, "max_edits": 3, "max_stall": 1000}
    assert loaded.to_dict()["oracle"]["budget"] == 25


def test_bad_arguments(table):
    oracle = Oracle(table, budget=5)
    with pytest.raises(ValueError):
        RandomSearch(oracle, LocalSearchConfig())
    with pytest.raises(ValueError):
        RandomSearch(oracle, seed=-1)
    with pytest.raises(ValueError, match="2\\*\\*63"):
        RandomSearch(oracle, seed=2**63)
    with pytest.raises(ValueError):
        RandomSearch(table)
    with pytest.raises(ValueError):
        RegularizedEvolutionConfig(population_size=3, sample_size=4)


def test_resume_refuses_other_settings_naming_them(table, tmp_path):
    path = tmp_path / "run.ckpt"
    config = RegularizedEvolutionConfig(population_size=12, sample_size=4)
    RegularizedEvolution(Oracle(table, budget=40), config, seed=3).run(checkpoint=path, max_steps=5)
    other = RegularizedEvolutionConfig(population_size=20, sample_size=4)
    with pytest.raises(ValueError, match="settings differ.*population_size 12 saved, 20 now"):
        RegularizedEvolution.resume(path, Oracle(table, budget=40), config=other)
    with pytest.raises(ValueError, match="run of seed 3, not 4"):
        RegularizedEvolution.resume(path, Oracle(table, budget=40), config=config, seed=4)
    with pytest.raises(ValueError, match="budget 40 saved, 41 now"):
        RegularizedEvolution.resume(path, Oracle(table, budget=41), config=config, seed=3)
    resumed = RegularizedEvolution.resume(path, Oracle(table, budget=40), config=config, seed=3)
    assert resumed.config == config and resumed.steps == 5


def test_damaged_or_planted_checkpoints(table, tmp_path):
    import hashlib

    import torch

    from gnnas.files import DamagedFileError, checksum_path, save_torch

    path = tmp_path / "run.ckpt"
    RandomSearch(Oracle(table, budget=20), seed=0).run(checkpoint=path, max_steps=3)
    content = path.read_bytes()
    path.write_bytes(content[:-300] + bytes([content[-300] ^ 4]) + content[-299:])
    with pytest.raises(DamagedFileError, match="run.ckpt: the content does not match its checksum"):
        RandomSearch.resume(path, Oracle(table, budget=20))
    path.write_bytes(content[:50])
    with pytest.raises(DamagedFileError, match="truncated or damaged"):
        RandomSearch.resume(path, Oracle(table, budget=20))
    for state, message in [({"a": 1}, "not a search checkpoint"), ([], "not a search checkpoint")]:
        save_torch(state, path)
        with pytest.raises(DamagedFileError, match=message):
            RandomSearch.resume(path, Oracle(table, budget=20))
    marker = tmp_path / "marker"

    class Planted:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"version": 1, "method": "random", "state": Planted()}, path)
    checksum_path(path).write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  run.ckpt\n")
    with pytest.raises(DamagedFileError, match="not a safe file"):
        RandomSearch.resume(path, Oracle(table, budget=20))
    assert not marker.exists()


def test_damaged_results_files(table, tmp_path):
    from gnnas.files import DamagedFileError, save_json

    path = tmp_path / "result.json"
    make("random", Oracle(table, budget=5)).run().save(path)
    content = path.read_bytes()
    path.write_bytes(content.replace(b'"seed": 0', b'"seed": 1'))
    with pytest.raises(DamagedFileError, match="result.json: the content does not match its checksum"):
        SearchResult.load(path)
    for value in [{"method": "random"}, [1, 2], {"records": [{"rank": "x"}]}]:
        save_json(value, path)
        with pytest.raises(DamagedFileError, match="result.json: not a search result"):
            SearchResult.load(path)
