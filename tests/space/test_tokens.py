import pytest

from gnnas import ArchSpec
from gnnas.nasbench.synthetic import random_specs
from gnnas.space.tokens import (
    CONVENTIONS,
    OP_TOKENS,
    PAD,
    SEMINAS_OP_TOKENS,
    SEQ_LEN,
    decode_tokens,
    encode_tokens,
    op_tokens,
    slot_layout,
)

TEST_ADJ = "0100110001000000010010000010000001000000010000000"
TEST_OPS = "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"


def seminas_sequence(matrix, ops) -> list[int]:
    """The sequence of the original SemiNAS code on NAS-Bench-101, transcribed as a plain loop:
    for each column, the edges from earlier vertices (edge + 1), then the op (conv1x1 3, conv3x3 4,
    maxpool 5, output 6); no padding."""
    numbers = {"conv1x1-bn-relu": 3, "conv3x3-bn-relu": 4, "maxpool3x3": 5, "output": 6}
    sequence = []
    for column in range(1, len(ops)):
        sequence.extend(int(matrix[row][column]) + 1 for row in range(column))
        sequence.append(numbers[ops[column]])
    assert len(sequence) == (len(ops) + 2) * (len(ops) - 1) // 2
    return sequence


def test_conventions():
    assert op_tokens() is OP_TOKENS and op_tokens("seminas") is SEMINAS_OP_TOKENS
    assert OP_TOKENS == {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 4, "maxpool3x3": 5, "output": 6}
    assert SEMINAS_OP_TOKENS == {"conv1x1-bn-relu": 3, "conv3x3-bn-relu": 4, "maxpool3x3": 5, "output": 6}
    assert list(CONVENTIONS) == ["paper", "seminas"]
    with pytest.raises(ValueError, match="convention must be one of \\['paper', 'seminas'\\], got 'nao'"):
        op_tokens("nao")


def test_test_vector_in_both_conventions():
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    paper = spec.to_tokens()
    seminas = spec.to_tokens(convention="seminas")
    assert paper == [2, 3, 1, 2, 5, 1, 1, 2, 3, 2, 1, 1, 1, 3, 2, 1, 1, 2, 2, 4, 1, 1, 2, 1, 1, 2, 6]
    assert seminas == [2, 4, 1, 2, 5, 1, 1, 2, 4, 2, 1, 1, 1, 4, 2, 1, 1, 2, 2, 3, 1, 1, 2, 1, 1, 2, 6]
    assert ArchSpec.from_tokens(seminas, convention="seminas") == spec
    # Read with the wrong convention, the sequence is another cell (conv1x1 and conv3x3 swapped).
    swapped = ArchSpec.from_tokens(seminas)
    assert swapped != spec and swapped.ops == tuple(
        {"conv3x3-bn-relu": "conv1x1-bn-relu", "conv1x1-bn-relu": "conv3x3-bn-relu"}.get(op, op)
        for op in spec.ops)


def test_seminas_convention_matches_the_original_sequences():
    """Random cells of 2..7 vertices: our SemiNAS tokens are the original code's sequence (padded),
    they read back as the same cell, and they differ from the paper's only by 3 <-> 4 in op slots."""
    op_slot = [slot == j for j, slot in slot_layout()]
    for spec in random_specs(400, seed=8):
        original = seminas_sequence(spec.matrix, spec.ops)
        tokens = spec.to_tokens(convention="seminas")
        assert tokens == original + [PAD] * (SEQ_LEN - len(original))
        back = ArchSpec.from_tokens(original, convention="seminas")  # unpadded, as that code writes it
        assert back == spec and back.matrix.tolist() == spec.matrix.tolist() and back.ops == spec.ops
        paper = spec.to_tokens()
        expected = [{3: 4, 4: 3}.get(t, t) if is_op else t for t, is_op in zip(paper, op_slot, strict=True)]
        assert tokens == expected


def test_encode_decode_round_trip_both_conventions():
    for spec in random_specs(100, seed=9):
        for convention in CONVENTIONS:
            tokens = encode_tokens(spec.matrix, spec.ops, convention=convention)
            matrix, ops = decode_tokens(tokens, convention=convention)
            assert matrix.tolist() == spec.matrix.tolist() and tuple(ops) == spec.ops
    with pytest.raises(ValueError, match="convention"):
        decode_tokens([2, 6], convention="Paper")
    with pytest.raises(ValueError, match="convention"):
        ArchSpec.from_strings(TEST_ADJ, TEST_OPS).to_tokens(convention="SemiNAS")
