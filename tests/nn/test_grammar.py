from functools import cache

import numpy as np
import pytest
import torch

from gnnas import ArchSpec
from gnnas.nn.grammar import (
    advance,
    allowed_tokens,
    grammar_mask,
    initial_state,
    is_grammatical,
)
from gnnas.space.tokens import SEQ_LEN, decode_tokens, slot_layout

from .cells import random_cells

LAYOUT = slot_layout()


def reference_valid(sequence: tuple[int, ...]) -> bool:
    """Slow reference: the sequence decodes, has <= 9 raw edges and ArchSpec accepts it."""
    try:
        matrix, ops = decode_tokens(list(sequence))
        if matrix.sum() > 9:
            return False
        ArchSpec(matrix, ops)
    except ValueError:
        return False
    return True


@cache
def reference_completable(prefix: tuple[int, ...]) -> bool:
    """Slow reference: does some completion of ``prefix`` make a valid sequence?

    Depth-first over completions; only right-kind tokens are tried, with one interior op (3) standing
    for all three (validity does not depend on which interior op a vertex has).
    """
    if sum(t == 2 for t in prefix) > 9:
        return False
    position = len(prefix)
    finished = False
    for p, t in enumerate(prefix):  # necessary conditions: the right kind of token in each slot
        j, i = LAYOUT[p]
        if finished:
            if t != 0:
                return False
        elif t not in ((1, 2) if i < j else (6,) if j == 6 else (3, 4, 5, 6)):
            return False
        finished = finished or (i == j and t == 6)
    if finished or position == SEQ_LEN:
        return reference_valid(prefix + (0,) * (SEQ_LEN - position))
    j, i = LAYOUT[position]
    choices = (2, 1) if i < j else (6, 3)
    return any(reference_completable(prefix + (t,)) for t in choices)


def canonical_sequences(count: int, seed: int) -> list[list[int]]:
    return [spec.to_tokens() for spec in random_cells(count, seed=seed)]


def random_walk_sequences(count: int, seed: int) -> list[list[int]]:
    """Sequences drawn along the grammar with random logits (so every prefix is grammatical)."""
    generator = torch.Generator().manual_seed(seed)
    state = initial_state(count)
    tokens = []
    for _ in range(SEQ_LEN):
        logits = torch.randn(count, 7, generator=generator) * 3
        logits = logits.masked_fill(~allowed_tokens(state), float("-inf"))
        token = torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(1)
        tokens.append(token)
        state = advance(state, token)
    return torch.stack(tokens, 1).tolist()


def test_mask_matches_brute_force_on_grammatical_prefixes():
    sequences = canonical_sequences(40, seed=0) + random_walk_sequences(60, seed=1)
    tokens = torch.tensor(sequences)
    mask = grammar_mask(tokens)
    checked = 0
    for b, sequence in enumerate(sequences):
        for position in range(SEQ_LEN):
            prefix = tuple(sequence[:position])
            expected = [reference_completable(prefix + (t,)) for t in range(7)]
            assert mask[b, position].tolist() == expected, (sequence, position)
            checked += 1
    assert checked == 100 * SEQ_LEN


def mutate(sequence: list[int], rng: np.random.Generator) -> list[int]:
    sequence = list(sequence)
    for _ in range(rng.integers(1, 4)):
        position = int(rng.integers(SEQ_LEN))
        j, i = LAYOUT[position]
        kind = rng.random()
        if kind < 0.6 and i < j:  # flip an edge slot
            old = sequence[position]
            sequence[position] = 3 - old if old in (1, 2) else int(rng.integers(1, 3))
        elif kind < 0.8 and i == j:  # change an op, possibly into or out of output
            sequence[position] = int(rng.integers(3, 7))
        else:
            sequence[position] = int(rng.integers(7))
    return sequence


def test_grammatical_exactly_when_reference_valid():
    rng = np.random.default_rng(2)
    base = canonical_sequences(150, seed=3) + random_walk_sequences(150, seed=4)
    sequences = base + [mutate(s, rng) for s in base for _ in range(3)]
    # dense random cells with more than 9 raw edges
    sequences += [[2 if LAYOUT[p][1] < LAYOUT[p][0] else (6 if LAYOUT[p][0] == 6 else 3)
                   for p in range(SEQ_LEN)]]
    got = is_grammatical(torch.tensor(sequences)).tolist()
    expected = [reference_valid(tuple(s)) for s in sequences]
    assert got == expected
    assert 0.2 < np.mean(expected) < 0.9  # both kinds are well represented


def test_every_grammatical_state_has_an_allowed_token():
    for sequence in random_walk_sequences(3000, seed=5):  # adversarial: random logits at each step
        ArchSpec.from_tokens(sequence)  # raises if invalid
    state = initial_state(3)
    assert allowed_tokens(state).tolist() == [[False, True, True, False, False, False, False]] * 3


def test_tiny_cases_exact():
    # input -> output: [2, 6, 0, ...]
    tokens = torch.tensor([[2, 6] + [0] * 25, [1, 6] + [0] * 25, [2, 3, 1, 2, 6] + [0] * 22])
    mask = grammar_mask(tokens)
    assert mask[0, 0].tolist() == [False, True, True, False, False, False, False]
    # after an edge 0->1, vertex 1 may be the output or an interior op
    assert mask[0, 1].tolist() == [False, False, False, True, True, True, True]
    # without the edge, vertex 1 cannot be the output
    assert mask[1, 1].tolist() == [False, False, False, True, True, True, False]
    assert mask[0, 2].tolist() == [True] + [False] * 6
    assert is_grammatical(tokens).tolist() == [True, False, True]


def test_nine_edges_then_no_more():
    spec = next(s for s in random_cells(2000, seed=6) if s.num_edges == 9)
    tokens = torch.tensor([spec.to_tokens()])
    mask = grammar_mask(tokens)
    edges = (tokens == 2).long().cumsum(1)
    for position in range(SEQ_LEN):
        j, i = LAYOUT[position]
        before = int(edges[0, position - 1]) if position else 0
        if i < j and before == 9:
            assert not mask[0, position, 2]


@pytest.mark.parametrize("bad", [torch.zeros(2, 26, dtype=torch.long), torch.zeros(27, dtype=torch.long),
                                 torch.full((1, 27), 7), torch.full((1, 27), -1), torch.zeros(1, 27)])
def test_bad_tokens(bad):
    with pytest.raises(ValueError):
        grammar_mask(bad)
