r"""Faster drop-ins for the pytorch-metric-learning losses of the presets, same values.

A miner hands a loss hundreds of thousands of triplets :math:`(a, p, n)` per batch of 512 (up
to :math:`P \times B` = 1.8 million: every positive pair with every negative). Most of the
presets' losses do not depend on the triplets one by one but on how often each pair occurs in
them: :class:`~pytorch_metric_learning.losses.ContrastiveLoss` and
:class:`~pytorch_metric_learning.losses.MarginLoss` add one term per listed positive pair and one
per listed negative pair, :class:`~pytorch_metric_learning.losses.AngularLoss` and
:class:`~pytorch_metric_learning.losses.LiftedStructureLoss` one term per listed positive pair
(the latter with a log-sum-exp over the listed negative pairs of its two ends, which the original
builds as a :math:`T \times T` matrix for :math:`T` triplets: 73 million entries at batch 64 and
out of reach at 512). The classes here count the pairs once, with a :func:`torch.bincount` into a
:math:`B \times B` matrix :math:`C`, and compute each term once per distinct pair, weighted by
:math:`C`:

.. math::
    \frac{1}{T} \sum_{t=1}^{T} \ell(a_t, p_t) = \frac{1}{T} \sum_{a, p} C_{ap}\, \ell(a, p).

That is the same sum in another order, so the values agree with the originals to float
rounding (the tests ask for :math:`10^{-5}`, values and gradients).
:class:`FastMultiSimilarityLoss` and :class:`FastGeneralizedLiftedStructureLoss` build their
pair masks from the same counts instead of a scatter of every triplet; :class:`FastNPairsLoss`
finds the first pair of each label without sorting the triplets; :class:`FastTripletMarginLoss`
sums the triplets' margins pair by pair. All use :func:`masked_logsumexp` where the originals
call pml's masked log-sum-exp, which exponentiates the masked entries. Each class is a subclass
of the original and takes the same arguments; where a setting lies outside what its fast path
covers (another reducer, ``collect_stats=True``, a reference set, per-class :math:`\beta`), it
runs the original's code.
"""

from __future__ import annotations

import math

import torch
from pytorch_metric_learning import losses
from pytorch_metric_learning.reducers import (
    AvgNonZeroReducer,
    DivisorReducer,
    MeanReducer,
    MultipleReducers,
)
from pytorch_metric_learning.utils import common_functions as c_f
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
from torch import Tensor

from gnnas.pretrain.miners import MinedTriplets, nonzero_2d

__all__ = [
    "pair_counts",
    "masked_logsumexp",
    "listed_pair_counts",
    "FastAngularLoss",
    "FastContrastiveLoss",
    "FastGeneralizedLiftedStructureLoss",
    "FastLiftedStructureLoss",
    "FastMarginLoss",
    "FastMultiSimilarityLoss",
    "FastNPairsLoss",
    "FastTripletMarginLoss",
]


def pair_counts(rows: Tensor, cols: Tensor, num_rows: int, num_cols: int) -> Tensor:
    r"""How often each pair ``(rows[t], cols[t])`` occurs, as a dense matrix.

    Args:
        rows (torch.Tensor): the first index of each pair, in ``0 .. num_rows - 1``.
        cols (torch.Tensor): the second index of each pair, in ``0 .. num_cols - 1``.
        num_rows (int): the number of rows of the result.
        num_cols (int): the number of columns of the result.

    Returns:
        torch.Tensor: long ``(num_rows, num_cols)``, entry ``[i, j]`` the number of ``t`` with
        ``rows[t] == i`` and ``cols[t] == j``.

    Raises:
        ValueError: if an index lies outside the matrix.

    Shapes:
        - **rows**, **cols** :math:`(T,)`
    """
    keys = torch.add(cols, rows, alpha=num_cols)  # (T,) row * num_cols + col
    for name, values, size in (("column", cols, num_cols), ("row", keys, num_rows * num_cols)):
        # a column out of range would land in the next row; then a key out of range has a bad row
        low, high = torch.aminmax(values) if values.numel() else (0, 0)
        if int(low) < 0 or int(high) >= size:
            raise ValueError(f"pair indices must lie in a {num_rows} x {num_cols} matrix; a {name} "
                             "index lies outside")
    return torch.bincount(keys, minlength=num_rows * num_cols).view(num_rows, num_cols)


