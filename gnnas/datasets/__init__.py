"""Datasets for pretraining: the locality dataset of anchors and their graph-edit positives."""

from gnnas.datasets.locality import LocalityDataset, collate_cells

__all__ = ["LocalityDataset", "collate_cells"]
