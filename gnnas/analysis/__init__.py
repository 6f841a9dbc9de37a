"""Analyses of the search space and of learned embeddings: locality (the paper's Fig. 1 and 2), and
few-shot accuracy prediction from cell encodings."""

from gnnas.analysis.locality import (
    DistancePairs,
    PaddedCells,
    anchors_with_positives,
    distance_statistics,
    ged_lower_bound,
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

__all__ = [
    "DistancePairs",
    "anchors_with_positives",
    "within_group_pairs",
    "PaddedCells",
    "distance_statistics",
    "ged_lower_bound",
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
]