def listed_pair_counts(indices_tuple, labels: Tensor, ref_labels: Tensor, embeddings: Tensor,
                       ref_emb: Tensor) -> tuple[Tensor, Tensor]:
    r"""Counts of the positive and the negative pairs that pml's ``convert_to_pairs`` lists.

    pytorch-metric-learning turns a triplet :math:`(a, p, n)` into the positive pair
    :math:`(a, p)` and the negative pair :math:`(a, n)`, passes pairs ``(a1, p, a2, n)`` as they
    are, and takes every pair of the batch for :obj:`None`. For the
    :class:`~gnnas.pretrain.miners.MinedTriplets` of the fast miners the counts come from their
    mask, without going over the triplets.

    Args:
        indices_tuple (tuple, optional): triplets, pairs or :obj:`None`.
        labels (torch.Tensor): the labels of the embeddings.
        ref_labels (torch.Tensor): the labels of the reference embeddings.
        embeddings (torch.Tensor): the embeddings, ``(B, D)``.
        ref_emb (torch.Tensor): the reference embeddings, ``(R, D)``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``(B, R)`` counts of the positive and of the negative
        pairs, in the embeddings' dtype (whole numbers).
    """
    num_rows, num_cols = len(embeddings), len(ref_emb)
    if isinstance(indices_tuple, MinedTriplets):
        counts = indices_tuple.pair_counts(num_rows, num_cols, embeddings.dtype)
        if counts is not None:
            return counts
    a1, p, a2, n = lmu.convert_to_pairs(indices_tuple, labels, ref_labels)
    return (pair_counts(a1, p, num_rows, num_cols).to(embeddings.dtype),
            pair_counts(a2, n, num_rows, num_cols).to(embeddings.dtype))


class _MaskedLogSumExp(torch.autograd.Function):
    """The log-sum-exp of :func:`masked_logsumexp`; its gradient, the softmax weights, from the
    terms kept in the forward pass."""

    @staticmethod
    def forward(ctx, x: Tensor, keep_mask: Tensor, add_one: bool) -> Tensor:
        masked = ~keep_mask
        # torch.logsumexp's shift: the largest term (e^0 with add_one included), 0 where infinite
        shift = x.masked_fill(masked, -math.inf).amax(dim=1, keepdim=True)  # (N, 1)
        if add_one:
            shift.clamp_(min=0)
        shift.masked_fill_(shift.abs() == math.inf, 0)
        terms = (x - shift).exp_().masked_fill_(masked, 0)  # (N, M), a masked e^(...) is replaced
        total = torch.sum(terms, dim=1, keepdim=True)
        if add_one:
            total += torch.exp(-shift)
        empty = total == 0  # a row without any term (a kept term is at least e^0 after the shift)
        output = (total.log() + shift).masked_fill_(empty, 0)
        ctx.save_for_backward(terms, total.masked_fill_(empty, 1))
        return output

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple:
        terms, total = ctx.saved_tensors
        return terms * (grad_output / total), None, None


def masked_logsumexp(x: Tensor, keep_mask: Tensor, add_one: bool = True) -> Tensor:
    r"""pytorch-metric-learning's ``logsumexp`` along ``dim=1``, faster.

    The original fills the masked entries with the smallest float, appends a column of zeros for
    ``add_one`` and calls :func:`torch.logsumexp`; on a CPU :func:`torch.exp` of such huge
    negative numbers takes ten times as long as of ordinary ones, which made the masked
    log-sum-exps the largest cost of several losses. Here the same shift (the largest kept entry)
    is taken, every entry is exponentiated as it is and the masked ones are then set to 0, the
    :math:`e^0` of ``add_one`` is added to the row sums, and the gradient (the softmax weights of
    the kept entries) is formed from the forward pass's terms. The kept terms are the original's
    bit for bit; the sums agree to float rounding. Rows with no kept entry give 0, as in the
    original, with a zero gradient.

    Args:
        x (torch.Tensor): the exponents.
        keep_mask (torch.Tensor): bool, which entries take part.
        add_one (bool, optional): add a term :math:`e^0` to every row. (default: :obj:`True`)

    Returns:
        torch.Tensor: :math:`\log \sum_j m_{ij} e^{x_{ij}}` (+1 inside the log with
        ``add_one``), 0 for rows without kept entries.

    Shapes:
        - **x**, **keep_mask** :math:`(N, M)`; output :math:`(N, 1)`
    """
    return _MaskedLogSumExp.apply(x, keep_mask, add_one)


