r"""Statistics over the seeds of search runs: bootstrap intervals, censored times and tests.

A search run either finds a cell of some kind (the table's best, a cell of the table's top 0.1 %)
after some number of queries, or spends its whole budget without finding one. The number of
queries is then a **time to event, right-censored at the budget**: a run that did not find one is
known only to need more than the budget. These functions treat such times correctly:

- :func:`kaplan_meier` estimates the share of runs that have not yet found one after ``t``
  queries, and :func:`kaplan_meier_median` its median (:obj:`None` while more than half the runs
  never found one);
- :func:`logrank_test` compares two samples of censored times;
- :func:`mann_whitney_test` compares two samples of plain numbers (the best accuracy at some
  number of queries, say);
- :func:`bootstrap_interval` gives a percentile interval of any statistic over runs, resampling
  runs with replacement;
- :func:`holm` adjusts a family of p-values for multiple testing.

A short tour::

    >>> import numpy as np
    >>> times = np.array([300, 520, 1024, 1024])       # queries until found; the budget is 1,024
    >>> found = np.array([True, True, False, False])   # the last two never found one
    >>> kaplan_meier_median(times, found)               # survival is 0.5 after 520 queries
    520.0
    >>> logrank_test(times, found, np.array([1024, 1024, 900]), np.array([False, False, True]))[1] < 1
    True

Every function is deterministic: the bootstrap draws from a seeded generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "bootstrap_interval",
    "kaplan_meier",
    "kaplan_meier_median",
    "logrank_test",
    "mann_whitney_test",
    "holm",
]


def _times_and_events(times: Any, observed: Any) -> tuple[np.ndarray, np.ndarray]:
    times = np.asarray(times, dtype=np.float64)
    observed = np.asarray(observed, dtype=bool)
    if times.ndim != 1 or observed.shape != times.shape:
        raise ValueError(f"times and observed must be 1-D of one length, got shapes {times.shape} "
                         f"and {observed.shape}")
    if len(times) == 0:
        raise ValueError("times is empty")
    if not np.isfinite(times).all():
        raise ValueError("times must be finite (a run that found nothing is censored at the budget)")
    return times, observed


def bootstrap_interval(values: Any, statistic: Callable[[np.ndarray], float] = np.mean, *,
                       confidence: float = 0.95, num_resamples: int = 10_000,
                       seed: int = 0) -> tuple[float, float]:
    r"""Percentile bootstrap interval of a statistic of a sample.

    Draws ``num_resamples`` samples of the same size with replacement, computes ``statistic`` on
    each, and returns the :math:`(1 - c)/2` and :math:`(1 + c)/2` quantiles of the results
    (:math:`c` = ``confidence``). A statistic that returns :obj:`None` or NaN on a resample (a
    median that does not exist) counts as :math:`+\infty` there, so an upper end can be infinite.

    Args:
        values (array-like): the sample, one value per run; or, for a statistic of several
            columns, an array ``(runs, ...)`` whose rows are resampled together.
        statistic (callable, optional): maps a resampled array to a number. (default: the mean)
        confidence (float, optional): the coverage. (default: :obj:`0.95`)
        num_resamples (int, optional): bootstrap resamples. (default: :obj:`10000`)
        seed (int, optional): seed of the resampling. (default: :obj:`0`)

    Returns:
        tuple[float, float]: the lower and upper ends.

    Raises:
        ValueError: if the sample is empty, ``confidence`` is not in ``(0, 1)`` or
            ``num_resamples < 1``.
    """
    values = np.asarray(values)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError("values must be a non-empty sample")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    generator = np.random.default_rng(seed)
    picks = generator.integers(len(values), size=(num_resamples, len(values)))
    results = np.empty(num_resamples)
    for k, pick in enumerate(picks):
        value = statistic(values[pick])
        results[k] = np.inf if value is None or np.isnan(value) else value
    tail = (1 - confidence) / 2
    return _quantile(results, tail), _quantile(results, 1 - tail)


def _quantile(values: np.ndarray, q: float) -> float:
    """``numpy.quantile(values, q)`` (linear interpolation), also where ``values`` holds
    +inf (NumPy gives NaN between two infinite values)."""
    ordered = np.sort(values)
    position = (len(ordered) - 1) * q
    low = int(np.floor(position))
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    if fraction == 0 or ordered[low] == ordered[high]:
        return float(ordered[low])
    if np.isinf(ordered[high]):
        return math.inf
    return float(ordered[low] + fraction * (ordered[high] - ordered[low]))


def kaplan_meier(times: Any, observed: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""The Kaplan–Meier estimate of the survival function of right-censored times.

    .. math::
        \hat S(t) = \prod_{t_i \le t} \Big(1 - \frac{d_i}{n_i}\Big),

    over the distinct times :math:`t_i` of observed events, with :math:`d_i` events at
    :math:`t_i` and :math:`n_i` times :math:`\ge t_i` (an event and a censoring at the same time:
    the censored run is still at risk, the usual convention).

    Args:
        times (array-like): one time per run ``(N,)``.
        observed (array-like): ``(N,)`` bools, :obj:`True` where the event happened at that time,
            :obj:`False` where the run was censored (stopped without it).

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: the distinct event times (ascending) and
        :math:`\hat S` just after each; :math:`\hat S(t) = 1` before the first.

    Raises:
        ValueError: if the arrays are empty, of different lengths or hold non-finite times.
    """
    times, observed = _times_and_events(times, observed)
    event_times = np.unique(times[observed])
    at_risk = (times[None, :] >= event_times[:, None]).sum(axis=1)
    events = (observed[None, :] & (times[None, :] == event_times[:, None])).sum(axis=1)
    return event_times, np.cumprod(1.0 - events / at_risk)


