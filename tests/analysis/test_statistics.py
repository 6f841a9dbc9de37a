"""gnnas.analysis.statistics: hand-computed small cases, then SciPy's references on random ones."""

import math

import numpy as np
import pytest
from scipy import stats

from gnnas.analysis.statistics import (
    bootstrap_interval,
    holm,
    kaplan_meier,
    kaplan_meier_median,
    logrank_test,
    mann_whitney_test,
)


def test_kaplan_meier_by_hand():
    # events at 1, 2, 3; censored at 2 and 4: S = 4/5, then 4/5 * 3/4, then 3/5 * 1/2
    times, survival = kaplan_meier([1, 2, 2, 3, 4], [True, True, False, True, False])
    assert times.tolist() == [1.0, 2.0, 3.0]
    assert survival.tolist() == pytest.approx([0.8, 0.6, 0.3])
    assert kaplan_meier_median([1, 2, 2, 3, 4], [True, True, False, True, False]) == 3.0


def test_kaplan_meier_median_without_censoring_is_the_lower_median():
    assert kaplan_meier_median([5, 1, 3, 2], [True] * 4) == 2.0  # S(2) = 0.5
    assert kaplan_meier_median([300, 520, 1024, 1024], [True, True, False, False]) == 520.0


def test_kaplan_meier_median_none_when_most_runs_are_censored():
    assert kaplan_meier_median([100, 1024, 1024], [True, False, False]) is None
    assert kaplan_meier_median([1024, 1024], [False, False]) is None
    assert kaplan_meier([1024, 1024], [False, False])[0].size == 0


def test_kaplan_meier_rejects_bad_input():
    with pytest.raises(ValueError, match="one length"):
        kaplan_meier([1, 2], [True])
    with pytest.raises(ValueError, match="finite"):
        kaplan_meier([1, math.inf], [True, False])
    with pytest.raises(ValueError, match="empty"):
        kaplan_meier([], [])


def test_kaplan_meier_matches_scipy_ecdf():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 15))
        times = rng.integers(1, 8, size=n).astype(float)
        observed = rng.random(n) < 0.6
        if not observed.any():
            continue
        data = stats.CensoredData(uncensored=times[observed], right=times[~observed])
        reference = stats.ecdf(data).sf
        event_times, survival = kaplan_meier(times, observed)
        assert survival == pytest.approx(reference.evaluate(event_times), abs=1e-12)


def test_logrank_by_hand():
    # pooled event times 1, 2, 3: U = 1/2 - 1/3 + 1/2, V = 1/4 + 2/9 + 1/4 = 13/18
    z, p = logrank_test([1, 3], [True, True], [2, 4], [True, False])
    u, v = 2 / 3, 13 / 18
    assert z == pytest.approx(u / math.sqrt(v))
    assert p == pytest.approx(stats.chi2.sf(u * u / v, df=1))
    z_swapped, p_swapped = logrank_test([2, 4], [True, False], [1, 3], [True, True])
    assert z_swapped == pytest.approx(-z) and p_swapped == pytest.approx(p)


def test_logrank_without_events_compares_nothing():
    assert logrank_test([10, 10], [False, False], [10], [False]) == (0.0, 1.0)


def test_logrank_matches_scipy():
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(60):
        na, nb = (int(k) for k in rng.integers(2, 12, size=2))
        ta, tb = rng.integers(1, 10, size=na).astype(float), rng.integers(1, 10, size=nb).astype(float)
        oa, ob = rng.random(na) < 0.7, rng.random(nb) < 0.7
        if not (oa.any() or ob.any()):
            continue
        reference = stats.logrank(stats.CensoredData(uncensored=ta[oa], right=ta[~oa]),
                                  stats.CensoredData(uncensored=tb[ob], right=tb[~ob]))
        z, p = logrank_test(ta, oa, tb, ob)
        assert abs(z) == pytest.approx(abs(reference.statistic), rel=1e-9)
        assert p == pytest.approx(reference.pvalue, rel=1e-9)
        checked += 1
    assert checked > 40


def test_mann_whitney_by_hand():
    # a below b in all 6 pairs: U_a = 0, exact two-sided p = 2 / C(5, 2)
    assert mann_whitney_test([1, 2, 3], [4, 5]) == (0.0, pytest.approx(0.2))
    # ties count half: (2, 2) twice -> U_a = 1
    assert mann_whitney_test([1, 2, 2], [2, 3])[0] == 1.0
    assert mann_whitney_test([0.9, 0.9], [0.9]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="non-empty"):
        mann_whitney_test([], [1.0])


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([1.5])


def test_bootstrap_interval_of_two_values():
    # the mean of two draws from {0, 1} is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4
    assert bootstrap_interval([0.0, 1.0]) == (0.0, 1.0)
    assert bootstrap_interval([0.7, 0.7, 0.7]) == (pytest.approx(0.7), pytest.approx(0.7))


def test_bootstrap_interval_matches_a_plain_loop():
    values = np.random.default_rng(2).normal(size=10)
    generator = np.random.default_rng(7)
    means = [values[generator.integers(10, size=10)].mean() for _ in range(500)]
    assert bootstrap_interval(values, num_resamples=500, seed=7) == pytest.approx(
        tuple(np.quantile(means, [0.025, 0.975])))
    assert bootstrap_interval(values, seed=3) == bootstrap_interval(values, seed=3)


def test_bootstrap_interval_of_a_median_that_may_not_exist():
    # rows (time, found): resampling mostly censored rows leaves no median -> +inf at the top
    rows = np.array([[100, 1], [200, 1], [1024, 0], [1024, 0]])
    low, high = bootstrap_interval(rows, lambda r: kaplan_meier_median(r[:, 0], r[:, 1] > 0))
    assert low == 100.0 and high == math.inf
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval([1.0], confidence=1.0)