def _reduced(value: Tensor) -> dict:
    return {"losses": value, "indices": None, "reduction_type": "already_reduced"}


def _plain(loss: torch.nn.Module, reducers: dict[str, type]) -> bool:
    """Whether ``loss`` has exactly its default reducers and collects no statistics."""
    reducer = loss.reducer
    if loss.collect_stats or getattr(loss, "embedding_regularizer", None) is not None:
        return False
    if len(reducers) == 1:
        (kind,) = reducers.values()
        return type(reducer) is kind and not reducer.collect_stats
    return (
        type(reducer) is MultipleReducers
        and set(reducer.reducers) == set(reducers)
        and all(type(reducer.reducers[k]) is kind and not reducer.reducers[k].collect_stats
                for k, kind in reducers.items())
    )


def _mat_based_loss(loss, embeddings, labels, indices_tuple, ref_emb, ref_labels) -> dict:
    """pml's ``GenericPairLoss.compute_loss`` for a matrix-based loss, its masks from the counts."""
    c_f.labels_or_indices_tuple_required(labels, indices_tuple)
    pos_counts, neg_counts = listed_pair_counts(indices_tuple, labels, ref_labels, embeddings, ref_emb)
    if pos_counts.sum() <= 1 and neg_counts.sum() <= 1:  # the original: every list of <= 1 pair
        return loss.zero_losses()
    mat = loss.distance(embeddings, ref_emb)
    pos_mask, neg_mask = (pos_counts > 0).to(mat.dtype), (neg_counts > 0).to(mat.dtype)
    loss._assert_either_pos_or_neg(pos_mask, neg_mask)
    return loss._compute_loss(mat, pos_mask, neg_mask)


