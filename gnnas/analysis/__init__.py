"""Analyses of the search space and of learned embeddings: locality (the paper's Fig. 1 and 2),
few-shot accuracy prediction from cell encodings, and statistics over the seeds of search runs
(the paper's Table 1)."""

import warnings
from typing import Any

from gnnas.analysis.locality import (
    DistancePairs,
    anchors_with_positives,
    distance_statistics,
    pairs_by_distance,
    random_pairs,
    spearman,
    within_group_pairs,
)
from gnnas.analysis.plotting import (
    distance_histogram,
    embedding_map,
    kde_violins,
    moving_average,
    pretraining_curves,
    project_2d,
)
from gnnas.analysis.predictor import (
    GaussianProcess,
    MLPRegressor,
    ged_kernel,
    kendall_tau,
    mean_interval,
    rank_metrics,
    top_precision,
)
from gnnas.analysis.statistics import (
    bootstrap_interval,
    holm,
    kaplan_meier,
    kaplan_meier_median,
    logrank_test,
    mann_whitney_test,
)

__all__ = [
    "DistancePairs",
    "anchors_with_positives",
    "within_group_pairs",
    "distance_statistics",
    "pairs_by_distance",
    "random_pairs",
    "spearman",
    "distance_histogram",
    "embedding_map",
    "kde_violins",
    "project_2d",
    "GaussianProcess",
    "MLPRegressor",
    "ged_kernel",
    "rank_metrics",
    "kendall_tau",
    "top_precision",
    "mean_interval",
    "moving_average",
    "pretraining_curves",
    "bootstrap_interval",
    "kaplan_meier",
    "kaplan_meier_median",
    "logrank_test",
    "mann_whitney_test",
    "holm",
]


def __getattr__(name: str) -> Any:
    # names that moved to their one home; deprecated here for one version
    if name == "PaddedCells":
        warnings.warn("gnnas.analysis.PaddedCells is deprecated; use gnnas.space.CellArray "
                      "(PaddedCells.from_cells(cells) is CellArray.of(cells))", DeprecationWarning,
                      stacklevel=2)
        from gnnas.space.cell_array import CellArray

        return CellArray
    if name == "ged_lower_bound":
        warnings.warn("gnnas.analysis.ged_lower_bound is deprecated; use gnnas.ged.ged_lower_bound, or "
                      "gnnas.ged.GEDIndex(cells).lower_bound(cell) from one cell to many", DeprecationWarning,
                      stacklevel=2)
        return _ged_lower_bound_from_one

    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _ged_lower_bound_from_one(anchor: Any, cells: Any) -> Any:
    """The old ``ged_lower_bound(anchor, cells)``: bounds from one cell to many, ``int64``."""
    from gnnas.ged import GEDIndex
    from gnnas.space.cell_array import CellArray

    anchor = CellArray.of(anchor, "anchor")
    if len(anchor) != 1:
        raise ValueError(f"anchor must hold exactly one cell, got {len(anchor)}")
    return GEDIndex(cells).lower_bound(anchor[0]).astype("int64")
