"""The networks: a GIN encoder, a grammar-masked autoregressive decoder, a predictor, the NAO controller."""

from gnnas.nn.controller import NAOController
from gnnas.nn.decoder import GrammarDecoder
from gnnas.nn.encoder import GINEncoder
from gnnas.nn.grammar import (
    GrammarState,
    advance,
    allowed_tokens,
    grammar_mask,
    initial_state,
    is_grammatical,
)
from gnnas.nn.predictor import MLPPredictor
from gnnas.nn.utils import cell_to_data, cells_to_batch, tokens_to_cells

__all__ = [
    "NAOController", "GINEncoder", "GrammarDecoder", "MLPPredictor",
    "GrammarState", "initial_state", "allowed_tokens", "advance", "grammar_mask", "is_grammatical",
    "cell_to_data", "cells_to_batch", "tokens_to_cells",
]