class FastAngularLoss(losses.AngularLoss):
    r""":class:`~pytorch_metric_learning.losses.AngularLoss`, one row per distinct positive pair.

    The original evaluates, for each listed pair :math:`(a, p)` (one per triplet),
    :math:`\log\bigl(1 + \sum_n \exp(4 \tan^2\alpha\, (a + p)^\top n
    - 2 (1 + \tan^2\alpha)\, a^\top p)\bigr)` over all :math:`n` of another label and averages;
    the triplet's own negative plays no part. This class evaluates each distinct pair once and
    weights it by its count; when the embeddings are their own reference set and every listed
    pair joins two points of one label, :math:`(a, p)` and :math:`(p, a)` have the same row
    (the same sum :math:`a + p`, product and labels), so each unordered pair is evaluated once,
    weighted by the counts of both orders.

    Args:
        alpha (float, optional): the angle in degrees. (default: :obj:`40`)
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastAngularLoss
        >>> from gnnas.pretrain.miners import FastAngularMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastAngularMiner(angle=20)(embeddings, labels)
        >>> settings = dict(alpha=45)
        >>> fast, original = FastAngularLoss(**settings), losses.AngularLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        if not _plain(self, {"loss": MeanReducer}):
            return super().compute_loss(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        c_f.labels_required(labels)
        counts, neg_counts = listed_pair_counts(indices_tuple, labels, ref_labels, embeddings, ref_emb)
        num_pairs = counts.sum()  # the original's len(a1)
        if num_pairs == 0 or neg_counts.sum() == 0:
            return self.zero_losses()
        anchor_idx, positive_idx = nonzero_2d(counts > 0)  # (U,): the distinct pairs
        if ref_emb is embeddings and bool((labels[anchor_idx] == labels[positive_idx]).all()):
            counts = counts + counts.t()
            counts.diagonal().div_(2)  # a pair (x, x) is one pair, not two
            anchor_idx, positive_idx = nonzero_2d(torch.triu(counts) > 0)  # each unordered pair once
        weights = counts[anchor_idx, positive_idx]
        anchors = self.distance.normalize(embeddings[anchor_idx])
        positives = self.distance.normalize(ref_emb[positive_idx])
        keep_mask = labels[anchor_idx].unsqueeze(1) != ref_labels.unsqueeze(0)  # (U, R)
        sq_tan_alpha = float(torch.tan(self.alpha) ** 2)
        ap_dot = torch.sum(anchors * positives, dim=1, keepdim=True)  # (U, 1)
        # 4 tan^2(alpha) (a + p)^T n - 2 (1 + tan^2(alpha)) a^T p, as one fused product
        final_form = torch.addmm(ap_dot * (-2 * (1 + sq_tan_alpha)), anchors + positives, ref_emb.t(),
                                 alpha=4 * sq_tan_alpha)  # (U, R)
        per_pair = masked_logsumexp(final_form, keep_mask, add_one=True).squeeze(1)  # (U,)
        return {"loss": _reduced(torch.sum(weights * per_pair) / num_pairs)}


class FastContrastiveLoss(losses.ContrastiveLoss):
    r""":class:`~pytorch_metric_learning.losses.ContrastiveLoss` on pair counts.

    Each listed pair adds :math:`[d_{ap} - m_{pos}]_+` (positive) or :math:`[m_{neg} - d_{an}]_+`
    (negative), and each kind is averaged over its non-zero terms; with the counts :math:`C` of
    the listed pairs, :math:`\sum_{ap} C_{ap} \ell_{ap} / \sum_{ap} C_{ap} [\ell_{ap} > 0]`.

    Args:
        pos_margin (float, optional): :math:`m_{pos}`. (default: :obj:`0`)
        neg_margin (float, optional): :math:`m_{neg}`. (default: :obj:`1`)
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastContrastiveLoss
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(0.1, "semihard")(embeddings, labels)
        >>> settings = dict(pos_margin=0, neg_margin=0)
        >>> fast, original = FastContrastiveLoss(**settings), losses.ContrastiveLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        if not _plain(self, {"pos_loss": AvgNonZeroReducer, "neg_loss": AvgNonZeroReducer}):
            return super().compute_loss(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        c_f.labels_or_indices_tuple_required(labels, indices_tuple)
        counts = listed_pair_counts(indices_tuple, labels, ref_labels, embeddings, ref_emb)
        if all(count.sum() <= 1 for count in counts):  # the original: every list of <= 1 pair
            return self.zero_losses()
        mat = self.distance(embeddings, ref_emb)  # (B, R)
        terms = {}
        for name, count, kind in (("pos_loss", counts[0], "pos"), ("neg_loss", counts[1], "neg")):
            if count.sum() == 0:
                terms[name] = self.zero_loss()
                continue
            per_pair = self.get_per_pair_loss(mat, kind)  # (B, R)
            nonzero = torch.sum(count * (per_pair > 0))
            value = torch.sum(count * per_pair) / nonzero if nonzero > 0 else torch.sum(embeddings * 0)
            terms[name] = _reduced(value)
        return terms


class FastGeneralizedLiftedStructureLoss(losses.GeneralizedLiftedStructureLoss):
    r""":class:`~pytorch_metric_learning.losses.GeneralizedLiftedStructureLoss` with its pair
    masks made from pair counts instead of a scatter of every listed pair.

    Args:
        neg_margin (float, optional): the margin of the negative pairs. (default: :obj:`1`)
        pos_margin (float, optional): the margin of the positive pairs. (default: :obj:`0`)
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastGeneralizedLiftedStructureLoss
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(0.1, "semihard")(embeddings, labels)
        >>> settings = dict(pos_margin=0, neg_margin=1)
        >>> fast = FastGeneralizedLiftedStructureLoss(**settings)
        >>> original = losses.GeneralizedLiftedStructureLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        return _mat_based_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels)

    def _compute_loss(self, mat, pos_mask, neg_mask):
        remaining_pos_margin = self.distance.margin(mat, self.pos_margin)
        remaining_neg_margin = self.distance.margin(self.neg_margin, mat)
        pos_loss = masked_logsumexp(remaining_pos_margin, pos_mask.bool(), add_one=False)
        neg_loss = masked_logsumexp(remaining_neg_margin, neg_mask.bool(), add_one=False)
        return {
            "loss": {
                "losses": torch.relu(pos_loss + neg_loss),
                "indices": c_f.torch_arange_from_size(mat),
                "reduction_type": "element",
            }
        }


class FastMultiSimilarityLoss(losses.MultiSimilarityLoss):
    r""":class:`~pytorch_metric_learning.losses.MultiSimilarityLoss` with its pair masks made
    from pair counts instead of a scatter of every listed pair.

    Args:
        alpha (float, optional): the weight of the positive pairs. (default: :obj:`2`)
        beta (float, optional): the weight of the negative pairs. (default: :obj:`50`)
        base (float, optional): the shift of the exponents. (default: :obj:`0.5`)
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastMultiSimilarityLoss
        >>> from gnnas.pretrain.miners import FastAngularMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastAngularMiner(angle=20)(embeddings, labels)
        >>> settings = dict(alpha=2, beta=30, base=1.0)
        >>> fast, original = FastMultiSimilarityLoss(**settings), losses.MultiSimilarityLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        return _mat_based_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels)

    def _compute_loss(self, mat, pos_mask, neg_mask):
        pos_exp = self.distance.margin(mat, self.base)
        neg_exp = self.distance.margin(self.base, mat)
        pos_loss = (1.0 / self.alpha) * masked_logsumexp(self.alpha * pos_exp, pos_mask.bool(), add_one=True)
        neg_loss = (1.0 / self.beta) * masked_logsumexp(self.beta * neg_exp, neg_mask.bool(), add_one=True)
        return {
            "loss": {
                "losses": pos_loss + neg_loss,
                "indices": c_f.torch_arange_from_size(mat),
                "reduction_type": "element",
            }
        }


