"""Transforms of cells as PyG graphs: random graph edits that make positives for pretraining."""

from gnnas.transforms.graph_edit import (
    DEFAULT_EDIT_WEIGHTS,
    EDIT_COSTS,
    EDIT_KINDS,
    EditResult,
    NoValidEditError,
    edit_cell,
    edit_weights,
)
from gnnas.transforms.graph_edit_augment import GraphEditAugment

__all__ = [
    "GraphEditAugment", "DEFAULT_EDIT_WEIGHTS", "EDIT_COSTS", "EDIT_KINDS", "EditResult", "NoValidEditError",
    "edit_cell", "edit_weights",
]
