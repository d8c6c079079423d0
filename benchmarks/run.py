"""Side-by-side benchmark on MovieLens 100K: the package's models and Surprise, same folds, one run.

Every model is fitted on the same five training folds of
``rt.model_selection.kfold(ratings, 5, random_state=0)`` and scored on the
matching test folds; within each fold the models run one after the other, so a
change in machine load affects them alike.  Printed: mean RMSE and MAE over the
folds, mean fit and predict time per fold, and each fit time as a fraction of
Surprise SVD's (the ratio is what to compare across machines, not the seconds).

    python benchmarks/run.py                    # the default set of models
    python benchmarks/run.py --models mf-als mf-sgd surprise-svd
    python benchmarks/run.py --ranking          # also precision/recall/NDCG/MAP@10
    python benchmarks/run.py --list             # what can be run

Needs MovieLens 100K (``RECSYS_TUTORIAL_DATA`` or the download cache) and,
for the Surprise rows, ``scikit-surprise`` (in requirements.txt); Surprise rows
are skipped with a note when it is not installed.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import recsys_tutorial as rt


def package_models() -> dict:
    """name -> factory of an unfitted model, every one with its defaults and a seed."""
    models = {
        "global-mean": lambda: rt.models.GlobalMean(),
        "baseline": lambda: rt.models.Baseline(),
        "mf-gd": lambda: rt.models.MatrixFactorization(solver="gd", random_state=0),
        "mf-sgd": lambda: rt.models.MatrixFactorization(solver="sgd", random_state=0),
        "mf-als": lambda: rt.models.MatrixFactorization(solver="als", random_state=0),
        "pmf": lambda: rt.models.PMF(random_state=0),
        "popularity": lambda: rt.models.Popularity(),  # ranking only: run with --ranking
    }
    if hasattr(rt.models, "BayesianPMF"):
        models["bpmf"] = lambda: rt.models.BayesianPMF(random_state=0)
    return models


def surprise_models() -> dict:
    try:
        import surprise
    except ImportError:
        return {}
    return {
        "surprise-svd": lambda: surprise.SVD(random_state=0),
        "surprise-baselineonly": lambda: surprise.BaselineOnly(verbose=False),
        "surprise-normalpredictor": lambda: surprise.NormalPredictor(),
        "surprise-svdpp": lambda: surprise.SVDpp(random_state=0),  # slow: not in the default set
    }


DEFAULT = [
    "global-mean",
    "baseline",
    "mf-gd",
    "mf-sgd",
    "mf-als",
    "pmf",
    "bpmf",
    "popularity",
    "surprise-baselineonly",
    "surprise-svd",
]
RANKING_ONLY = {"popularity"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None, help="names to run (see --list)")
    parser.add_argument("--ranking", action="store_true", help="also the ranking metrics at k=10")
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    args = parser.parse_args(argv)

    ours, theirs = package_models(), surprise_models()
    if args.list:
        print("package:", ", ".join(ours))
        print("surprise:", ", ".join(theirs) if theirs else "(scikit-surprise not installed)")
        return
    names = args.models or [n for n in DEFAULT if n in ours or n in theirs]
    unknown = [n for n in names if n not in ours and not n.startswith("surprise-")]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; see --list")
    skipped = [n for n in names if n.startswith("surprise-") and n not in theirs]
    names = [n for n in names if n not in skipped]
    if not args.ranking:
        names = [n for n in names if n not in RANKING_ONLY]

    ratings = rt.datasets.load_movielens_100k()
    folds = list(rt.model_selection.kfold(ratings, 5, random_state=0))
    metrics = ["rmse", "mae"] + (
        ["precision@10", "recall@10", "ndcg@10", "map@10"] if args.ranking else []
    )
    results = {name: {} for name in names}
    for k, (train, test) in enumerate(folds):
        for name in names:
            if name in ours:
                wanted = [m for m in metrics if "@" in m] if name in RANKING_ONLY else metrics
                scores = rt.model_selection.cross_validate(
                    ours[name](), ratings, [(train, test)], wanted
                )
            else:
                scores = rt.external.surprise_cross_validate(theirs[name], [(train, test)])
            for key, value in scores.items():
                results[name].setdefault(key, []).append(float(value[0]))
        print(f"fold {k + 1}/5 done", flush=True)

    print()
    print(
        "MovieLens 100K, 5-fold CV (kfold random_state=0); "
        f"{platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    reference = results.get("surprise-svd", {}).get("fit_time")
    header = ["model", "RMSE", "MAE"] + [m.upper() if "@" not in m else m for m in metrics[2:]]
    header += ["fit s/fold", "predict s/fold"] + (["fit / SVD fit"] if reference else [])
    rows = []
    for name in names:
        r = results[name]
        row = [name] + [
            f"{np.mean(r['test_' + m]):.4f}" if "test_" + m in r else "-" for m in metrics
        ]
        row += [f"{np.mean(r['fit_time']):.3f}", f"{np.mean(r['predict_time']):.3f}"]
        if reference:
            ratio = np.array(r["fit_time"]) / np.array(reference)
            row.append(f"{ratio.mean():.3f} (max {ratio.max():.3f})")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    if skipped:
        print(f"\nskipped (scikit-surprise not installed): {', '.join(skipped)}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