class FastLiftedStructureLoss(losses.LiftedStructureLoss):
    r""":class:`~pytorch_metric_learning.losses.LiftedStructureLoss` in :math:`O(T + B^2)`.

    For each listed positive pair :math:`(a, p)` the original takes the log-sum-exp of
    :math:`m_{neg} - d_{xn}` over the listed negative pairs :math:`(x, n)` whose anchor
    :math:`x` is :math:`a` or :math:`p` (a :math:`T \times T` mask), and averages
    :math:`\frac{1}{2}[\,\mathrm{LSE} + d_{ap} - m_{pos}]_+^2` over the listed positive pairs. That
    log-sum-exp splits by anchor: with the counts :math:`C` of the listed negative pairs,
    :math:`L_x = \log \sum_n C_{xn} \exp(m_{neg} - d_{xn})` and
    :math:`\mathrm{LSE}_{ap} = \log(e^{L_a} + e^{L_p})` (0 where neither has a negative pair, as
    in the original).

    Args:
        neg_margin (float, optional): :math:`m_{neg}`. (default: :obj:`1`)
        pos_margin (float, optional): :math:`m_{pos}`. (default: :obj:`0`)
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastLiftedStructureLoss
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(0.1, "semihard")(embeddings, labels)
        >>> settings = dict(pos_margin=0, neg_margin=1)
        >>> fast, original = FastLiftedStructureLoss(**settings), losses.LiftedStructureLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        # With a reference set the original compares anchor and positive indices of different
        # sets; only its own code gives that.
        if ref_emb is not embeddings or not _plain(self, {"loss": MeanReducer}):
            return super().compute_loss(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        c_f.labels_or_indices_tuple_required(labels, indices_tuple)
        pos_counts, neg_counts = listed_pair_counts(indices_tuple, labels, ref_labels, embeddings, ref_emb)
        num_pos, num_neg = pos_counts.sum(), neg_counts.sum()  # the original's len(a1), len(a2)
        if (num_pos <= 1 and num_neg <= 1) or num_pos == 0 or num_neg == 0:
            return self.zero_losses()
        mat = self.distance(embeddings, ref_emb)  # (B, B)
        listed = neg_counts > 0
        has_negative = listed.any(dim=1)  # (B,)
        exponents = self.distance.margin(self.neg_margin, mat) + neg_counts.log()
        per_anchor = masked_logsumexp(exponents, listed, add_one=False).squeeze(1)  # (B,) L_x
        # logaddexp of an anchor without negative pairs (L = 0 here) must add nothing
        per_anchor = per_anchor.masked_fill(~has_negative, c_f.neg_inf(mat.dtype))
        lse = torch.logaddexp(per_anchor.unsqueeze(1), per_anchor.unsqueeze(0))  # (B, B)
        same = torch.eye(len(mat), dtype=torch.bool, device=mat.device)
        lse = torch.where(same, per_anchor.unsqueeze(1), lse)  # a pair (x, x) has one end
        either = has_negative.unsqueeze(1) | has_negative.unsqueeze(0)
        lse = lse.masked_fill(~either, 0)
        per_pair = torch.relu(lse + self.distance.margin(mat, self.pos_margin)) ** 2 / 2  # (B, B)
        return {"loss": _reduced(torch.sum(pos_counts * per_pair) / num_pos)}


class FastMarginLoss(losses.MarginLoss):
    r""":class:`~pytorch_metric_learning.losses.MarginLoss` on pair counts.

    Each listed triplet adds :math:`[d_{ap} - \beta + m]_+ + [\beta - d_{an} + m]_+`, and the sum
    is divided by the number of non-zero terms; the first term depends on the positive pair
    alone and the second on the negative pair alone, so both sums and the count are sums over
    the distinct pairs weighted by their counts.

    Args:
        margin (float, optional): :math:`m`. (default: :obj:`0.2`)
        nu (float, optional): the weight of the :math:`\beta` regulariser. (default: :obj:`0`)
        beta (float, optional): :math:`\beta`. (default: :obj:`1.2`)
        **kwargs: the other arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastMarginLoss
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(0.2, "semihard")(embeddings, labels)
        >>> settings = dict(margin=0.2, nu=0, beta=1.2, learn_beta=False)
        >>> fast, original = FastMarginLoss(**settings), losses.MarginLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        plain = _plain(self, {"margin_loss": DivisorReducer, "beta_reg_loss": DivisorReducer})
        if not plain or len(self.beta) != 1 or indices_tuple is None or len(indices_tuple) != 3:
            return super().compute_loss(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        anchor_idx = indices_tuple[0]
        if len(anchor_idx) == 0:
            return self.zero_losses()
        beta = c_f.to_device(self.beta, device=embeddings.device, dtype=embeddings.dtype)
        mat = self.distance(embeddings, ref_emb)  # (B, R)
        pos_loss = torch.nn.functional.relu(self.distance.margin(mat, beta) + self.margin)  # (B, R)
        neg_loss = torch.nn.functional.relu(self.distance.margin(beta, mat) + self.margin)
        pos_counts, neg_counts = listed_pair_counts(indices_tuple, labels, ref_labels, embeddings, ref_emb)
        divisor = torch.sum(pos_counts * (pos_loss > 0)) + torch.sum(neg_counts * (neg_loss > 0))
        total = torch.sum(pos_counts * pos_loss) + torch.sum(neg_counts * neg_loss)
        value = total / divisor if divisor != 0 else torch.sum(embeddings * 0)
        return {
            "margin_loss": _reduced(value),
            "beta_reg_loss": self.compute_reg_loss(beta, anchor_idx, divisor),
        }


class FastNPairsLoss(losses.NPairsLoss):
    r""":class:`~pytorch_metric_learning.losses.NPairsLoss` that finds the first listed positive
    pair of each label with a scatter instead of sorting every listed pair.

    Args:
        **kwargs: the arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastNPairsLoss
        >>> from gnnas.pretrain.miners import FastAngularMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastAngularMiner(angle=20)(embeddings, labels)
        >>> fast, original = FastNPairsLoss(), losses.NPairsLoss()
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        c_f.labels_required(labels)
        c_f.ref_not_supported(embeddings, labels, ref_emb, ref_labels)
        anchor_idx, positive_idx, _, _ = lmu.convert_to_pairs(indices_tuple, labels)
        # The original's np.unique(labels[a], return_index=True): the first pair of each label,
        # ordered by label.
        label_values, label_codes = torch.unique(labels, return_inverse=True)  # over B, not T
        codes = label_codes[anchor_idx]  # (T,)
        order = torch.arange(len(codes), device=codes.device)
        first = torch.full((len(label_values),), len(codes), dtype=torch.long, device=codes.device)
        first = first.scatter_reduce(0, codes, order, reduce="amin")
        first = first[first < len(codes)]
        anchor_idx, positive_idx = anchor_idx[first], positive_idx[first]
        self.num_pairs = len(anchor_idx)
        if self.num_pairs == 0:
            return self.zero_losses()
        anchors, positives = embeddings[anchor_idx], embeddings[positive_idx]
        targets = c_f.to_device(torch.arange(self.num_pairs), embeddings)
        sim_mat = self.distance(anchors, positives)
        if not self.distance.is_inverted:
            sim_mat = -sim_mat
        return {
            "loss": {
                "losses": self.cross_entropy(sim_mat, targets),
                "indices": anchor_idx,
                "reduction_type": "element",
            }
        }


class FastTripletMarginLoss(losses.TripletMarginLoss):
    r""":class:`~pytorch_metric_learning.losses.TripletMarginLoss` on the mask of a fast miner.

    The original gathers :math:`d_{ap}` and :math:`d_{an}` for each of the :math:`T` triplets and
    averages :math:`v = d_{ap} - d_{an} + m` over the triplets with :math:`v > 0`. Given the
    :class:`~gnnas.pretrain.miners.MinedTriplets` of a fast miner, this class computes the same
    :math:`v` (the same operations on the same entries) for all rows of its mask at once without
    a gradient, marks :math:`M` = the kept triplets with :math:`v > 0`, and differentiates

    .. math::
        \frac{1}{|M|} \sum_{(a, p, n) \in M} v_{apn}
        = \frac{1}{|M|} \Bigl( \sum_{(a, p)} |M_{ap}|\, d_{ap} - \sum_{(a, n)} |M_{an}|\, d_{an}\Bigr)
        + m,

    whose gradient touches only the :math:`B \times B` distance matrix. Other tuples, ``swap``,
    ``smooth_loss`` and other reducers run the original's code.

    Args:
        margin (float, optional): :math:`m`. (default: :obj:`0.05`)
        **kwargs: the other arguments of pytorch-metric-learning's loss.

    Example:
        The preset's settings, the same value as the original on the same triplets:

        >>> import torch
        >>> from pytorch_metric_learning import losses
        >>> from gnnas.pretrain.losses import FastTripletMarginLoss
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(0.1, "semihard")(embeddings, labels)
        >>> settings = dict(margin=0.1)
        >>> fast, original = FastTripletMarginLoss(**settings), losses.TripletMarginLoss(**settings)
        >>> torch.allclose(fast(embeddings, labels, triplets), original(embeddings, labels, triplets))
        True
    """

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``loss(embeddings, labels, indices_tuple)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            indices_tuple (tuple, optional): the mined triplets or pairs; :obj:`None` takes every pair.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            dict: pytorch-metric-learning's loss dictionary, which the loss's reducer turns into one value.
        """
        counts = None
        if isinstance(indices_tuple, MinedTriplets) and _plain(self, {"loss": AvgNonZeroReducer}):
            counts = indices_tuple.pair_counts(len(embeddings), len(ref_emb), embeddings.dtype)
        if counts is None or self.swap or self.smooth_loss:
            return super().compute_loss(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        if len(indices_tuple[0]) == 0:
            return self.zero_losses()
        anchor_idx, positive_idx = indices_tuple.anchor_idx, indices_tuple.positive_idx
        mat = self.distance(embeddings, ref_emb)  # (B, R)
        ap_dists = mat[anchor_idx, positive_idx]  # (P,)
        with torch.no_grad():  # the original's violation of every triplet, row by row, in place
            violation = torch.index_select(mat, 0, anchor_idx)  # (P, R) d_an
            if self.distance.is_inverted:  # margin(ap, an) = an - ap
                violation.sub_(ap_dists.unsqueeze(1))
            else:  # ap - an, the same rounding as -an + ap
                violation.neg_().add_(ap_dists.unsqueeze(1))
            counted = violation.add_(self.margin).gt_(0).mul_(indices_tuple.keep)  # (P, R): M as 0/1
            per_pair = counted.sum(dim=1)  # (P,) |M_ap|
            per_negative = torch.zeros_like(mat).index_add_(0, anchor_idx, counted)  # (B, R) |M_an|
            total = per_pair.sum()
        if total == 0:
            return {"loss": _reduced(torch.sum(embeddings * 0))}
        sums = self.distance.margin(torch.sum(per_pair * ap_dists), torch.sum(per_negative * mat))
        return {"loss": _reduced(sums / total + self.margin)}
