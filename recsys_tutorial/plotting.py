"""Figures of the book (matplotlib): one function per kind of figure.

Every function draws on an ``Axes`` (a new one when ``ax`` is None) and
returns it, so chapters can combine and annotate figures.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "book_style",
    "plot_learning_curves",
    "plot_rating_distribution",
    "plot_long_tail",
    "plot_count_histogram",
    "plot_sparsity_pattern",
    "plot_score_grid",
]


def book_style() -> None:
    """Matplotlib settings for figures that stay readable at book width."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            # the same PNG bytes on every run, so rebuilt outputs do not churn
            "svg.hashsalt": "recsys_tutorial",
        }
    )


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_learning_curves(
    curves: dict, *, x=None, xlabel="epoch", ylabel="training objective", logy=False, ax=None
):
    """One line per entry of ``curves`` (label -> sequence of values).

    ``x`` may map the same labels to x-values (e.g. cumulative seconds);
    by default the x-values are 1, 2, ... (epochs).
    """
    ax = _axes(ax)
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        xs = np.arange(1, values.size + 1) if x is None else np.asarray(x[label], dtype=float)
        ax.plot(xs, values, marker="o" if values.size <= 30 else None, markersize=3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_rating_distribution(values, *, ax=None):
    """Bar chart of how often each rating value occurs, labelled with its share.

    One bar per distinct value of ``values`` (e.g. the 1-5 stars of
    ``ratings.values``); the bar height is the number of ratings with that
    value and the label above it the percentage of all ratings.
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("values is empty; there is no distribution to plot")
    levels, counts = np.unique(values, return_counts=True)
    ax = _axes(ax)
    bars = ax.bar(levels, counts, width=0.6 * (np.min(np.diff(levels)) if levels.size > 1 else 1.0))
    ax.bar_label(bars, labels=[f"{100 * c / values.size:.1f}%" for c in counts], padding=2)
    ax.set_xticks(levels)
    ax.set_xlabel("rating value")
    ax.set_ylabel("number of ratings")
    ax.margins(y=0.12)  # room for the labels above the bars
    return ax


def plot_long_tail(
    counts,
    *,
    head_fraction=0.2,
    logy=True,
    xlabel="item rank (most rated first)",
    ylabel="number of ratings",
    ax=None,
):
    """Popularity curve: the counts sorted from largest to smallest against their rank.

    ``counts[j]`` is the number of ratings of item ``j`` (``ratings.item_counts()``).
    The first ``ceil(head_fraction * len(counts))`` ranks, the *head*, are
    shaded, and the legend gives the share of all ratings they hold; the
    rest is the long tail.  The y-axis is logarithmic by default, so items
    with a single rating stay visible; items with no rating are left out of
    a log-scale plot (the shares still count them).
    """
    counts = np.asarray(counts, dtype=float).ravel()
    if counts.size == 0 or np.any(counts < 0):
        raise ValueError("counts must be a non-empty array of non-negative numbers")
    if not 0 < head_fraction < 1:
        raise ValueError(f"head_fraction must be in (0, 1); got {head_fraction!r}")
    ordered = np.sort(counts)[::-1]
    ranks = np.arange(1, ordered.size + 1)
    n_head = int(np.ceil(head_fraction * ordered.size))
    share = ordered[:n_head].sum() / ordered.sum()
    ax = _axes(ax)
    shown = ordered > 0 if logy else np.ones(ordered.size, dtype=bool)
    ax.plot(ranks[shown], ordered[shown], color="C0", lw=2)
    ax.axvspan(
        0.5,
        n_head + 0.5,
        color="C1",
        alpha=0.2,
        label=f"head: top {head_fraction:.0%} of items, {share:.1%} of ratings",
    )
    ax.set_xlim(0, ordered.size + 1)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right")
    return ax


def plot_count_histogram(
    counts, *, bins=30, logx=True, xlabel="ratings per user", ylabel="number of users", ax=None
):
    """Histogram of per-user (or per-item) counts, with the minimum marked.

    ``counts`` is e.g. ``ratings.user_counts()``.  With ``logx`` the bins are
    evenly spaced in log scale from the smallest to the largest positive
    count, which suits the skewed counts of rating data.  A dashed vertical
    line marks the smallest count.
    """
    counts = np.asarray(counts, dtype=float).ravel()
    positive = counts[counts > 0]
    if positive.size == 0:
        raise ValueError("counts has no positive value to plot")
    ax = _axes(ax)
    if logx:
        lo, hi = positive.min(), positive.max()
        edges = np.geomspace(lo, hi * 1.0001 if hi > lo else lo + 1, bins + 1)
        ax.hist(positive, bins=edges, color="C0", edgecolor="white")
        ax.set_xscale("log")
        # plain numbers at 1, 2, 5 x 10^k instead of crowded powers-of-ten labels
        ax.xaxis.set_major_locator(mpl.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    else:
        ax.hist(positive, bins=bins, color="C0", edgecolor="white")
    ax.axvline(positive.min(), color="C3", ls="--", lw=1.5, label=f"minimum: {positive.min():g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right")
    return ax


def plot_sparsity_pattern(ratings, *, sort=True, ax=None):
    """The observed entries of the feedback matrix: a ``spy``-like image of :math:`\\delta_{ij}`.

    Rows are users and columns items.  With ``sort`` the users are ordered
    by activity :math:`|\\Omega_i|` (most active at the top) and the items
    by popularity :math:`|\\Omega^j|` (most rated on the left), so the dense
    corner and the empty tail are visible; ties keep index order.  A pixel's
    grey level is the fraction of observed entries it covers once the image
    is scaled to the axes (black = all observed).
    """
    from .data import Ratings  # local import: plotting stays importable on its own

    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be a recsys_tutorial.Ratings; got {type(ratings).__name__}")
    rows, cols = ratings.users, ratings.items
    if sort:
        user_rank = np.empty(ratings.n_users, dtype=np.int64)
        user_rank[np.argsort(-ratings.user_counts(), kind="stable")] = np.arange(ratings.n_users)
        item_rank = np.empty(ratings.n_items, dtype=np.int64)
        item_rank[np.argsort(-ratings.item_counts(), kind="stable")] = np.arange(ratings.n_items)
        rows, cols = user_rank[rows], item_rank[cols]
    mask = np.zeros(ratings.shape, dtype=float)
    mask[rows, cols] = 1.0
    ax = _axes(ax)
    ax.imshow(mask, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto", interpolation="antialiased")
    ax.grid(False)
    order = " (sorted by number of ratings)" if sort else ""
    ax.set_xlabel(f"items{order}")
    ax.set_ylabel(f"users{order}")
    return ax


def plot_score_grid(
    row_values,
    col_values,
    scores,
    *,
    row_label,
    col_label,
    marks=None,
    fmt="{:.4f}",
    cbar_label="score",
    ax=None,
):
    """Heat map of a score over a grid of two hyperparameters, each cell labelled.

    ``scores[a, b]`` is the score at ``row_values[a]`` (y-axis) and
    ``col_values[b]`` (x-axis), e.g. the mean validation RMSE of a grid
    search.  ``marks`` maps a legend label to a ``(row_value, col_value)``
    pair to outline (the best cell, a default setting, ...).  The cells are
    evenly spaced whatever the values, which are shown as tick labels.
    """
    scores = np.asarray(scores, dtype=float)
    row_values, col_values = list(row_values), list(col_values)
    if scores.shape != (len(row_values), len(col_values)):
        raise ValueError(
            f"scores must have shape (len(row_values), len(col_values)) = "
            f"({len(row_values)}, {len(col_values)}); got {scores.shape}"
        )
    ax = _axes(ax)
    image = ax.imshow(scores, cmap="viridis_r", origin="lower", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=cbar_label)
    middle = (np.nanmin(scores) + np.nanmax(scores)) / 2
    for a in range(scores.shape[0]):
        for b in range(scores.shape[1]):
            # dark text on the light end of viridis_r (low scores), light text elsewhere
            ax.text(
                b,
                a,
                fmt.format(scores[a, b]),
                ha="center",
                va="center",
                fontsize=8,
                color="black" if scores[a, b] < middle else "white",
            )
    for k, (label, (row, col)) in enumerate((marks or {}).items()):
        if row not in row_values or col not in col_values:
            raise ValueError(f"marks[{label!r}] = {(row, col)!r} is not on the grid")
        a, b = row_values.index(row), col_values.index(col)
        ax.add_patch(
            mpl.patches.Rectangle(
                (b - 0.5, a - 0.5),
                1,
                1,
                fill=False,
                lw=2.5,
                edgecolor=f"C{(k + 1) % 10}",
                label=label,
            )
        )
    ax.set_xticks(range(len(col_values)), [f"{v:g}" for v in col_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.grid(False)
    if marks:
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.15), ncol=len(marks))
    return ax
