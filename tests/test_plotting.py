"""The figure functions draw what their docstrings say (checked on the artists they create)."""

import matplotlib

matplotlib.use("Agg")  # no display in tests

import matplotlib.pyplot as plt
import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial import plotting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_rating_distribution_bars_are_the_counts():
    values = np.array([1, 3, 3, 5, 5, 5, 4.0])
    ax = plotting.plot_rating_distribution(values)
    heights = {patch.get_x() + patch.get_width() / 2: patch.get_height() for patch in ax.patches}
    assert heights == pytest.approx({1.0: 1, 3.0: 2, 4.0: 1, 5.0: 3})
    with pytest.raises(ValueError, match="values is empty"):
        plotting.plot_rating_distribution([])


def test_long_tail_is_sorted_and_reports_the_head_share():
    counts = np.array([1, 10, 0, 5, 4])
    ax = plotting.plot_long_tail(counts, head_fraction=0.2)
    x, y = ax.lines[0].get_data()
    assert list(y) == [10, 5, 4, 1]  # the zero is left out of the log-scale curve
    assert list(x) == [1, 2, 3, 4]
    label = ax.get_legend().get_texts()[0].get_text()
    assert "50.0% of ratings" in label  # the top 1 of 5 items holds 10 of 20 ratings
    with pytest.raises(ValueError, match="head_fraction"):
        plotting.plot_long_tail(counts, head_fraction=1.5)


def test_count_histogram_marks_the_minimum():
    ax = plotting.plot_count_histogram(np.array([20, 25, 40, 300, 0]))
    assert ax.lines[0].get_xdata()[0] == 20
    assert sum(patch.get_height() for patch in ax.patches) == 4  # the zero count is not drawn


def test_sparsity_pattern_puts_the_most_active_user_and_item_first():
    r = rt.Ratings([0, 2, 2, 2, 1], [3, 3, 0, 1, 3], [5.0, 4, 3, 2, 1], n_users=3, n_items=4)
    ax = plotting.plot_sparsity_pattern(r)
    image = ax.images[0].get_array()
    # user 2 (3 ratings) is the first row, item 3 (3 ratings) the first column
    assert image[0].tolist() == [1, 1, 1, 0]
    assert image[:, 0].tolist() == [1, 1, 1]
    assert image.sum() == len(r)
    with pytest.raises(TypeError, match="ratings must be"):
        plotting.plot_sparsity_pattern([[1, 0], [0, 1]])


def test_learning_curves_and_score_grid():
    ax = plotting.plot_learning_curves(
        {"a": [3, 2, 1], "b": [4, 3]}, x={"a": [0.1, 0.2, 0.3], "b": [1, 2]}
    )
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert list(ax.lines[0].get_xdata()) == [0.1, 0.2, 0.3]
    ax = plotting.plot_score_grid(
        [1, 2],
        [10, 20, 30],
        np.arange(6.0).reshape(2, 3),
        row_label="r",
        col_label="c",
        marks={"best": (2, 30)},
    )
    assert [t.get_text() for t in ax.texts][-1] == "5.0000"
    with pytest.raises(ValueError, match="not on the grid"):
        plotting.plot_score_grid(
            [1], [1], [[0.0]], row_label="r", col_label="c", marks={"x": (2, 2)}
        )
    with pytest.raises(ValueError, match="scores must have shape"):
        plotting.plot_score_grid([1, 2], [1], [[0.0]], row_label="r", col_label="c")
