"""Analyses of the search space and of learned embeddings: locality (the paper's Fig. 1 and 2)."""

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
from gnnas.analysis.plotting import distance_histogram, embedding_map, kde_violins, project_2d

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
]
