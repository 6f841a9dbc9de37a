r"""Random search: table cells drawn uniformly, without replacement.

The weak baseline of the paper's Table 1 (*Random*). Each step draws
:attr:`RandomSearchConfig.batch_size` cells uniformly among the table cells not yet queried
(the oracle's domain: the whole space with the official file, the known cells with a partial
table, so no proposal ever needs mapping) and queries them.
"""

from __future__ import annotations

from dataclasses import dataclass

from gnnas.search.base import Search

__all__ = ["RandomSearch", "RandomSearchConfig"]


@dataclass
class RandomSearchConfig:
    r"""Settings of :class:`RandomSearch`.

    Args:
        batch_size (int, optional): cells drawn and queried per step (the checkpoint granularity).
            (default: :obj:`1`)

    Raises:
        ValueError: if ``batch_size`` is below 1.

    Example:
        >>> from gnnas.search import RandomSearchConfig
        >>> RandomSearchConfig(batch_size=10)
        RandomSearchConfig(batch_size=10)
    """

    batch_size: int = 1

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


class RandomSearch(Search):
    r"""Random search over the oracle's table (see the module docstring).

    Args:
        oracle (Oracle): the oracle, with its budget.
        config (RandomSearchConfig, optional): the settings. (default: :obj:`None`, the defaults)
        seed (int, optional): seed of the run. (default: :obj:`0`)

    Raises:
        ValueError: if ``config`` is not a :class:`RandomSearchConfig` or ``seed`` is negative.

    Example:
        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle, RandomSearch
        >>> result = RandomSearch(Oracle(NASBench101.bundled(), budget=50), seed=0).run()
        >>> result.num_queries, result.stop_reason
        (50, 'budget')
        >>> round(result.best_accuracy, 4), result.queries_to_best
        (0.9379, 39)
    """

    name = "random"
    Config = RandomSearchConfig

    def step(self) -> bool:
        for index in self.oracle.sample_unqueried(self.generator, self.config.batch_size):
            self.oracle.query_index(index)
        return True
