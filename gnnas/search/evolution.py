r"""Regularized evolution (aging evolution), Real et al., "Regularized Evolution for Image
Classifier Architecture Search", AAAI 2019.

The population is a queue of :attr:`~RegularizedEvolutionConfig.population_size` cells, oldest
first. It starts with random table cells. Each step then

1. samples :attr:`~RegularizedEvolutionConfig.sample_size` members uniformly without replacement
   and takes the best of them as the parent (the oldest on ties);
2. mutates the parent by :attr:`~RegularizedEvolutionConfig.num_edits` random graph edits
   (:func:`gnnas.transforms.edit_cell`: op changes and edge flips that give a valid, different
   cell) and sends the child to the oracle, which maps it into the table when the table holds only
   part of the space;
3. appends the child and removes the **oldest** member (not the worst: this is the aging that
   regularizes the search).

On a table that holds only part of the space, a child is often mapped back onto a cell queried
before (the parent itself is at distance 1 from it). With
:attr:`~RegularizedEvolutionConfig.skip_queried` (the default) such a child is skipped, as NAO
skips proposals queried before, and a new tournament and mutation are drawn, so every step makes
one new query; after every 10 such children in a row the mutation makes one more edit, up to
:attr:`~RegularizedEvolutionConfig.max_edits` (as NAO raises its step size until it finds new
cells). Without it, the child joins the population at no cost (the oracle knows its
accuracy), as in the original algorithm on the whole space. A parent without any valid child
(such as ``input → output``) counts as a skipped child. After
:attr:`~RegularizedEvolutionConfig.max_stall` children in a row without a new query, the run
stops with ``stop_reason="stalled"``.

The defaults (population 50, sample 10, one edit) follow the regularized-evolution example of the
NAS-Bench-101 authors; Real et al. used larger populations on larger spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gnnas.search.base import Search
from gnnas.space import ArchSpec

__all__ = ["RegularizedEvolution", "RegularizedEvolutionConfig", "MAX_EDITS"]

_ESCALATE_EVERY = 10  # skipped children in a row per extra edit

#: The most edits a mutation may make: more than any graph edit distance in the space (at most 7
#: vertices and 9 edges: 7 substitutions or insertions and 18 edge edits, 25).
MAX_EDITS = 25


@dataclass
class RegularizedEvolutionConfig:
    r"""Settings of :class:`RegularizedEvolution`.

    Args:
        population_size (int, optional): size of the population. (default: :obj:`50`)
        sample_size (int, optional): members sampled to choose a parent (the tournament).
            (default: :obj:`10`)
        num_edits (int, optional): graph edits per mutation. (default: :obj:`1`)
        skip_queried (bool, optional): draw another child instead of one whose table cell was
            queried before. (default: :obj:`True`)
        max_edits (int, optional): the most edits per mutation while children are being skipped,
            at most :data:`MAX_EDITS`. (default: :obj:`3`)
        max_stall (int, optional): children in a row without a new query after which the run
            stops. (default: :obj:`1000`)

    Raises:
        ValueError: if a size or count is below 1, ``max_edits < num_edits`` or
            ``sample_size > population_size``.

    Example:
        >>> from gnnas.search import RegularizedEvolutionConfig
        >>> config = RegularizedEvolutionConfig(population_size=20, sample_size=5)
        >>> config.num_edits, config.skip_queried
        (1, True)
        >>> RegularizedEvolutionConfig(population_size=5, sample_size=10)
        Traceback (most recent call last):
            ...
        ValueError: sample_size (10) must be <= population_size (5)
    """

    population_size: int = 50
    sample_size: int = 10
    num_edits: int = 1
    skip_queried: bool = True
    max_edits: int = 3
    max_stall: int = 1000

    def __post_init__(self) -> None:
        for name in ("population_size", "sample_size", "num_edits", "max_stall"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_edits > MAX_EDITS:
            raise ValueError(f"max_edits must be at most {MAX_EDITS} (no two cells of the space are "
                             f"further apart), got {self.max_edits}")
        if self.max_edits < self.num_edits:
            raise ValueError(f"max_edits ({self.max_edits}) must be >= num_edits ({self.num_edits})")
        if self.sample_size > self.population_size:
            raise ValueError(f"sample_size ({self.sample_size}) must be <= population_size "
                             f"({self.population_size})")


class RegularizedEvolution(Search):
    r"""Regularized evolution over the oracle's table (see the module docstring).

    One step queries one cell: a random cell while the population fills up, then one child (with
    ``skip_queried=False``, a step may also add a child queried before, at no cost).

    Args:
        oracle (Oracle): the oracle, with its budget and mapping policy.
        config (RegularizedEvolutionConfig, optional): the settings. (default: :obj:`None`, the
            defaults)
        seed (int, optional): seed of the run. (default: :obj:`0`)

    Raises:
        ValueError: if ``config`` is not a :class:`RegularizedEvolutionConfig` or ``seed`` is
            negative.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle, RegularizedEvolution, RegularizedEvolutionConfig
        >>> oracle = Oracle(NASBench101.bundled(), budget=60, mapping="nearest")
        >>> config = RegularizedEvolutionConfig(population_size=20, sample_size=5)
        >>> search = RegularizedEvolution(oracle, config, seed=0)
        >>> result = search.run()
        >>> result.num_queries, len(search.population)     # 20 random cells, then 40 children
        (60, 20)
        >>> round(result.best_accuracy, 4)
        0.9432
    """

    name = "regularized_evolution"
    Config = RegularizedEvolutionConfig

    def __init__(self, oracle: Any, config: RegularizedEvolutionConfig | None = None, *,
                 seed: int = 0) -> None:
        super().__init__(oracle, config, seed=seed)
        self.population: list[tuple[int, float]] = []  # (table index, accuracy), oldest first
        self.stall = 0

    def step(self) -> bool:
        config, oracle = self.config, self.oracle
        if len(self.population) < config.population_size:
            drawn = oracle.sample_unqueried(self.generator, 1)
            if not drawn:
                return False
            self.population.append((drawn[0], oracle.query_index(drawn[0])))
            return True
        while True:
            child = self._child()
            if child is None:  # the parent has no valid child
                if self._stalled():
                    return False
                continue
            index, _ = oracle.resolve(child)
            if oracle.is_queried(index):
                if not config.skip_queried:
                    self._add(index, oracle.query(child))
                    return not self._stalled()
                if self._stalled():
                    return False
                continue
            self._add(index, oracle.query(child))
            self.stall = 0
            return True

    def _child(self) -> ArchSpec | None:
        """Tournament, then mutation of the winner; :obj:`None` if it has no valid child."""
        from gnnas.transforms import NoValidEditError, edit_cell

        sample = self.generator.choice(len(self.population), size=self.config.sample_size, replace=False)
        parent = max(sorted(sample.tolist()), key=lambda i: self.population[i][1])  # oldest on ties
        config = self.config
        num_edits = config.num_edits
        if config.skip_queried:
            num_edits = min(config.max_edits, num_edits + self.stall // _ESCALATE_EVERY)
        try:
            return edit_cell(self.oracle.spec(self.population[parent][0]), num_edits,
                             generator=self.generator).spec
        except NoValidEditError:  # e.g. the cell input -> output has no 1-edit child
            return None

    def _add(self, index: int, accuracy: float) -> None:
        self.population.append((index, accuracy))
        self.population.pop(0)  # the oldest member dies

    def _stalled(self) -> bool:
        """Counts a child without a new query; returns whether the run must stop."""
        self.stall += 1
        if self.stall >= self.config.max_stall:
            self.stop_reason = "stalled"
            return True
        return False

    def extra_state(self) -> dict[str, Any]:
        return {"population": [list(p) for p in self.population], "stall": self.stall}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.population = [(int(i), float(a)) for i, a in state["population"]]
        self.stall = int(state["stall"])
