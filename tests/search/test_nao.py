import numpy as np
import pytest
import torch

from gnnas.nn import NAOController
from gnnas.search import NAOConfig, NAOSearch, Oracle

from .conftest import random_cells

TINY = dict(num_init=12, outer_epochs=3, inner_epochs=2, num_seeds=8, num_candidates=6, max_step_size=5,
            batch_size=8, controller_kwargs={"embedding_channels": 8,
                                             "encoder_kwargs": {"hidden_channels": 8, "num_layers": 2},
                                             "decoder_kwargs": {"hidden_channels": 8},
                                             "predictor_kwargs": {"hidden_channels": 8}})


def test_loop_counts_and_skips_queried_cells(table):
    oracle = Oracle(table, budget=100, mapping="nearest")
    search = NAOSearch(oracle, NAOConfig(**TINY), seed=0)
    result = search.run()
    assert result.stop_reason == "finished"
    epochs = result.extra["epochs"]
    assert [e["outer_epoch"] for e in epochs] == [1, 2, 3]
    # 12 random cells, then each outer epoch queries exactly the new cells it found
    assert result.num_queries == 12 + sum(e["new"] for e in epochs) <= 12 + 3 * 6
    expected = [12 + sum(x["new"] for x in epochs[:k + 1]) for k in range(3)]
    assert [e["num_queries"] for e in epochs] == expected
    assert len({r.hash for r in result.records}) == result.num_queries
    assert all(1 <= e["step_size"] <= 5 for e in epochs)
    assert all(e["new"] == 6 or e["step_size"] == 5 for e in epochs)
    assert all(e["loss"] == e["loss"] for e in epochs)  # finite training losses


class ScriptedController(NAOController):
    """generate() returns cells of a fixed pool, chosen by the step size only (a stand-in for a
    controller that keeps proposing new cells)."""

    def __init__(self, pool, **kwargs):
        super().__init__(**kwargs)
        self.pool = pool

    def generate(self, cells, step_size, greedy=True, generator=None):
        rng = np.random.default_rng(int(step_size))
        return [self.pool[i] for i in rng.integers(len(self.pool), size=len(cells))]


def test_step_size_rises_until_enough_new_cells(table):
    pool = random_cells(60, seed=7)
    controller = ScriptedController(pool, **TINY["controller_kwargs"])
    oracle = Oracle(table, budget=None, mapping="nearest")
    result = NAOSearch(oracle, NAOConfig(**TINY), seed=0, controller=controller).run()
    pool_hashes = {c.hash for c in pool}
    new = result.records[12:]
    assert all(r.proposed_hash in pool_hashes for r in new)
    assert len({r.hash for r in result.records}) == result.num_queries
    for log in result.extra["epochs"]:
        assert log["new"] == 6 or log["step_size"] == 5
        assert log["new"] + log["duplicates"] <= 8 * log["step_size"]  # 8 seeds per step size
    assert sum(log["new"] for log in result.extra["epochs"]) == len(new) > 0


@pytest.mark.parametrize("budget", [10, 20])
def test_budget_is_respected(table, budget):
    controller = ScriptedController(random_cells(60, seed=7), **TINY["controller_kwargs"])
    oracle = Oracle(table, budget=budget, mapping="nearest")
    result = NAOSearch(oracle, NAOConfig(**TINY), seed=1, controller=controller).run()
    assert result.stop_reason == "budget" and result.num_queries == budget


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_reproducible_and_resumable(table, tmp_path, optimizer):
    def oracle():
        return Oracle(table, budget=60, mapping="nearest")

    config = NAOConfig(**{**TINY, "optimizer": optimizer, "lr": 0.1 if optimizer == "sgd" else 0.01})
    full = NAOSearch(oracle(), config, seed=3).run()
    again = NAOSearch(oracle(), config, seed=3).run()
    assert again.records == full.records and again.extra == full.extra
    other = NAOSearch(oracle(), config, seed=4).run()
    assert [r.hash for r in other.records] != [r.hash for r in full.records]
    path = tmp_path / "nao.ckpt"
    partial = NAOSearch(oracle(), config, seed=3).run(checkpoint=path, max_steps=2)
    assert partial.stop_reason == "max_steps" and len(partial.extra["epochs"]) == 1  # of 3
    resumed = NAOSearch.resume(path, oracle()).run()
    assert resumed.records == full.records and resumed.extra == full.extra


