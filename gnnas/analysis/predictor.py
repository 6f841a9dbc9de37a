r"""Few-shot accuracy prediction: regressors on cell encodings, the GED kernel, and rank metrics.

How well does an encoding of cells (learned embeddings ``z``, hand-made features, or the exact
graph edit distance) let a regressor trained on a few labelled cells rank unseen cells by
accuracy? The pieces, used by ``benchmarks/predictor.py``:

- :class:`GaussianProcess`: GP regression with the kernel :math:`s^2 \exp(-D/\ell)` on a
  precomputed distance matrix ``D``, its hyper-parameters set by marginal likelihood on the
  training set only. With ``D`` the squared Euclidean distance (:func:`squared_distances`) it is
  the RBF kernel on feature vectors; with ``D`` the exact GED it is the GED kernel
  (:func:`ged_kernel`).
- :class:`MLPRegressor`: a small MLP (:class:`~gnnas.nn.MLPPredictor`) trained on the labels.
- :func:`rank_metrics`: Kendall's :math:`\tau`, Spearman's :math:`\rho` and the precision of the
  predicted top 1 % (:func:`top_precision`) on a test set.
- :func:`mean_interval`: a mean and its 95 % Student-t interval over seeds.

Example::

    >>> import numpy as np
    >>> from gnnas.analysis.predictor import GaussianProcess, rank_metrics, squared_distances
    >>> x, y = np.random.default_rng(0).random((64, 5)), ...          # features and accuracies
    >>> gp = GaussianProcess().fit(squared_distances(x[:48]), y[:48])
    >>> rank_metrics(y[48:], gp.predict(squared_distances(x[48:], x[:48])))
    {'kendall_tau': ..., 'spearman_rho': ..., 'top_precision': ...}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import linalg, optimize, stats

from gnnas.analysis.locality import spearman

__all__ = [
    "GaussianProcess", "MLPRegressor", "ged_kernel", "exponential_kernel", "squared_distances",
    "kendall_tau", "top_precision", "rank_metrics", "mean_interval",
]


# ---------------------------------------------------------------------------------------- kernels
def squared_distances(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    r"""Squared Euclidean distances :math:`D_{ij} = \lVert x_i - y_j \rVert^2`.

    Args:
        x (numpy.ndarray): ``(N, F)`` feature vectors.
        y (numpy.ndarray, optional): ``(M, F)``; :obj:`None` means ``x``. (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``float64`` ``(N, M)``, clipped at 0 against rounding, exactly 0 on the
        diagonal when ``y`` is :obj:`None`.

    Raises:
        ValueError: if the inputs are not 2-D with the same number of features.
    """
    x = np.asarray(x, dtype=np.float64)
    same = y is None
    y = x if y is None else np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (N, F) and (M, F), got {x.shape} and {y.shape}")
    out = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    np.maximum(out, 0.0, out=out)
    if same:
        np.fill_diagonal(out, 0.0)
    return out


def exponential_kernel(distances: np.ndarray, length_scale: float) -> np.ndarray:
    r"""The kernel :math:`k = \exp(-D / \ell)` of a distance matrix.

    Args:
        distances (numpy.ndarray): ``D``, any shape, non-negative.
        length_scale (float): :math:`\ell > 0`.

    Returns:
        numpy.ndarray: ``float64``, the shape of ``distances``.

    Raises:
        ValueError: if ``length_scale`` is not positive.
    """
    if not length_scale > 0:
        raise ValueError(f"length_scale must be > 0, got {length_scale}")
    return np.exp(-np.asarray(distances, dtype=np.float64) / length_scale)


def ged_kernel(cells_a: Any, cells_b: Any = None, *, length_scale: float = 1.0,
               num_workers: int | None = None) -> np.ndarray:
    r"""The GED kernel :math:`K_{ij} = \exp(-\operatorname{GED}(a_i, b_j) / \ell)`, exact.

    The distances are :func:`gnnas.ged.pairwise_ged`'s (unit costs, free input and output). The
    matrix of a set with itself is symmetric with ones on the diagonal; it is *not* positive
    semi-definite for every :math:`\ell` (GED is not a Euclidean distance), which
    :class:`GaussianProcess` handles.

    Args:
        cells_a (Sequence[ArchSpec] | CellArray): ``N`` cells.
        cells_b (Sequence[ArchSpec] | CellArray, optional): ``M`` cells; :obj:`None` means
            ``cells_a``. (default: :obj:`None`)
        length_scale (float, optional): :math:`\ell`. (default: :obj:`1.0`)
        num_workers (int, optional): threads of the distance computation; :obj:`None` uses every
            core. (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``float64`` ``(N, M)``.

    Raises:
        ValueError: if an element is not a cell or ``length_scale`` is not positive.
    """
    from gnnas.ged import pairwise_ged

    return exponential_kernel(pairwise_ged(cells_a, cells_b, num_workers=num_workers), length_scale)


# ---------------------------------------------------------------------------------------- regressors
def _standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) < 2:
        raise ValueError(f"y must be (n,) with n >= 2, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("y must be finite")
    mean, scale = float(y.mean()), float(y.std())
    scale = scale if scale > 0 else 1.0
    return (y - mean) / scale, mean, scale


class GaussianProcess:
    r"""Gaussian-process regression on a precomputed distance matrix, hyper-parameters by evidence.

    The prior is :math:`f \sim \mathcal{GP}(0, s^2 \exp(-D/\ell))` on the standardized targets
    (mean 0, standard deviation 1 over the training set) with Gaussian noise :math:`\sigma^2`. The
    hyper-parameters :math:`(\ell, s^2, \sigma^2)` maximize the log marginal likelihood of the
    training targets

    .. math::
        \log p(\mathbf{y}) = -\tfrac{1}{2} \mathbf{y}^\top (K + \sigma^2 I)^{-1} \mathbf{y}
        - \tfrac{1}{2} \log |K + \sigma^2 I| - \tfrac{n}{2} \log 2\pi,

    :math:`\ell` first over a grid of ``num_length_scales`` values spaced evenly in log scale from
    :math:`2^{-4}` to :math:`2^{8}` times the median training distance, then refined by Brent's
    method between the grid neighbours of the best value; for each :math:`\ell`, :math:`(s^2,
    \sigma^2)` by L-BFGS in the eigenbasis of :math:`\exp(-D/\ell)`, where the likelihood costs
    :math:`O(n)`. A kernel matrix that is not positive semi-definite (as the GED kernel can be) has
    its negative eigenvalues set to 0 on the training set (the "clip" transformation of indefinite
    similarities). The prediction is the posterior mean, returned in the targets' units.

    Args:
        num_length_scales (int, optional): size of the grid of :math:`\ell`, at least 2.
            (default: :obj:`7`)

    Raises:
        ValueError: if ``num_length_scales`` is not an integer of at least 2.

    Attributes:
        length_scale, signal_variance, noise_variance (float): the chosen :math:`\ell, s^2,
            \sigma^2` (after :meth:`fit`).
        log_marginal_likelihood (float): its value at the optimum (standardized targets).

    Example:
        >>> gp = GaussianProcess().fit(train_distances, y)          # (n, n), (n,)
        >>> mean = gp.predict(test_distances)                        # (m, n) -> (m,)
    """

    def __init__(self, num_length_scales: int = 7) -> None:
        if not isinstance(num_length_scales, int) or num_length_scales < 2:
            raise ValueError(f"num_length_scales must be an int >= 2, got {num_length_scales!r}")
        self.num_length_scales = num_length_scales
        self._alpha: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_length_scales={self.num_length_scales})"

    def length_scales(self, distances: np.ndarray) -> np.ndarray:
        """The grid of :math:`\\ell` for a training distance matrix (see the class docstring).

        Args:
            distances (numpy.ndarray): ``(n, n)`` distances between the training cells.

        Returns:
            numpy.ndarray: ``num_length_scales`` values from :math:`2^{-4}` to :math:`2^{8}` times
            the median positive off-diagonal distance (1 when there is none), evenly in log scale.
        """
        off = distances[~np.eye(len(distances), dtype=bool)]
        positive = off[off > 0]
        median = float(np.median(positive)) if len(positive) else 1.0
        return median * np.logspace(-4, 8, self.num_length_scales, base=2.0)

    @staticmethod
    def _evidence(eigenvalues: np.ndarray, projected: np.ndarray) -> tuple[float, float, float]:
        """Best ``(log evidence, s², σ²)`` for one kernel's eigenvalues and ``Uᵀy``."""
        n = len(eigenvalues)
        squares = projected**2

        def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
            s2, n2 = np.exp(theta)
            c = s2 * eigenvalues + n2
            value = 0.5 * (squares / c).sum() + 0.5 * np.log(c).sum()
            common = 0.5 * (1.0 / c - squares / c**2)  # d value / d c
            return value, np.array([(common * eigenvalues).sum() * s2, common.sum() * n2])

        bounds = [(math.log(1e-4), math.log(1e4)), (math.log(1e-6), math.log(1e2))]
        result = optimize.minimize(negative, np.log([1.0, 0.1]), jac=True, method="L-BFGS-B", bounds=bounds)
        s2, n2 = np.exp(result.x)
        return -float(result.fun) - 0.5 * n * math.log(2 * math.pi), float(s2), float(n2)

    def fit(self, distances: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Chooses the hyper-parameters and conditions on the training targets.

        Args:
            distances (numpy.ndarray): ``(n, n)`` symmetric non-negative distances between the
                training cells (e.g. :func:`squared_distances`, or exact GED).
            y (numpy.ndarray): ``(n,)`` targets, ``n >= 2``.

        Returns:
            GaussianProcess: ``self``.

        Raises:
            ValueError: if the shapes disagree, ``distances`` is not symmetric and non-negative, or
                ``y`` is not finite.
        """
        distances = np.asarray(distances, dtype=np.float64)
        target, self._mean, self._scale = _standardize(y)
        n = len(target)
        if distances.shape != (n, n):
            raise ValueError(f"distances must be ({n}, {n}) for {n} targets, got {distances.shape}")
        if (distances < 0).any() or not np.allclose(distances, distances.T):
            raise ValueError("distances must be symmetric and non-negative")
        best: list[tuple] = []  # the fit of the best length scale so far

        def negative_evidence(log_length_scale: float) -> float:
            length_scale = float(math.exp(log_length_scale))
            eigenvalues, vectors = linalg.eigh(exponential_kernel(distances, length_scale))
            eigenvalues = np.maximum(eigenvalues, 0.0)
            projected = vectors.T @ target
            evidence, s2, n2 = self._evidence(eigenvalues, projected)
            if not best or evidence > best[0][0]:
                best[:] = [(evidence, length_scale, s2, n2, eigenvalues, vectors, projected)]
            return -evidence

        grid = np.log(self.length_scales(distances))
        values = [negative_evidence(x) for x in grid]
        k = int(np.argmin(values))
        low, high = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        optimize.minimize_scalar(negative_evidence, bounds=(low, high), method="bounded",
                                 options={"xatol": 0.05})
        (self.log_marginal_likelihood, self.length_scale, self.signal_variance, self.noise_variance,
         eigenvalues, vectors, projected) = best[0]
        c = self.signal_variance * eigenvalues + self.noise_variance
        self._alpha = vectors @ (projected / c)  # (K + σ² I)⁻¹ y
        self._n = n
        return self

    def predict(self, distances: np.ndarray) -> np.ndarray:
        """The posterior mean at new cells.

        Args:
            distances (numpy.ndarray): ``(m, n)`` distances from the new cells to the training cells,
                of the same kind as those given to :meth:`fit`.

        Returns:
            numpy.ndarray: ``(m,)`` predictions, in the units of the training targets.

        Raises:
            ValueError: if called before :meth:`fit` or the shape does not match.
        """
        if self._alpha is None:
            raise ValueError("fit the GaussianProcess before predicting")
        distances = np.asarray(distances, dtype=np.float64)
        if distances.ndim != 2 or distances.shape[1] != self._n:
            raise ValueError(f"distances must be (m, {self._n}), got {distances.shape}")
        cross = self.signal_variance * exponential_kernel(distances, self.length_scale)
        return self._mean + self._scale * (cross @ self._alpha)


class MLPRegressor:
    r"""A small MLP (:class:`~gnnas.nn.MLPPredictor`, no sigmoid) fitted to standardized targets.

    Adam on the mean squared error for a fixed number of ``steps``, each on ``batch_size`` labelled
    cells drawn without replacement within an epoch (all of them when there are fewer).

    Args:
        hidden_channels (int, optional): width of the hidden layers. (default: :obj:`64`)
        num_layers (int, optional): linear layers, the output layer included. (default: :obj:`3`)
        steps (int, optional): optimizer steps. (default: :obj:`1000`)
        batch_size (int, optional): cells per step. (default: :obj:`64`)
        lr (float, optional): Adam's learning rate. (default: :obj:`1e-3`)
        weight_decay (float, optional): Adam's weight decay. (default: :obj:`1e-4`)

    Raises:
        ValueError: if a size or ``steps`` is not a positive integer, ``lr`` is not positive or
            ``weight_decay`` is negative.

    Example:
        >>> mlp = MLPRegressor().fit(x_train, y_train, seed=0)     # (n, F), (n,)
        >>> mlp.predict(x_test)                                      # (m, F) -> (m,)
    """

    def __init__(self, hidden_channels: int = 64, num_layers: int = 3, steps: int = 1000,
                 batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-4) -> None:
        for name, value in (("hidden_channels", hidden_channels), ("num_layers", num_layers),
                            ("steps", steps), ("batch_size", batch_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not lr > 0 or weight_decay < 0:
            raise ValueError(f"lr must be > 0 and weight_decay >= 0, got {lr} and {weight_decay}")
        self.hidden_channels, self.num_layers = hidden_channels, num_layers
        self.steps, self.batch_size, self.lr, self.weight_decay = steps, batch_size, lr, weight_decay
        self.model: Any = None

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(hidden_channels={self.hidden_channels}, "
                f"num_layers={self.num_layers}, steps={self.steps}, batch_size={self.batch_size}, "
                f"lr={self.lr}, weight_decay={self.weight_decay})")

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int = 0) -> MLPRegressor:
        """Trains a fresh MLP on ``(x, y)``.

        Args:
            x (numpy.ndarray): ``(n, F)`` features.
            y (numpy.ndarray): ``(n,)`` targets, ``n >= 2``.
            seed (int, optional): seeds the initialization and the batches (torch's global
                generator is left as it was). (default: :obj:`0`)

        Returns:
            MLPRegressor: ``self``.

        Raises:
            ValueError: if the shapes disagree or a value is not finite.
        """
        from gnnas.nn import MLPPredictor

        features = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        target, self._mean, self._scale = _standardize(y)
        n = len(target)
        if features.dim() != 2 or features.shape[0] != n:
            raise ValueError(f"x must be ({n}, F) for {n} targets, got {tuple(features.shape)}")
        if not torch.isfinite(features).all():
            raise ValueError("x must be finite")
        labels = torch.as_tensor(target, dtype=torch.float32)
        generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = MLPPredictor(features.shape[1], hidden_channels=self.hidden_channels,
                                 num_layers=self.num_layers, sigmoid=False)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        batch = min(self.batch_size, n)
        order = torch.randperm(n, generator=generator)
        position = 0
        model.train()
        for _ in range(self.steps):
            if position + batch > n:
                order, position = torch.randperm(n, generator=generator), 0
            index = order[position:position + batch]
            position += batch
            loss = torch.nn.functional.mse_loss(model(features[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.model = model.eval()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicts the targets of new cells.

        Args:
            x (numpy.ndarray): ``(m, F)`` features.

        Returns:
            numpy.ndarray: ``(m,)`` float64 predictions, in the units of the training targets.

        Raises:
            ValueError: if called before :meth:`fit`.
        """
        if self.model is None:
            raise ValueError("fit the MLPRegressor before predicting")
        with torch.no_grad():
            out = self.model(torch.as_tensor(np.asarray(x), dtype=torch.float32))
        return self._mean + self._scale * out.numpy().astype(np.float64)


# ---------------------------------------------------------------------------------------- metrics
def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must be (m,) of the same length, got {y_true.shape} and "
                         f"{y_pred.shape}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("y_true and y_pred must be finite")
    return y_true, y_pred


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    r"""Kendall's :math:`\tau_b` between true and predicted values (:func:`scipy.stats.kendalltau`).

    A constant prediction ranks nothing: its :math:`\tau` (undefined) is reported as 0.

    Args:
        y_true (numpy.ndarray): ``(m,)``.
        y_pred (numpy.ndarray): ``(m,)``.

    Returns:
        float: in :math:`[-1, 1]`.

    Raises:
        ValueError: if the shapes differ or a value is not finite.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if len(y_true) < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return 0.0
    return float(stats.kendalltau(y_true, y_pred).statistic)


def top_precision(y_true: np.ndarray, y_pred: np.ndarray, fraction: float = 0.01) -> float:
    r"""Precision of the predicted top: the share of the :math:`k` cells predicted best that are
    among the :math:`k` truly best, :math:`k = \lceil \text{fraction} \cdot m \rceil`.

    Ties are broken by position (the earlier cell first), in both rankings.

    Args:
        y_true (numpy.ndarray): ``(m,)`` true values (higher is better).
        y_pred (numpy.ndarray): ``(m,)`` predictions.
        fraction (float, optional): the top share, in :math:`(0, 1]`. (default: :obj:`0.01`)

    Returns:
        float: in :math:`[0, 1]`.

    Raises:
        ValueError: if the shapes differ, a value is not finite or ``fraction`` is out of range.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    k = max(1, math.ceil(fraction * len(y_true)))
    best_true = np.argsort(-y_true, kind="stable")[:k]
    best_pred = np.argsort(-y_pred, kind="stable")[:k]
    return len(np.intersect1d(best_true, best_pred)) / k


def rank_metrics(y_true: np.ndarray, y_pred: np.ndarray, top_fraction: float = 0.01) -> dict[str, float]:
    r"""How well predictions rank a test set: Kendall's :math:`\tau`, Spearman's :math:`\rho` and
    :func:`top_precision`.

    Spearman's :math:`\rho` is :func:`gnnas.analysis.spearman`'s; like :math:`\tau` it is reported
    as 0 for a constant prediction.

    Args:
        y_true (numpy.ndarray): ``(m,)`` true values.
        y_pred (numpy.ndarray): ``(m,)`` predictions.
        top_fraction (float, optional): the top share of :func:`top_precision`. (default: :obj:`0.01`)

    Returns:
        dict[str, float]: ``kendall_tau``, ``spearman_rho``, ``top_precision``.

    Raises:
        ValueError: as :func:`top_precision`.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    rho = spearman(y_true, y_pred)["rho"]
    return {"kendall_tau": kendall_tau(y_true, y_pred), "spearman_rho": 0.0 if rho is None else rho,
            "top_precision": top_precision(y_true, y_pred, top_fraction)}


def mean_interval(values: Any, level: float = 0.95) -> dict[str, float | int | None]:
    r"""The mean of values (e.g. one per seed) and its Student-t confidence interval.

    .. math::
        \bar x \pm t_{(1 + \text{level})/2,\; k-1} \, \frac{s}{\sqrt{k}}

    with :math:`s` the sample standard deviation of the :math:`k` values.

    Args:
        values (array_like): ``k`` finite numbers.
        level (float, optional): the confidence level. (default: :obj:`0.95`)

    Returns:
        dict: ``mean``, ``low``, ``high``, ``half_width`` (:obj:`None` for fewer than 2 values),
        ``std`` (sample, :obj:`None` likewise) and ``count``.

    Raises:
        ValueError: if there are no values, one is not finite, or ``level`` is outside (0, 1).
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(array) == 0 or not np.isfinite(array).all():
        raise ValueError(f"values must be at least one finite number, got {array.tolist()}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    mean = float(array.mean())
    if len(array) < 2:
        return {"mean": mean, "low": None, "high": None, "half_width": None, "std": None, "count": 1}
    std = float(array.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, len(array) - 1) * std / math.sqrt(len(array)))
    return {"mean": mean, "low": mean - half, "high": mean + half, "half_width": half, "std": std,
            "count": int(len(array))}
