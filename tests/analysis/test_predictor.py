"""Tests of gnnas.analysis.predictor: the GED kernel, the regressors and the rank metrics, against
networkx, scipy and brute force."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from gnnas.analysis.predictor import (
    GaussianProcess,
    MLPRegressor,
    exponential_kernel,
    ged_kernel,
    kendall_tau,
    mean_interval,
    rank_metrics,
    squared_distances,
    top_precision,
)
from gnnas.ged import pairwise_ged
from tests.ged.ged_helpers import networkx_ged, random_cell


# ---------------------------------------------------------------------------------------- kernels
def test_ged_kernel_symmetric_with_ones_on_the_diagonal():
    rng = np.random.default_rng(0)
    cells = [random_cell(rng) for _ in range(40)]
    for length_scale in (0.5, 2.0, 7.0):
        kernel = ged_kernel(cells, length_scale=length_scale, num_workers=1)
        assert kernel.shape == (40, 40)
        assert (kernel == kernel.T).all()
        assert (np.diag(kernel) == 1.0).all()
        assert ((kernel > 0) & (kernel <= 1)).all()
    cross = ged_kernel(cells[:5], cells[5:12], length_scale=2.0, num_workers=1)
    assert cross.shape == (5, 7)
    assert np.array_equal(cross, ged_kernel(cells, length_scale=2.0, num_workers=1)[:5, 5:12])


def test_ged_kernel_equals_exp_of_networkx_ged():
    rng = np.random.default_rng(1)
    cells = [random_cell(rng, int(rng.integers(2, 6))) for _ in range(6)]  # small: networkx is slow
    kernel = ged_kernel(cells, length_scale=3.0, num_workers=1)
    for i, j in itertools.combinations(range(len(cells)), 2):
        assert kernel[i, j] == pytest.approx(math.exp(-networkx_ged(cells[i], cells[j]) / 3.0), rel=1e-12)


def test_squared_distances_against_a_loop():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(9, 4)), rng.normal(size=(6, 4))
    brute = np.array([[((a - b) ** 2).sum() for b in y] for a in x])
    assert np.allclose(squared_distances(x, y), brute)
    same = squared_distances(x)
    assert (np.diag(same) == 0).all() and np.allclose(same, same.T)
    with pytest.raises(ValueError, match=r"\(N, F\) and \(M, F\)"):
        squared_distances(x, y[:, :3])
    with pytest.raises(ValueError, match="length_scale must be > 0"):
        exponential_kernel(same, 0.0)


# ---------------------------------------------------------------------------------------- metrics
def brute_kendall(x, y):
    """Kendall's tau-b from concordant and discordant pairs."""
    concordant = discordant = ties_x = ties_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            ties_x += 1
        elif dy == 0:
            ties_y += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / math.sqrt((concordant + discordant + ties_x) *
                                                 (concordant + discordant + ties_y))


def test_rank_metrics_against_scipy_and_brute_force():
    rng = np.random.default_rng(3)
    for trial in range(30):
        m = int(rng.integers(5, 60))
        y = rng.normal(size=m)
        p = y + rng.normal(scale=rng.uniform(0.1, 3), size=m)
        if trial % 3 == 0:  # ties in both
            y, p = np.round(y, 1), np.round(p, 1)
        metrics = rank_metrics(y, p, top_fraction=0.1)
        assert metrics["kendall_tau"] == pytest.approx(brute_kendall(y, p), abs=1e-12)
        assert metrics["kendall_tau"] == pytest.approx(stats.kendalltau(y, p).statistic, abs=1e-12)
        assert metrics["spearman_rho"] == pytest.approx(stats.spearmanr(y, p).statistic, abs=1e-12)
        k = math.ceil(0.1 * m)
        truth = set(sorted(range(m), key=lambda i: (-y[i], i))[:k])
        guess = set(sorted(range(m), key=lambda i: (-p[i], i))[:k])
        assert metrics["top_precision"] == len(truth & guess) / k


def test_top_precision_and_constant_predictions():
    y = np.arange(200, dtype=float)
    assert top_precision(y, y) == 1.0
    assert top_precision(y, -y) == 0.0
    assert top_precision(y, y, fraction=0.01) == 1.0  # k = 2
    shuffled = y.copy()
    shuffled[[199, 0]] = shuffled[[0, 199]]  # the best cell predicted worst
    assert top_precision(y, shuffled, fraction=0.01) == 0.5
    # a constant prediction ranks nothing; its top is the first cells, here the worst ones
    assert rank_metrics(y, np.ones(200)) == {"kendall_tau": 0.0, "spearman_rho": 0.0, "top_precision": 0.0}
    assert kendall_tau(y, np.full(200, 3.0)) == 0.0
    with pytest.raises(ValueError, match="same length"):
        kendall_tau(y, y[:-1])
    with pytest.raises(ValueError, match="finite"):
        rank_metrics(y, np.full(200, np.nan))
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\]"):
        top_precision(y, y, fraction=0)


