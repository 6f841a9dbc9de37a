r"""Faster drop-ins for pytorch-metric-learning's triplet miners, same triplets in the same order.

pytorch-metric-learning's :class:`~pytorch_metric_learning.miners.TripletMarginMiner` and
:class:`~pytorch_metric_learning.miners.AngularMiner` first list every triplet of the batch through
a dense :math:`B \times B \times B` mask (134 million entries for :math:`B = 512`), then test each
listed triplet; on a CPU that takes one to several seconds per batch of 512, many times the cost of
the networks. The miners here walk the positive pairs :math:`(a, p)` and, for each, all candidates
:math:`n` at once, a :math:`P \times B` matrix for :math:`P` positive pairs:

* :class:`FastTripletMarginMiner` takes the same entries of the same distance matrix and the
  same subtractions as the original, so its triplets are exactly the original's.
* :class:`FastAngularMiner` decides most triplets from a cheap form of the angle test (a matrix
  product) and recomputes the few near the threshold exactly as the original does, so its
  triplets are again exactly the original's.

Both return the triplets in the original's (lexicographic) order; the tests check them against
the original classes on many random batches.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pytorch_metric_learning.miners import AngularMiner, TripletMarginMiner
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

__all__ = [
    "FastTripletMarginMiner",
    "FastAngularMiner",
    "MinedTriplets",
    "mask_to_triplets",
    "ANGLE_BAND_SAFETY",
    "nonzero_2d",
]

#: Safety factor on the rounding bound inside which :class:`FastAngularMiner` redoes the
#: original's computation (the bound itself already covers the worst case).
ANGLE_BAND_SAFETY = 2.0


def nonzero_2d(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.where(mask)`` for a 2-D mask: the rows and columns of its ``True`` entries, row by
    row; on the CPU through numpy, which lists millions of entries ten times faster.

    Args:
        mask (torch.Tensor): bool ``(N, M)``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: long ``(K,)`` rows and columns of the ``K`` entries.
    """
    if mask.device.type != "cpu":
        return torch.where(mask)
    mask = mask.contiguous().numpy()
    flat = np.flatnonzero(mask)  # row * num_cols + column
    rows, cols = np.divmod(flat, max(mask.shape[1], 1))
    return torch.from_numpy(rows), torch.from_numpy(cols)


