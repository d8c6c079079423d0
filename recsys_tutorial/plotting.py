"""Figures of the book (matplotlib): one function per kind of figure.

Every function draws on an ``Axes`` (a new one when ``ax`` is None) and
returns it, so chapters can combine and annotate figures.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["book_style", "plot_learning_curves"]


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


def plot_learning_curves(curves: dict, *, x=None, xlabel="epoch", ylabel="training objective",
                         logy=False, ax=None):
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