class WithoutMasks(NAOSearch):
    """The reference: the cells' graphs carry no grammar mask, so the decoder computes it in every
    batch."""

    def _graph(self, cell_hash):
        data = super()._graph(cell_hash).clone()
        del data.grammar_mask
        return data


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_cached_grammar_masks_change_nothing(table, optimizer):
    config = NAOConfig(**{**TINY, "optimizer": optimizer, "lr": 0.1 if optimizer == "sgd" else 0.01})
    fast = NAOSearch(Oracle(table, budget=60, mapping="nearest"), config, seed=5).run()
    slow = WithoutMasks(Oracle(table, budget=60, mapping="nearest"), config, seed=5).run()
    assert fast.records == slow.records and fast.extra == slow.extra


def test_pretrained_controller_is_copied_not_changed(table):
    controller = NAOController(**TINY["controller_kwargs"])
    before = {k: v.clone() for k, v in controller.state_dict().items()}
    config = NAOConfig(**{**TINY, "controller_init": "pretrained:test"})
    oracle = Oracle(table, budget=40, mapping="nearest")
    result = NAOSearch(oracle, config, seed=0, controller=controller).run()
    assert result.config["controller_init"] == "pretrained:test"
    assert all(torch.equal(before[k], v) for k, v in controller.state_dict().items())
    with pytest.raises(ValueError):
        NAOSearch(Oracle(table), NAOConfig(**TINY), controller="not a controller")


@pytest.mark.parametrize("kwargs, message", [
    ({"num_init": 0}, "num_init"), ({"inner_epochs": -1}, "inner_epochs"), ({"trade_off": 1.5}, "trade_off"),
    ({"lr": 0.0}, "lr"), ({"optimizer": "rmsprop"}, "optimizer"),
    ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"), ({"lr": float("inf")}, "lr must"),
    ({"momentum": float("nan")}, "momentum must be a finite number >= 0"), ({"momentum": -0.5}, "momentum"),
    ({"grad_clip": float("nan")}, "grad_clip must be a finite number > 0"),
    ({"max_step_size": 10**9}, "max_step_size must be at most 1,000"),
    ({"controller_kwargs": {"bogus": 1}}, "unexpected keyword argument 'bogus'"),
    ({"controller_kwargs": {"encoder_kwargs": {"hidden_channels": 10**7}}}, "hidden_channels must be"),
    ({"controller_kwargs": [1]}, "controller_kwargs must be a dict"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NAOConfig(**kwargs)


def test_candidates_never_exceed_what_the_table_and_budget_have_left(closed_table):
    # 1,000 candidates wanted of a table of 2,532 cells: the step sizes stop once the budget is
    # reached instead of decoding up to max_step_size in search of cells that cannot be queried
    controller = ScriptedController(random_cells(60, seed=7), **TINY["controller_kwargs"])
    config = NAOConfig(**dict(TINY, num_candidates=1000, max_step_size=1000, outer_epochs=3))
    oracle = Oracle(closed_table, budget=20, mapping="nearest")
    result = NAOSearch(oracle, config, seed=0, controller=controller).run()
    assert result.num_queries == 20 and result.stop_reason == "budget"
    log = result.extra["epochs"][0]
    assert log["new"] == 20 - TINY["num_init"] and log["step_size"] < 1000


def test_train_controller_is_the_search_training(table):
    """The public function is what NAOSearch.train_controller runs: same weights from the same start."""
    from gnnas.nn import cell_to_data
    from gnnas.search import make_optimizer, train_controller

    oracle = Oracle(table, budget=None, mapping="nearest")
    config = NAOConfig(**{**TINY, "num_init": 20})
    search = NAOSearch(oracle, config, seed=5)
    search.step()  # the initial queries
    start = {k: v.clone() for k, v in search.controller.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    generator.set_state(search.torch_generator.get_state())
    state = torch.random.get_rng_state()
    log = search.train_controller()
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is left alone

    twin = NAOController(**TINY["controller_kwargs"])
    twin.load_state_dict(start)
    cells = [cell_to_data(table.spec(r.hash)) for r in oracle.records]
    target = torch.tensor([r.accuracy for r in oracle.records], dtype=torch.float32)
    twin_log = train_controller(twin, make_optimizer(twin, config), cells, target, config, generator)
    assert twin_log == log
    for key, value in search.controller.state_dict().items():
        assert torch.equal(value, twin.state_dict()[key]), key


def test_train_controller_bad_input():
    from gnnas.nn import cell_to_data
    from gnnas.search import make_optimizer, train_controller

    config = NAOConfig(**TINY)
    controller = NAOController(**TINY["controller_kwargs"])
    optimizer = make_optimizer(controller, config)
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="at least one labelled cell"):
        train_controller(controller, optimizer, [], torch.zeros(0), config, generator)
    cells = [cell_to_data(c) for c in random_cells(3, seed=0)]
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        train_controller(controller, optimizer, cells, torch.zeros(4), config, generator)