class MinedTriplets(tuple):
    r"""The triplets ``(anchors, positives, negatives)`` a miner returns, with the mask they came from.

    To pytorch-metric-learning it is the usual tuple of three long tensors. It also keeps the
    positive pairs ``(anchor_idx[i], positive_idx[i])`` and the bool ``(P, R)`` mask ``keep``
    whose row :math:`i` marks the negatives kept with pair :math:`i`, from which
    :meth:`pair_counts` counts how often each positive and each negative pair occurs in the
    triplets without going over the millions of triplets (the losses of
    :mod:`gnnas.pretrain.losses` use it).

    Args:
        triplets (tuple[torch.Tensor, torch.Tensor, torch.Tensor]): long ``(T,)`` anchors,
            positives and negatives.
        anchor_idx (torch.Tensor): long ``(P,)``, the anchor of each row of ``keep``.
        positive_idx (torch.Tensor): long ``(P,)``, the positive of each row, each pair once.
        keep (torch.Tensor): bool ``(P, R)``.
        per_pair (torch.Tensor, optional): long ``(P,)``, the ``True`` entries of each row of
            ``keep`` when already counted. (default: :obj:`None`)

    Example:
        >>> import torch
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner, MinedTriplets
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> triplets = FastTripletMarginMiner(margin=0.2)(embeddings, labels)
        >>> isinstance(triplets, MinedTriplets), len(triplets)
        (True, 3)
        >>> triplets.keep.shape                             # 4 * 8 * 7 positive pairs, 32 negatives
        torch.Size([224, 32])
        >>> positive, negative = triplets.pair_counts(32, 32)
        >>> int(positive.sum()) == int(negative.sum()) == len(triplets[0])
        True
    """

    anchor_idx: torch.Tensor
    positive_idx: torch.Tensor
    keep: torch.Tensor

    def __new__(cls, triplets: tuple, anchor_idx: torch.Tensor, positive_idx: torch.Tensor,
                keep: torch.Tensor, per_pair: torch.Tensor | None = None) -> MinedTriplets:
        obj = super().__new__(cls, triplets)
        obj.anchor_idx, obj.positive_idx, obj.keep = anchor_idx, positive_idx, keep
        obj.per_pair = keep.sum(dim=1) if per_pair is None else per_pair
        return obj

    def pair_counts(
        self, num_rows: int, num_cols: int, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        r"""How often each positive pair :math:`(a, p)` and each negative pair :math:`(a, n)` occurs.

        Args:
            num_rows (int): the number of embeddings (anchors index them).
            num_cols (int): the number of reference embeddings (positives and negatives).
            dtype (torch.dtype, optional): a floating-point dtype for the counts (whole numbers,
                exact below :math:`2^{24}` in float32). (default: :obj:`torch.float32`)

        Returns:
            tuple[torch.Tensor, torch.Tensor] or None: ``(num_rows, num_cols)`` counts of the
            positive and of the negative pairs, or :obj:`None` when the mask does not fit those
            sizes (the caller then counts the triplets themselves).
        """
        keep = self.keep
        if keep.dim() != 2 or keep.size(1) != num_cols or keep.size(0) != len(self.anchor_idx):
            return None
        if len(self.anchor_idx) and int(self.anchor_idx.max()) >= num_rows:
            return None
        positive = torch.zeros(num_rows, num_cols, dtype=dtype, device=keep.device)
        positive[self.anchor_idx, self.positive_idx] = self.per_pair.to(dtype)
        negative = torch.zeros(num_rows, num_cols, dtype=dtype, device=keep.device)
        negative.index_add_(0, self.anchor_idx, keep.to(dtype))  # the rows of one anchor add up
        return positive, negative


def mask_to_triplets(
    keep: torch.Tensor, anchor_idx: torch.Tensor, positive_idx: torch.Tensor
) -> MinedTriplets:
    r"""Lists the triplets of a pair-by-negative mask in lexicographic order.

    Row :math:`i` of ``keep`` belongs to the positive pair ``(anchor_idx[i], positive_idx[i])``
    and column :math:`n` to the negative :math:`n`. Equals
    ``pair, n = torch.where(keep); (anchor_idx[pair], positive_idx[pair], n)``; on the CPU it
    lists the entries with numpy, several times faster than :func:`torch.nonzero` for millions
    of triplets.

    Args:
        keep (torch.Tensor): bool ``(P, R)``, which triplets to keep.
        anchor_idx (torch.Tensor): long ``(P,)``, the anchor of each row.
        positive_idx (torch.Tensor): long ``(P,)``, the positive of each row.

    Returns:
        MinedTriplets: long ``(T,)`` anchors, positives and negatives, with ``keep``.
    """
    if keep.device.type != "cpu":
        pair, negative_idx = torch.where(keep)
        triplets = (anchor_idx[pair], positive_idx[pair], negative_idx)
        return MinedTriplets(triplets, anchor_idx, positive_idx, keep)
    keep = keep.contiguous()
    mask = keep.numpy()
    num_cols = mask.shape[1]
    negatives = np.flatnonzero(mask)  # (T,) row-major, as torch.where: row * num_cols + column
    per_row = np.count_nonzero(mask, axis=1)  # (P,)
    if num_cols & (num_cols - 1) == 0:  # a power of two: the column is the low bits
        np.bitwise_and(negatives, num_cols - 1, out=negatives)
    else:
        row_start = np.arange(0, mask.size, num_cols, dtype=np.int64)
        np.subtract(negatives, np.repeat(row_start, per_row), out=negatives)
    anchors = np.repeat(anchor_idx.numpy(), per_row)
    positives = np.repeat(positive_idx.numpy(), per_row)
    triplets = (torch.from_numpy(anchors), torch.from_numpy(positives), torch.from_numpy(negatives))
    return MinedTriplets(triplets, anchor_idx, positive_idx, keep, torch.from_numpy(per_row))


class FastTripletMarginMiner(TripletMarginMiner):
    r""":class:`~pytorch_metric_learning.miners.TripletMarginMiner` without the dense triplet mask.

    For every anchor :math:`a`, positive :math:`p` (same label, :math:`p \ne a`) and negative
    :math:`n` (another label), with :math:`m = d(a, n) - d(a, p)` (:math:`d(a, p) - d(a, n)` for
    a similarity), the triplet is kept when :math:`m \le` ``margin`` (``"all"``), and also
    :math:`m \le 0` (``"hard"``) or :math:`m > 0` (``"semihard"``); ``"easy"`` keeps
    :math:`m >` ``margin``.

    Args:
        margin (float, optional): the margin. (default: :obj:`0.2`)
        type_of_triplets (str, optional): ``"all"``, ``"hard"``, ``"semihard"`` or ``"easy"``.
            (default: :obj:`"all"`)
        **kwargs: the arguments of pytorch-metric-learning's ``BaseMiner`` (``distance``,
            ``collect_stats``).

    Raises:
        ValueError: if ``type_of_triplets`` is not one of the four.

    Example:
        The same triplets as pytorch-metric-learning's miner, in the same order:

        >>> import torch
        >>> from pytorch_metric_learning import miners
        >>> from gnnas.pretrain.miners import FastTripletMarginMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> fast = FastTripletMarginMiner(margin=0.2, type_of_triplets="semihard")
        >>> fast
        FastTripletMarginMiner(margin=0.2, type_of_triplets='semihard')
        >>> original = miners.TripletMarginMiner(margin=0.2, type_of_triplets="semihard")
        >>> all(torch.equal(a, b) for a, b in zip(fast(embeddings, labels), original(embeddings, labels)))
        True
    """

    def __init__(self, margin: float = 0.2, type_of_triplets: str = "all", **kwargs) -> None:
        if type_of_triplets not in ("all", "hard", "semihard", "easy"):
            raise ValueError(
                f"type_of_triplets must be 'all', 'hard', 'semihard' or 'easy', got {type_of_triplets!r}"
            )
        super().__init__(margin=margin, type_of_triplets=type_of_triplets, **kwargs)

    def mine(self, embeddings, labels, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``miner(embeddings, labels)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            tuple[torch.Tensor, torch.Tensor, torch.Tensor]: the anchors, positives and negatives of
            the kept triplets, in the original's order (a :class:`MinedTriplets` when the fast path
            runs).
        """
        matches, diffs = lmu.get_matches_and_diffs(labels, ref_labels)
        anchor_idx, positive_idx = nonzero_2d(matches)  # (P,), lexicographic as in the original
        mat = self.distance(embeddings, ref_emb)  # (B, R)
        ap_dist = mat[anchor_idx, positive_idx]  # (P,)
        if self.collect_stats:
            an_dist = mat[anchor_idx]  # (P, R)
            triplet_margin = self.distance.margin(an_dist, ap_dist.unsqueeze(1))  # sign as below
            valid = diffs[anchor_idx].bool()  # (P, R): n has another label than a
            all_ap = ap_dist.unsqueeze(1).expand_as(an_dist)[valid]
            self.set_stats(all_ap, an_dist[valid], triplet_margin[valid])
        # NaN where n has the anchor's label: every comparison below is then False.
        an_dist = torch.index_select(mat.masked_fill(diffs == 0, math.nan), 0, anchor_idx)  # (P, R)
        if self.distance.is_inverted:  # ap - an, in place (the same rounding)
            triplet_margin = an_dist.neg_().add_(ap_dist.unsqueeze(1))
        else:
            triplet_margin = an_dist.sub_(ap_dist.unsqueeze(1))
        if self.type_of_triplets == "easy":
            keep = triplet_margin > self.margin
        else:
            keep = triplet_margin <= self.margin
            if self.type_of_triplets == "hard":
                keep &= triplet_margin <= 0
            elif self.type_of_triplets == "semihard":
                keep &= triplet_margin > 0
        return mask_to_triplets(keep, anchor_idx, positive_idx)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(margin={self.margin}, type_of_triplets={self.type_of_triplets!r})"


class FastAngularMiner(AngularMiner):
    r""":class:`~pytorch_metric_learning.miners.AngularMiner` without the dense triplet mask.

    For every anchor :math:`a`, positive :math:`p` (same label, :math:`p \ne a`) and negative
    :math:`n` (another label), with the centre :math:`c = (a + p) / 2`, the original keeps the
    triplet when

    .. math::
        \arctan \frac{\lVert a - p \rVert}{2 \lVert n - c \rVert} > \alpha,

    its distances being :func:`torch.nn.functional.pairwise_distance`, which adds
    :math:`\epsilon = 10^{-6}` to each difference. Squared, with :math:`f = 4 \tan^2 \alpha`,
    the embeddings moved by their mean :math:`\mu` (distances do not change) and
    :math:`n' = n - \mu + \epsilon`, the test is :math:`s > 0` for

    .. math::
        s = \lVert a - p \rVert^2 - f \lVert n' - c' \rVert^2
          = \bigl(\lVert a - p \rVert^2 - f \lVert c' \rVert^2\bigr)
          + h(a', n) + h(p', n), \qquad h(x, n) = f\, x^\top n' - \tfrac{f}{2} \lVert n' \rVert^2,

    so one :math:`B \times B` matrix :math:`h` (a matrix product) gives :math:`s` for all
    :math:`P \times B` pairs and negatives. Its rounding errs by at most
    :math:`(D + 6)\,\varepsilon` times the size of its terms, and the original's own rounding
    (the centre and the norms of :math:`D` squares) by at most about
    :math:`(2D + 14)\,\varepsilon` of those plus :math:`2 \varepsilon f \lVert c \rVert
    \lVert n - c \rVert`. Triplets with :math:`|s|` within :data:`ANGLE_BAND_SAFETY` times
    that bound are recomputed with the original's own operations; the rest are decided by the
    sign of :math:`s`. So the miner keeps exactly the original's triplets, in the same order.

    With ``collect_stats=True``, embeddings in a half-precision type or embeddings that are not
    all finite it runs the original (the statistics need every angle; the bound assumes finite
    float32 or float64 numbers).

    Args:
        angle (float, optional): the threshold :math:`\alpha` in degrees. (default: :obj:`20`)
        **kwargs: the arguments of pytorch-metric-learning's ``BaseMiner`` (``distance`` must be
            the default ``LpDistance(p=2, power=1, normalize_embeddings=True)``, as the original
            asserts; ``collect_stats``).

    Example:
        The same triplets as pytorch-metric-learning's miner, in the same order:

        >>> import torch
        >>> from pytorch_metric_learning import miners
        >>> from gnnas.pretrain.miners import FastAngularMiner
        >>> embeddings = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
        >>> labels = torch.arange(4).repeat_interleave(8)   # 4 classes of 8 graphs
        >>> fast, original = FastAngularMiner(angle=20), miners.AngularMiner(angle=20)
        >>> fast
        FastAngularMiner(angle=20)
        >>> all(torch.equal(a, b) for a, b in zip(fast(embeddings, labels), original(embeddings, labels)))
        True
    """

    def mine(self, embeddings, labels, ref_emb, ref_labels):
        """pytorch-metric-learning's hook: ``miner(embeddings, labels)`` calls it.

        Args:
            embeddings (torch.Tensor): ``(B, D)``.
            labels (torch.Tensor): ``(B,)``, the class of each embedding.
            ref_emb (torch.Tensor): ``(R, D)``, the reference embeddings (``embeddings`` without a
                reference set).
            ref_labels (torch.Tensor): ``(R,)``.

        Returns:
            tuple[torch.Tensor, torch.Tensor, torch.Tensor]: the anchors, positives and negatives of
            the kept triplets, in the original's order (a :class:`MinedTriplets` when the fast path
            runs).
        """
        if (
            self.collect_stats
            or embeddings.dtype not in (torch.float32, torch.float64)
            or not (torch.isfinite(embeddings).all() and torch.isfinite(ref_emb).all())
        ):
            return super().mine(embeddings, labels, ref_emb, ref_labels)
        matches, diffs = lmu.get_matches_and_diffs(labels, ref_labels)
        anchor_idx, positive_idx = nonzero_2d(matches)  # (P,), lexicographic as in the original
        if anchor_idx.numel() == 0:
            return anchor_idx, positive_idx, positive_idx.clone()
        anchors, positives = embeddings[anchor_idx], ref_emb[positive_idx]  # (P, D)
        ap_sq = self.distance.pairwise_distance(anchors, positives).square()  # (P,), the original's
        mean = ref_emb.mean(dim=0)
        shifted = ref_emb - mean + 1e-6  # (R, D) n': pairwise_distance(n, c) is |n - c + eps|
        n_sq = shifted.square().sum(dim=1)  # (R,)
        anchors_c, positives_c = anchors - mean, positives - mean
        c_sq = ((anchors_c + positives_c) / 2).square().sum(dim=1)  # (P,)
        factor = 4.0 * math.tan(float(self.angle)) ** 2

        def h(x: torch.Tensor) -> torch.Tensor:  # (len(x), R)
            return torch.addmm(n_sq.unsqueeze(0), x - mean, shifted.t(), beta=-factor / 2, alpha=factor)

        h_ref = h(ref_emb)
        h_anchor = h_ref if embeddings is ref_emb else h(embeddings)
        h_anchor = h_anchor.masked_fill(diffs == 0, -math.inf)  # n of the anchor's label: never kept
        score = torch.index_select(h_anchor, 0, anchor_idx)  # (P, R)
        score += torch.index_select(h_ref, 0, positive_idx)
        score += (ap_sq - factor * c_sq).unsqueeze(1)
        keep = score > 0

        reach = (anchors_c.norm(dim=1) + positives_c.norm(dim=1)) / 2 + n_sq.max().sqrt()  # (P,)
        centre = (anchors.norm(dim=1) + positives.norm(dim=1)) / 2  # bounds |c|
        eps = torch.finfo(embeddings.dtype).eps
        size = ap_sq + factor * reach.square()
        bound = ANGLE_BAND_SAFETY * eps * ((3 * embeddings.size(1) + 20) * size + 2 * factor * centre * reach)
        pair, negative_idx = nonzero_2d(score.abs_() <= bound.unsqueeze(1))
        if pair.numel():
            a, p = anchor_idx[pair], positive_idx[pair]
            keep[pair, negative_idx] = self._exact(embeddings[a], ref_emb[p], ref_emb[negative_idx])
        return mask_to_triplets(keep, anchor_idx, positive_idx)

    def _exact(self, anchors, positives, negatives):
        """The original's test, operation for operation, on the listed triplets."""
        centers = (anchors + positives) / 2
        ap_dist = self.distance.pairwise_distance(anchors, positives)
        nc_dist = self.distance.pairwise_distance(negatives, centers)
        angles = torch.atan(ap_dist / (2 * nc_dist))
        return angles > self.angle

    def __repr__(self) -> str:
        return f"{type(self).__name__}(angle={math.degrees(float(self.angle)):g})"
