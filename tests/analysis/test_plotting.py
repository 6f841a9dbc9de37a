"""Tests of gnnas.analysis.plotting: KDE violins, the distance histogram, 2-D projections."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gnnas.analysis import (  # noqa: E402
    distance_histogram,
    embedding_map,
    kde_violins,
    moving_average,
    pretraining_curves,
    project_2d,
)


def test_kde_violins_draws_one_shape_per_group():
    rng = np.random.default_rng(0)
    groups = {1: rng.normal(0, 1, 200), 2: rng.normal(1, 1, 200), 3: np.ones(5), 4: np.ones(1)}
    fig, ax = plt.subplots()
    kde_violins(ax, groups, side="left", color="C1", label="x")
    assert len(ax.collections) == 3  # group 4 has fewer than min_count values
    assert len(ax.lines) == 3  # one median mark each
    # a left half lies left of its distance
    for collection, d in zip(ax.collections, (1, 2, 3), strict=True):
        xs = np.concatenate([p.vertices[:, 0] for p in collection.get_paths()])
        assert xs.max() <= d + 1e-9 and xs.min() >= d - 0.4 - 1e-9
    median = ax.lines[1].get_ydata()
    assert median[0] == pytest.approx(np.median(groups[2]))
    with pytest.raises(ValueError, match="side"):
        kde_violins(ax, groups, side="top")
    plt.close(fig)


def test_distance_histogram_shares():
    fig, ax = plt.subplots()
    distance_histogram(ax, np.array([1, 1, 2, 4]))
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == [0.0, 0.5, 0.25, 0.0, 0.25]
    plt.close(fig)


def test_project_2d_pca():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 8)) * np.array([10, 3, 1, 1, 1, 1, 1, 1])
    coords, method = project_2d(points, "pca")
    assert method == "pca" and coords.shape == (50, 2)
    again, _ = project_2d(points, "pca")
    assert np.array_equal(coords, again)
    # the first axis carries the largest variance
    assert coords[:, 0].var() > coords[:, 1].var()
    total = ((points - points.mean(0)) ** 2).sum()
    assert (coords ** 2).sum() <= total + 1e-9
    with pytest.raises(ValueError, match="N >= 3"):
        project_2d(points[:2])
    with pytest.raises(ValueError, match="method"):
        project_2d(points, "tsne")


def test_project_2d_auto_and_umap():
    points = np.random.default_rng(1).normal(size=(40, 4))
    try:
        import umap  # noqa: F401
    except ImportError:
        assert project_2d(points, "auto")[1] == "pca"
        with pytest.raises(ValueError, match="umap-learn"):
            project_2d(points, "umap")
    else:
        coords, method = project_2d(points, "auto")
        assert method == "umap" and coords.shape == (40, 2)


def test_embedding_map():
    fig, ax = plt.subplots()
    coords = np.random.default_rng(2).normal(size=(16, 2))
    classes = np.repeat(np.arange(2), 8)
    embedding_map(ax, coords, classes, is_anchor=np.tile(np.arange(8) == 0, 2))
    assert len(ax.collections) == 2  # positives, then the anchors as stars
    assert ax.collections[1].get_offsets().shape == (2, 2)
    plt.close(fig)


def test_moving_average_matches_a_loop_and_skips_nan():
    rng = np.random.default_rng(3)
    values = rng.normal(size=40)
    values[[3, 17, 18]] = np.nan
    for window in (1, 4, 37, 100):
        x, means = moving_average(values, window)
        finite = [(i + 1, v) for i, v in enumerate(values) if np.isfinite(v)]
        w = min(window, len(finite))
        expected = [(finite[j][0], np.mean([v for _, v in finite[j - w + 1:j + 1]]))
                    for j in range(w - 1, len(finite))]
        assert x.tolist() == [e[0] for e in expected]
        np.testing.assert_allclose(means, [e[1] for e in expected])
    assert moving_average(np.full(5, np.nan), 3)[0].tolist() == []
    with pytest.raises(ValueError, match="window must be a positive integer"):
        moving_average(values, 0)


def test_pretraining_curves_line_up_batch_sizes():
    logs = {"big": {"recon_loss": np.linspace(2, 1, 10), "token_acc": np.linspace(0.2, 0.9, 10)},
            "small": {"recon_loss": np.linspace(2, 1, 80), "metric_loss": np.ones(80),
                      "decode_acc": np.where(np.arange(80) % 8 == 7, 0.5, np.nan)}}
    fig, axes = plt.subplots(1, 4)
    pretraining_curves(axes, logs, {"big": 512, "small": 64}, window_graphs=512)
    big, small = axes[0].lines
    assert big.get_xdata().tolist() == list(range(1, 11))  # window of 1 iteration at batch 512
    assert small.get_xdata()[-1] == 10.0 and len(small.get_xdata()) == 73  # 8 iterations per window
    assert len(axes[1].lines) == 1 and len(axes[2].lines) == 1  # only the runs that logged the field
    assert len(axes[3].lines[0].get_xdata()) == 10  # ten decoding checks as dots
    with pytest.raises(ValueError, match="no batch size for run 'small'"):
        pretraining_curves(axes, logs, {"big": 512})
    with pytest.raises(ValueError, match="expected 4 axes"):
        pretraining_curves(axes[:2], logs, {"big": 512, "small": 64})
    plt.close(fig)
