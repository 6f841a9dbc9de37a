r"""Architecture search on NAS-Bench-101 under a query budget: NAO and the baselines.

Every search asks a budgeted :class:`Oracle` (a query counts once per distinct table cell; a
proposal outside a partial table is mapped to the nearest table cell by exact graph edit
distance), is reproducible from its seed, can checkpoint and resume, and returns a
:class:`SearchResult` with the columns of the paper's Table 1.

- :class:`NAOSearch`: Neural Architecture Optimization, from a fresh or a pretrained controller;
- :class:`RandomSearch`: uniform over the table;
- :class:`RegularizedEvolution`: aging evolution with graph-edit mutations;
- :class:`LocalSearch`: best-neighbour local search with random restarts.
"""

from gnnas.search.base import Search
from gnnas.search.evolution import RegularizedEvolution, RegularizedEvolutionConfig
from gnnas.search.local_search import LocalSearch, LocalSearchConfig, neighbours
from gnnas.search.nao import NAOConfig, NAOSearch, make_optimizer, train_controller
from gnnas.search.oracle import MAPPINGS, BudgetExhausted, Oracle, QueryRecord
from gnnas.search.random_search import RandomSearch, RandomSearchConfig
from gnnas.search.result import SearchResult

#: The searches by name, as written in results.
SEARCHES: dict[str, type[Search]] = {
    cls.name: cls for cls in (NAOSearch, RandomSearch, RegularizedEvolution, LocalSearch)
}

__all__ = [
    "Oracle", "QueryRecord", "BudgetExhausted", "MAPPINGS", "Search", "SearchResult", "SEARCHES",
    "NAOSearch", "NAOConfig", "make_optimizer", "train_controller", "RandomSearch", "RandomSearchConfig",
    "RegularizedEvolution", "RegularizedEvolutionConfig", "LocalSearch", "LocalSearchConfig",
    "neighbours",
]