def test_mean_interval_is_students_t():
    values = [0.41, 0.45, 0.38, 0.50, 0.44]
    result = mean_interval(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert result["low"] == pytest.approx(low) and result["high"] == pytest.approx(high)
    assert result["mean"] == pytest.approx(np.mean(values)) and result["count"] == 5
    assert result["std"] == pytest.approx(np.std(values, ddof=1))
    assert mean_interval([0.3]) == {"mean": 0.3, "low": None, "high": None, "half_width": None, "std": None,
                                    "count": 1}
    with pytest.raises(ValueError, match="at least one finite number"):
        mean_interval([])


# ---------------------------------------------------------------------------------------- regressors
def direct_log_evidence(distances, y, length_scale, signal_variance, noise_variance):
    """The log marginal likelihood of standardized y from the kernel matrix, by scipy."""
    target = (y - y.mean()) / y.std()
    cov = signal_variance * exponential_kernel(distances, length_scale) + noise_variance * np.eye(len(y))
    return stats.multivariate_normal(np.zeros(len(y)), cov).logpdf(target)


def test_gaussian_process_matches_the_textbook_formulas():
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, size=(40, 2))
    y = np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] + rng.normal(scale=0.05, size=40)
    x_test = rng.uniform(-2, 2, size=(300, 2))
    y_test = np.sin(2 * x_test[:, 0]) + 0.5 * x_test[:, 1]
    train = squared_distances(x)
    gp = GaussianProcess().fit(train, y)
    assert repr(gp) == "GaussianProcess(num_length_scales=7)"
    # the evidence reported is the textbook one at the chosen hyper-parameters
    chosen = (gp.length_scale, gp.signal_variance, gp.noise_variance)
    assert gp.log_marginal_likelihood == pytest.approx(direct_log_evidence(train, y, *chosen), abs=1e-6)
    # and it is the maximum: a plain optimizer of the textbook formula, from several starts, finds no more
    from scipy import optimize

    def negative(theta):
        return -direct_log_evidence(train, y, *np.exp(theta))

    median = np.median(train[train > 0])
    for start in ([median, 1.0, 0.1], [median / 8, 0.3, 0.01], [8 * median, 3.0, 0.5]):
        found = optimize.minimize(negative, np.log(start), method="Nelder-Mead",
                                  options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
        assert gp.log_marginal_likelihood >= -found.fun - 1e-3
    # the posterior mean: mean + scale * k*^T (K + s I)^-1 y_std
    cross = squared_distances(x_test, x)
    target = (y - y.mean()) / y.std()
    cov = gp.signal_variance * exponential_kernel(train, gp.length_scale) + gp.noise_variance * np.eye(40)
    expected = y.mean() + y.std() * (gp.signal_variance * exponential_kernel(cross, gp.length_scale)
                                     @ np.linalg.solve(cov, target))
    assert np.allclose(gp.predict(cross), expected, atol=1e-8)
    assert kendall_tau(y_test, gp.predict(cross)) > 0.8  # a smooth function is learned


def test_gaussian_process_on_an_indefinite_ged_kernel():
    rng = np.random.default_rng(5)
    cells = [random_cell(rng) for _ in range(120)]
    distances = pairwise_ged(cells, num_workers=1).astype(float)
    assert np.linalg.eigvalsh(np.exp(-distances / 8.0)).min() < -1e-6  # not positive semi-definite
    y = np.array([c.ops.count("conv3x3-bn-relu") - c.ops.count("maxpool3x3") for c in cells], dtype=float)
    gp = GaussianProcess().fit(distances[:80, :80], y[:80])
    prediction = gp.predict(distances[80:, :80])
    assert np.isfinite(prediction).all() and math.isfinite(gp.log_marginal_likelihood)
    assert kendall_tau(y[80:], prediction) > 0.3


def test_gaussian_process_bad_input():
    with pytest.raises(ValueError, match="fit the GaussianProcess"):
        GaussianProcess().predict(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"distances must be \(3, 3\)"):
        GaussianProcess().fit(np.zeros((2, 2)), np.arange(3.0))
    with pytest.raises(ValueError, match="symmetric and non-negative"):
        GaussianProcess().fit(np.array([[0, 1], [2, 0.0]]), np.arange(2.0))
    with pytest.raises(ValueError, match="n >= 2"):
        GaussianProcess().fit(np.zeros((1, 1)), np.arange(1.0))
    with pytest.raises(ValueError, match="int >= 2"):
        GaussianProcess(num_length_scales=1)


def test_mlp_regressor_learns_a_ranking_reproducibly():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    y = x @ rng.normal(size=8) + 0.1 * rng.normal(size=300)
    state = torch.random.get_rng_state()
    mlp = MLPRegressor(steps=300).fit(x[:200], y[:200], seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is left alone
    prediction = mlp.predict(x[200:])
    assert kendall_tau(y[200:], prediction) > 0.7
    assert abs(prediction.mean() - y[200:].mean()) < 1.0  # in the units of y
    again = MLPRegressor(steps=300).fit(x[:200], y[:200], seed=1).predict(x[200:])
    assert np.array_equal(prediction, again)
    other = MLPRegressor(steps=300).fit(x[:200], y[:200], seed=2).predict(x[200:])
    assert not np.array_equal(prediction, other)
    assert repr(MLPRegressor()) == ("MLPRegressor(hidden_channels=64, num_layers=3, steps=1000, "
                                    "batch_size=64, lr=0.001, weight_decay=0.0001)")
    with pytest.raises(ValueError, match="fit the MLPRegressor"):
        MLPRegressor().predict(x)
    with pytest.raises(ValueError, match=r"x must be \(200, F\)"):
        MLPRegressor().fit(x[:100], y[:200])
    with pytest.raises(ValueError, match="steps must be a positive int"):
        MLPRegressor(steps=0)