def kaplan_meier_median(times: Any, observed: Any) -> float | None:
    r"""The median of right-censored times: the first time where :func:`kaplan_meier` falls to
    0.5 or below.

    Args:
        times (array-like): one time per run ``(N,)``.
        observed (array-like): ``(N,)`` bools, :obj:`False` for censored runs.

    Returns:
        float or None: the median, or :obj:`None` when the survival never falls to 0.5 (more than
        half the runs, by the estimate, never had the event before being censored).

    Raises:
        ValueError: as :func:`kaplan_meier`.
    """
    event_times, survival = kaplan_meier(times, observed)
    below = np.flatnonzero(survival <= 0.5 + 1e-12)
    return float(event_times[below[0]]) if len(below) else None


def logrank_test(times_a: Any, observed_a: Any, times_b: Any, observed_b: Any) -> tuple[float, float]:
    r"""The log-rank test of two samples of right-censored times (two-sided).

    At each distinct event time :math:`t_i` of the pooled sample, with :math:`n_i` runs at risk
    (:math:`n_{ai}` of them in sample a) and :math:`d_i` events (:math:`d_{ai}` in a),

    .. math::
        U = \sum_i \Big(d_{ai} - d_i \frac{n_{ai}}{n_i}\Big), \qquad
        V = \sum_i d_i \frac{n_{ai}}{n_i} \Big(1 - \frac{n_{ai}}{n_i}\Big) \frac{n_i - d_i}{n_i - 1},

    and :math:`U^2 / V` is compared with :math:`\chi^2_1`. The sign of :math:`U` says which
    sample had its events earlier (positive: a had more than expected).

    Args:
        times_a (array-like): times of sample a ``(N_a,)``.
        observed_a (array-like): ``(N_a,)`` bools, :obj:`False` for censored runs.
        times_b (array-like): times of sample b ``(N_b,)``.
        observed_b (array-like): ``(N_b,)`` bools.

    Returns:
        tuple[float, float]: the signed statistic :math:`U / \sqrt{V}` (:math:`0` when
        :math:`V = 0`: no event, or nothing to compare) and the two-sided p-value (:math:`1` when
        :math:`V = 0`).

    Raises:
        ValueError: as :func:`kaplan_meier`, for either sample.
    """
    times_a, observed_a = _times_and_events(times_a, observed_a)
    times_b, observed_b = _times_and_events(times_b, observed_b)
    times = np.concatenate([times_a, times_b])
    observed = np.concatenate([observed_a, observed_b])
    in_a = np.arange(len(times)) < len(times_a)
    event_times = np.unique(times[observed])
    at_risk = times[None, :] >= event_times[:, None]                        # (T, N)
    events = observed[None, :] & (times[None, :] == event_times[:, None])   # (T, N)
    n, n_a = at_risk.sum(axis=1), (at_risk & in_a).sum(axis=1)
    d, d_a = events.sum(axis=1), (events & in_a).sum(axis=1)
    share = n_a / n
    u = float((d_a - d * share).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        tie = np.where(n > 1, (n - d) / np.maximum(n - 1, 1), 0.0)
    v = float((d * share * (1 - share) * tie).sum())
    if v <= 0:
        return 0.0, 1.0
    z = u / np.sqrt(v)
    return float(z), float(stats.chi2.sf(z * z, df=1))


def mann_whitney_test(a: Any, b: Any) -> tuple[float, float]:
    r"""The two-sided Mann–Whitney U test of two samples (:func:`scipy.stats.mannwhitneyu`).

    With ties (best accuracies often tie when runs find the same cell) SciPy uses the normal
    approximation with the tie correction; without ties and with samples of fewer than 8 values,
    the exact distribution.

    Args:
        a (array-like): sample a ``(N_a,)``.
        b (array-like): sample b ``(N_b,)``.

    Returns:
        tuple[float, float]: :math:`U_a`, the number of pairs in which a's value is larger (ties
        count half), and the two-sided p-value (:math:`1` when every value is equal).

    Raises:
        ValueError: if a sample is empty or not 1-D.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or len(a) == 0 or len(b) == 0:
        raise ValueError("a and b must be non-empty 1-D samples")
    if np.all(np.concatenate([a, b]) == a[0]):
        return float(len(a) * len(b)) / 2, 1.0
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    r"""Holm's step-down adjustment of a family of p-values.

    With the p-values sorted ascending, :math:`p_{(1)} \le \dots \le p_{(m)}`, the adjusted
    values are :math:`\max_{j \le k} \min\big(1, (m - j + 1)\, p_{(j)}\big)`, returned in the
    original order. Rejecting where the adjusted value is below :math:`\alpha` keeps the chance
    of any false rejection in the family below :math:`\alpha`.

    Args:
        p_values (Sequence[float]): the family.

    Returns:
        list[float]: the adjusted p-values, same order.

    Raises:
        ValueError: if a value lies outside :math:`[0, 1]`.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size and ((p < 0) | (p > 1) | np.isnan(p)).any():
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p, kind="stable")
    m = len(p)
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()
