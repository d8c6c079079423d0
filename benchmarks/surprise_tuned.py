"""Nested cross-validation: the package's models and Surprise's, tuned alike, with paired tests.

Outer loop: the book's five folds, ``kfold(ratings, 5, random_state=0)``.  On
each outer training part, every "tuned" row picks its hyperparameters by an
inner 3-fold CV of that training part only (``kfold(train, 3, random_state=k)``,
the *same* inner folds for every model) over a grid of the *same size* (12 points) for
both libraries; the chosen setting is refitted on the whole outer training
part and scored once on the outer test fold, which nothing else has seen.
"default" rows use each library's defaults.  This is the symmetric protocol
of Rendle et al. (2019, "On the difficulty of evaluating baselines"): a
comparison in which only one side is tuned measures the tuning, not the model.

Printed: per-fold RMSE of every row, its mean, the settings the inner CV
chose, and for each of our rows the Nadeau-Bengio corrected paired t-test
against tuned Surprise SVD (:mod:`recsys_tutorial.significance`; per-fold
differences, n_test / n_train = 1/4).  ``--json PATH`` also writes all of it
(with the date, the command and the library versions) for the book's chapter on
evaluation, which loads ``benchmarks/results/explicit.json``.

    python benchmarks/surprise_tuned.py                  # everything (10-20 min)
    python benchmarks/surprise_tuned.py --json benchmarks/results/explicit.json
    python benchmarks/surprise_tuned.py --folds 2        # the first two outer folds only
    python benchmarks/surprise_tuned.py --svdpp-folds 0  # skip SVD++ (a fit takes about a minute)

SVD++ is measured with its defaults only: its fit and (slow) prediction take
about a minute per fold, so an inner grid of the same budget would take hours
here; ``--svdpp-folds`` limits it to the first folds.  Needs MovieLens 100K and
scikit-surprise.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import sys
import time

import numpy as np

import recsys_tutorial as rt

#: The grids: the same number of points (12) for every tuned row, each wide enough that the
#: choice can fall inside it (a choice on an edge is flagged in the output).  Surprise's around
#: its defaults (SVD: 100 factors, lr 0.005, reg 0.02; BaselineOnly: reg_u 15, reg_i 10).
#: Earlier grids chose an edge on every fold: lr 0.01 and reg 0.1 of an 8-point SVD grid (lr
#: 0.005/0.01, reg 0.02/0.1), then lr 0.02 of lr 0.01/0.02 (reg 0.1 inside 0.05-0.2), and
#: BaselineOnly reg_i 2 of 2-25; hence these ranges.
GRIDS = {
    "ours ALS": {"n_factors": [5, 10, 20], "reg": [0.6, 0.9, 1.2, 1.8]},
    "ours Baseline": {"reg_user": [2.0, 5.0, 10.0], "reg_item": [1.0, 2.0, 5.0, 10.0]},
    "Surprise SVD": {"lr_all": [0.005, 0.01, 0.02, 0.04], "reg_all": [0.05, 0.1, 0.2]},
    "Surprise BaselineOnly": {"reg_u": [2, 5, 15], "reg_i": [1, 2, 5, 10]},
}


def _combos(grid):
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


def _ours(name, params=None):
    params = dict(params or {})
    if name == "ours ALS":
        return rt.models.MatrixFactorization(solver="als", random_state=0, **params)
    if name == "ours Baseline":
        return rt.models.Baseline(**params)
    if name == "ours PMF":
        return rt.models.PMF(random_state=0, **params)
    if name == "ours BPMF":
        return rt.models.BayesianPMF(random_state=0, **params)
    raise KeyError(name)


def _surprise_factory(name, params=None):
    import surprise

    params = dict(params or {})
    if name == "Surprise SVD":
        return lambda: surprise.SVD(random_state=0, **params)
    if name == "Surprise SVD++":
        return lambda: surprise.SVDpp(random_state=0, **params)
    if name == "Surprise BaselineOnly":
        options = {"method": "als"}
        options.update(params)
        return lambda: surprise.BaselineOnly(bsl_options=options, verbose=False)
    raise KeyError(name)


def inner_choice(name, train, inner):
    """The grid point with the lowest mean inner-CV RMSE, and that RMSE."""
    scores = []
    for params in _combos(GRIDS[name]):
        if name.startswith("ours"):
            result = rt.model_selection.cross_validate(_ours(name, params), train, inner, ["rmse"])
        else:
            result = rt.external.surprise_cross_validate(_surprise_factory(name, params), inner)
        scores.append((float(np.mean(result["test_rmse"])), params))
    best = min(scores, key=lambda s: s[0])
    return best[1], best[0]


def outer_rmse(name, params, train, test):
    if name.startswith("ours"):
        return float(
            rt.model_selection.cross_validate(
                _ours(name, params), train, [(train, test)], ["rmse"]
            )["test_rmse"][0]
        )
    return float(
        rt.external.surprise_cross_validate(_surprise_factory(name, params), [(train, test)])[
            "test_rmse"
        ][0]
    )


def _edges(name, params):
    """The parameters of a choice that sit at the end of a grid axis of 3 or more values."""
    grid = GRIDS[name]
    return [k for k, v in params.items() if len(grid[k]) >= 3 and v in (min(grid[k]), max(grid[k]))]


def _inner_record(label, chosen):
    """The inner-CV choices of a tuned row, per outer fold, for the JSON record ([] otherwise)."""
    name = label.removesuffix(" (tuned)")
    return [
        {"params": params, "inner_rmse": score, "edges": _edges(name, params)}
        for params, score in chosen.get(name, [])
    ]


def _default_settings(name):
    """The hyperparameters a default row uses, for the record (ours: get_params)."""
    if name.startswith("ours"):
        params = _ours(name).get_params()
        return {k: v for k, v in params.items() if k not in ("random_state", "verbose")}
    return {"Surprise SVD": "SVD()", "Surprise SVD++": "SVDpp()"}.get(
        name, "BaselineOnly(bsl_options={'method': 'als'})"
    )


def _versions():
    import scipy
    import surprise

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-surprise": surprise.__version__,
        "recsys_tutorial": getattr(rt, "__version__", "unknown"),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="outer folds to run (first k of 5)")
    parser.add_argument("--svdpp-folds", type=int, default=5, help="outer folds for SVD++")
    parser.add_argument(
        "--bpmf",
        nargs=2,
        type=int,
        metavar=("N_SAMPLES", "BURN_IN"),
        action="append",
        default=[],
        help="also a BPMF row with these settings (repeatable)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH")
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)

    ratings = rt.datasets.load_movielens_100k()
    folds = list(rt.model_selection.kfold(ratings, 5, random_state=0))[: args.folds]
    tuned = list(GRIDS)
    defaults = [
        "ours ALS",
        "ours Baseline",
        "ours PMF",
        "ours BPMF",
        "Surprise SVD",
        "Surprise BaselineOnly",
    ]
    extra_bpmf = {f"ours BPMF {n}/{b}": {"n_samples": n, "burn_in": b} for n, b in args.bpmf}
    rows: dict[str, list] = {}
    settings: dict[str, object] = {
        f"{name} (default)": _default_settings(name) for name in defaults
    }
    settings.update({label: params for label, params in extra_bpmf.items()})
    settings["Surprise SVD++ (default)"] = _default_settings("Surprise SVD++")
    settings.update({f"{name} (tuned)": {"grid": GRIDS[name]} for name in tuned})
    chosen: dict[str, list] = {}
    seconds: dict[str, float] = {}
    t_start = time.perf_counter()

    def timed(label, run, *run_args):
        t0 = time.perf_counter()
        value = run(*run_args)
        seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - t0
        return value

    for k, (train, test) in enumerate(folds):
        inner = list(rt.model_selection.kfold(train, 3, random_state=k))
        for name in defaults:
            label = f"{name} (default)"
            rows.setdefault(label, []).append(timed(label, outer_rmse, name, None, train, test))
        for label, params in extra_bpmf.items():
            rows.setdefault(label, []).append(
                timed(label, outer_rmse, "ours BPMF", params, train, test)
            )
        for name in tuned:
            label = f"{name} (tuned)"
            params, inner_score = timed(label, inner_choice, name, train, inner)
            rows.setdefault(label, []).append(timed(label, outer_rmse, name, params, train, test))
            chosen.setdefault(name, []).append((params, inner_score))
        if k < args.svdpp_folds:
            label = "Surprise SVD++ (default)"
            rows.setdefault(label, []).append(
                timed(label, outer_rmse, "Surprise SVD++", None, train, test)
            )
        print(
            f"outer fold {k + 1}/{len(folds)} done ({time.perf_counter() - t_start:.0f} s)",
            flush=True,
        )

    n_folds = len(folds)
    print(
        f"\nMovieLens 100K, nested CV: outer kfold(5, random_state=0), first {n_folds} folds; "
        "inner kfold(train, 3, random_state=k); grids of 12 points"
    )
    header = f"| {'model':<32s} | " + " | ".join(f"fold {k + 1}" for k in range(n_folds))
    print(header + " | mean   |")
    print("|" + "-" * (len(header) + 8) + "|")
    for label in sorted(rows, key=lambda name: np.mean(rows[name])):
        scores = rows[label]
        cells = [f"{s:.4f}" for s in scores] + ["  -   "] * (n_folds - len(scores))
        print(f"| {label:<32s} | " + " | ".join(cells) + f" | {np.mean(scores):.4f} |")

    print(
        "\nsettings chosen by the inner CV (per outer fold; inner mean RMSE; "
        "'edge' marks a value at the end of an axis of 3 or more)"
    )
    for name, picks in chosen.items():
        texts = []
        for params, score in picks:
            edges = _edges(name, params)
            texts.append(
                ", ".join(f"{k}={v:g}" for k, v in params.items())
                + f" ({score:.4f})"
                + (f" edge: {', '.join(edges)}" if edges else "")
            )
        print(f"  {name}: " + "; ".join(texts))

    reference = "Surprise SVD (tuned)"
    tests = {}
    if n_folds >= 2:
        print(
            f"\npaired corrected resampled t-test against {reference} "
            "(difference = ours - SVD, negative = ours better; n_test/n_train = 1/4):"
        )
        for label in sorted(rows, key=lambda name: np.mean(rows[name])):
            if label == reference or len(rows[label]) != n_folds:
                continue
            try:
                res = rt.significance.corrected_resampled_ttest(rows[label], rows[reference], 1 / 4)
            except ValueError as exc:
                print(f"  {label:<32s} {exc}")
                continue
            tests[label] = {
                "mean_difference": res.mean_difference,
                "std_error": res.std_error,
                "t": res.t,
                "df": res.df,
                "p_value": res.p_value,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "confidence": res.confidence,
            }
            print(
                f"  {label:<32s} diff {res.mean_difference:+.4f}  se {res.std_error:.4f}  "
                f"t {res.t:+6.2f}  p {res.p_value:.3f}  95% CI [{res.ci_low:+.4f}, "
                f"{res.ci_high:+.4f}]"
            )

    if args.json:
        record = {
            "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": "python " + " ".join(["benchmarks/surprise_tuned.py", *sys.argv[1:]]),
            "versions": _versions(),
            "protocol": {
                "outer": "kfold(ratings, 5, random_state=0)",
                "n_folds": n_folds,
                "inner": "kfold(outer training part, 3, random_state=k) for outer fold k",
                "grids": GRIDS,
                "test": "corrected_resampled_ttest(row, tuned SVD, 1/4), 95 %",
            },
            "rows": {
                label: {
                    "fold_rmse": rows[label],
                    "mean_rmse": float(np.mean(rows[label])),
                    "seconds": seconds[label],
                    "settings": settings.get(label),
                    "inner_choices": _inner_record(label, chosen),
                }
                for label in rows
            },
            "reference": reference,
            "tests_against_reference": tests,
        }
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=1)
            fh.write("\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
