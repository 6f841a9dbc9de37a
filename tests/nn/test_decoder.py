import pytest
import torch

from gnnas import ArchSpec
from gnnas.nn import GrammarDecoder, is_grammatical
from gnnas.nn.grammar import grammar_mask
from gnnas.space.tokens import slot_layout

from .cells import random_cells

BACKBONES = ["made", "gru", "lstm"]


def make_decoder(backbone: str, seed: int = 0, **kwargs) -> GrammarDecoder:
    torch.manual_seed(seed)
    return GrammarDecoder(16, hidden_channels=32, backbone=backbone, **kwargs)


def all_valid(tokens: torch.Tensor) -> bool:
    for row in tokens.tolist():
        ArchSpec.from_tokens(row)  # raises ValueError if not a valid cell
    return bool(is_grammatical(tokens).all())


def test_repr_and_config():
    decoder = GrammarDecoder(32)
    assert repr(decoder) == "GrammarDecoder(32, hidden_channels=256, num_layers=2, backbone='made')"
    assert GrammarDecoder(**decoder.get_config()).get_config() == decoder.get_config()


@pytest.mark.parametrize("backbone", BACKBONES)
def test_shapes_and_causality(backbone):
    decoder = make_decoder(backbone, num_layers=2).eval()
    tokens = torch.tensor([cell.to_tokens() for cell in random_cells(6, seed=0)])
    z = torch.randn(6, 16)
    logits = decoder.logits(z, tokens)
    assert logits.shape == (6, 27, 7)
    for position in (0, 5, 13, 26):
        changed = tokens.clone()
        changed[:, position] = (changed[:, position] + 1) % 7
        other = decoder.logits(z, changed)
        # positions up to `position` do not see the token at `position`
        assert torch.allclose(other[:, :position + 1], logits[:, :position + 1], atol=1e-6)
        if position < 26:
            assert not torch.allclose(other[:, position + 1:], logits[:, position + 1:])


@pytest.mark.parametrize("backbone", BACKBONES)
def test_log_probs_finite_exactly_on_grammatical_sequences(backbone):
    decoder = make_decoder(backbone)
    cells = random_cells(64, seed=1)
    valid = torch.tensor([cell.to_tokens() for cell in cells])
    generator = torch.Generator().manual_seed(0)
    broken = valid.clone()
    position = torch.randint(0, 27, (64,), generator=generator)
    broken[torch.arange(64), position] = torch.randint(0, 7, (64,), generator=generator)
    tokens = torch.cat([valid, broken])
    log_probs = decoder(torch.randn(128, 16), tokens)
    assert log_probs.shape == (128, 27, 7)
    target = log_probs.gather(2, tokens.unsqueeze(-1)).squeeze(-1)  # (B, 27)
    finite = torch.isfinite(target).all(dim=1)
    assert finite.tolist() == is_grammatical(tokens).tolist()
    assert finite[:64].all() and not finite[64:].all()
    # probabilities sum to one; forced positions (one allowed token) cost exactly 0
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(128, 27))
    forced = torch.isfinite(log_probs).sum(-1) == 1
    assert forced[:64, -1].all()  # padding after the output, or vertex 6's output op
    assert (target[:64][forced[:64]] == 0).all()


@pytest.mark.parametrize("backbone", BACKBONES)
def test_decoding_is_always_valid(backbone):
    decoder = make_decoder(backbone)
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(1000, 16, generator=generator)
    assert all_valid(decoder.decode(z))
    assert all_valid(decoder.decode(z * 100.0))  # saturated logits
    assert all_valid(decoder.decode(z[:300], greedy=False, generator=generator))


def test_decoding_valid_after_training_and_reconstructs():
    decoder = make_decoder("made")
    cells = random_cells(32, seed=2)
    tokens = torch.tensor([cell.to_tokens() for cell in cells])
    z = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = -decoder(z, tokens).gather(2, tokens.unsqueeze(-1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    decoded = decoder.decode(z)
    assert (decoded == tokens).float().mean() > 0.9
    assert all_valid(decoder.decode(torch.randn(1000, 16) * 5))


def test_sampling_follows_the_generator():
    decoder = make_decoder("gru")
    z = torch.randn(20, 16)
    first = decoder.decode(z, greedy=False, generator=torch.Generator().manual_seed(3))
    second = decoder.decode(z, greedy=False, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, second)


def test_layout_of_forced_positions():
    # vertex 6's op slot (the last position) is always the output token for a 7-vertex cell
    assert slot_layout()[-1] == (6, 6)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_a_given_grammar_mask_gives_the_same_log_probs(backbone):
    decoder = make_decoder(backbone)
    tokens = torch.tensor([cell.to_tokens() for cell in random_cells(20, seed=4)])
    tokens[3, 5] = (tokens[3, 5] + 1) % 7  # an ungrammatical row too
    z = torch.randn(20, 16)
    mask = grammar_mask(tokens)
    before = mask.clone()
    assert torch.equal(decoder(z, tokens, mask), decoder(z, tokens))
    assert torch.equal(mask, before)  # not changed in place
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        decoder(z, tokens, mask.long())
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        decoder(z, tokens, mask[:, :26])


def test_bad_input():
    decoder = make_decoder("made")
    tokens = torch.tensor([random_cells(1, seed=0)[0].to_tokens()])
    with pytest.raises(ValueError, match="z must have shape"):
        decoder(torch.randn(1, 15), tokens)
    with pytest.raises(ValueError, match="z must have shape"):
        decoder.decode(torch.randn(16))
    with pytest.raises(ValueError, match="floating"):
        decoder.decode(torch.zeros(1, 16, dtype=torch.long))
    with pytest.raises(ValueError, match="same number"):
        decoder(torch.randn(2, 16), tokens)
    with pytest.raises(ValueError, match="0..6"):
        decoder(torch.randn(1, 16), tokens + 7)
    with pytest.raises(ValueError, match=r"\(B, 27\)"):
        decoder(torch.randn(1, 16), tokens[:, :20])
    with pytest.raises(ValueError, match="temperature"):
        decoder.decode(torch.randn(1, 16), greedy=False, temperature=0.0)
    with pytest.raises(ValueError, match="backbone"):
        GrammarDecoder(16, backbone="transformer")
    with pytest.raises(ValueError, match="hidden_channels"):
        GrammarDecoder(16, hidden_channels=0)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_step_by_step_decoding_matches_teacher_forcing(backbone):
    # greedy decoding one token at a time must pick, at every position, the argmax of the masked
    # teacher-forced log-probabilities of its own output
    decoder = make_decoder(backbone, seed=1, num_layers=2).eval()
    z = torch.randn(200, 16, generator=torch.Generator().manual_seed(2)) * 3
    tokens = decoder.decode(z)
    log_probs = decoder(z, tokens)
    assert torch.equal(log_probs.argmax(dim=-1), tokens)
