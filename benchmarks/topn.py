"""Top-N lists on MovieLens 100K: the package's implicit-feedback models and `implicit`, one run.

The protocol of chapter 6, as issue 11 states it:

* every rating is a positive; training items are excluded from the lists;
  NDCG@10 and precision@10 as :mod:`recsys_tutorial.metrics` defines them, on
  the five folds of ``rt.model_selection.kfold(ratings, 5, random_state=0)``;
* hyperparameters are chosen on a validation split carved from fold 0's
  *training* part only (``train_test_split(train_0, 0.2, random_state=0)``),
  never on a test fold; ours and ``implicit``'s get grids of the same size;
* every model runs on one thread (``OPENBLAS_NUM_THREADS=1``, ``num_threads=1``).

Printed: each grid with its validation NDCG@10 and the choice; the 5-fold
table (mean NDCG@10, P@10, fit seconds per fold, with the spread over folds);
and the fit time of ``ImplicitMF`` against ``implicit``'s ALS at the same
factors and iterations (the ratio is what to compare across machines).

    python benchmarks/topn.py            # the full run (several minutes)
    python benchmarks/topn.py --quick    # a smoke run on a slice of the data
    python benchmarks/topn.py --json benchmarks/results/topn.json   # also save the results

With ``--json`` the validation scores of every grid, the choices, the per-fold
scores and fit times of every row and the fit-time comparison are written to a
small JSON file, which chapter 7 loads to show the table (it never types a number).

Needs MovieLens 100K (``RECSYS_TUTORIAL_DATA`` or the download cache) and
``implicit==0.7.3`` (requirements.txt); without ``implicit`` its rows are
skipped with a note.  Every model, ``implicit``'s included (behind a small
adapter), is measured by ``rt.metrics.ranking_metrics``, whose top-N lists come
from the batched path of the models (``Recommender._top_k``: blocks of users
scored against every item at once, no loop over users).
"""

from __future__ import annotations

import os

# one thread for every model, set before numpy loads its BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import json
import platform
import time
import warnings

import numpy as np
import scipy.sparse as sp

import recsys_tutorial as rt
from recsys_tutorial.models import Recommender

K = 10


class ImplicitAdapter(Recommender):
    """An `implicit` model as a package model, as far as the benchmark needs.

    ``fit`` trains the `implicit` model and records what the batched top-N path
    of :class:`~recsys_tutorial.models.Recommender` reads (the index spaces, the
    fitted marker); ``_score_users`` gives the score rows, so that
    ``rt.metrics.ranking_metrics`` measures it exactly as it measures ours.
    """

    def __init__(self, kind: str, **params):  # not a package model: no declared parameters
        self.kind, self.params = kind, params

    def fit(self, train: rt.Ratings):
        import implicit

        cls = {
            "als": implicit.cpu.als.AlternatingLeastSquares,
            "bpr": implicit.cpu.bpr.BayesianPersonalizedRanking,
        }[self.kind]
        self.model = cls(**self.params, num_threads=1, random_state=0)
        # every rating a positive: a users x items matrix of ones
        X = sp.csr_matrix(
            (np.ones(len(train), dtype=np.float32), (train.users, train.items)), shape=train.shape
        )
        self.model.fit(X, show_progress=False)
        self.n_users_, self.n_items_ = train.shape
        self.global_mean_ = float(train.values.mean())  # what _check_fitted looks for
        return self

    def _score_users(self, users):
        return self.model.user_factors[users] @ self.model.item_factors.T


def have_implicit() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


# The grids: ImplicitMF and implicit's ALS get the same number of settings (48),
# and so do BPR and implicit's BPR (8).  implicit's ALS grid contains the issue's
# tuned point (256 factors, reg 20, alpha 2) and its neighbours; ImplicitMF's spans
# more penalties (the best one grows with alpha, chapter 7), where implicit's spans
# one more factor size.  Both reach down to an unweighted or nearly unweighted fit,
# since chapter 7's small grid found its optimum at alpha = 0.
# Mind the two alphas: implicit 0.7.3 takes the confidence of an observed pair as
# alpha * r (its alpha = 2 is c = 2), ImplicitMF as 1 + alpha * r (Hu et al.), so
# implicit's alpha = a + 1 is ImplicitMF's alpha = a; ImplicitMF's regularization also
# carries the row weights |Omega_i|^nu (reg_exponent, kept at 0.5: 0.25 won no setting
# of an earlier 24-point grid that spanned it), implicit's none.
def grids(quick: bool) -> dict:
    if quick:
        return {
            "item-kNN": (lambda k: rt.models.ItemKNN(k), [{"k": 5}, {"k": 10}]),
            "EASE": (lambda reg: rt.models.EASE(reg), [{"reg": 10.0}, {"reg": 50.0}]),
            "ImplicitMF": (
                lambda **p: rt.models.ImplicitMF(8, n_epochs=2, random_state=0, **p),
                [{"reg": 0.3, "alpha": 2.0}, {"reg": 1.0, "alpha": 2.0}],
            ),
            "implicit ALS": (
                lambda **p: ImplicitAdapter("als", factors=8, iterations=2, **p),
                [{"regularization": 1.0, "alpha": 2.0}, {"regularization": 5.0, "alpha": 2.0}],
            ),
            "BPR": (
                lambda **p: rt.models.BPR(8, n_epochs=2, random_state=0, **p),
                [{"lr": 0.05}, {"lr": 0.1}],
            ),
            "implicit BPR": (
                lambda **p: ImplicitAdapter("bpr", factors=8, iterations=2, **p),
                [{"learning_rate": 0.01}, {"learning_rate": 0.05}],
            ),
        }
    imf = [
        {"n_factors": d, "reg": reg, "alpha": alpha, "reg_exponent": 0.5}
        for d in (64, 128)
        for reg in (1.0, 2.0, 3.0, 5.0, 8.0, 12.0)
        for alpha in (0.0, 1.0, 2.0, 5.0)
    ]
    als = [
        {"factors": d, "regularization": reg, "alpha": alpha}
        for d in (64, 128, 256)
        for reg in (10.0, 15.0, 20.0, 30.0)
        for alpha in (1.0, 2.0, 3.0, 6.0)
    ]
    bpr = [
        {"n_factors": d, "lr": lr, "reg": reg}
        for d in (64, 128)
        for lr in (0.02, 0.05)
        for reg in (0.003, 0.01)
    ]
    ibpr = [
        {"factors": d, "learning_rate": lr, "regularization": reg}
        for d in (64, 128)
        for lr in (0.005, 0.01)
        for reg in (0.003, 0.01)
    ]
    return {
        "item-kNN": (lambda k: rt.models.ItemKNN(k), [{"k": k} for k in (50, 100, 200)]),
        "EASE": (lambda reg: rt.models.EASE(reg), [{"reg": r} for r in (250.0, 500.0, 1000.0)]),
        "ImplicitMF": (lambda **p: rt.models.ImplicitMF(n_epochs=15, random_state=0, **p), imf),
        "implicit ALS": (lambda **p: ImplicitAdapter("als", iterations=15, **p), als),
        "BPR": (lambda **p: rt.models.BPR(random_state=0, **p), bpr),
        "implicit BPR": (lambda **p: ImplicitAdapter("bpr", iterations=100, **p), ibpr),
    }


def evaluate(model, train, test) -> dict:
    return rt.metrics.ranking_metrics(model, train, test, K)


def tune(name, factory, grid, train, val, record=None) -> dict:
    """Fit every setting on ``train``, score NDCG@10 on ``val``, return the best setting.

    ``record``, when given, receives ``(params, score)`` for every setting.
    """
    print(f"\n{name}: {len(grid)} settings, validation NDCG@10 (fold 0's training part only)")
    best, best_score = None, -np.inf
    for params in grid:
        score = evaluate(factory(**params).fit(train), train, val)["ndcg"]
        print(f"  {params}: {score:.4f}", flush=True)
        if record is not None:
            record.append((params, score))
        if score > best_score:
            best, best_score = params, score
    print(f"  chosen: {best}")
    return best


def timed_fit(model, train):
    t0 = time.perf_counter()
    model.fit(train)
    return model, time.perf_counter() - t0


def quick_data(ratings):
    """A slice for the smoke run: the first 100 users and the 300 lowest item indices."""
    keep = (ratings.users < 100) & (ratings.items < 300)
    return rt.Ratings(ratings.users[keep], ratings.items[keep], ratings.values[keep], 100, 300)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run on a slice, tiny grids")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="implicit")  # its threadpool advice; we set 1 thread

    ratings = rt.datasets.load_movielens_100k()
    if args.quick:
        ratings = quick_data(ratings)
    folds = list(rt.model_selection.kfold(ratings, 2 if args.quick else 5, random_state=0))
    fit_part, val = rt.model_selection.train_test_split(folds[0][0], 0.2, random_state=0)
    all_grids = grids(args.quick)
    if not have_implicit():
        print("implicit is not installed: its rows are skipped (pip install implicit==0.7.3)")
        all_grids = {k: v for k, v in all_grids.items() if not k.startswith("implicit")}
    validation = {name: [] for name in all_grids}
    chosen = {
        name: tune(name, f, g, fit_part, val, validation[name])
        for name, (f, g) in all_grids.items()
    }

    # the package defaults must be the validation choice (they were set from this run)
    defaults = {"ImplicitMF": rt.models.ImplicitMF(), "BPR": rt.models.BPR()}
    if not args.quick:
        for name, model in defaults.items():
            params = model.get_params()
            differs = {k: (params[k], v) for k, v in chosen[name].items() if params[k] != v}
            print(f"\n{name} defaults {'= the choice' if not differs else f'differ: {differs}'}")

    rows = {"most popular": lambda: rt.models.Popularity()}
    for name, (factory, _) in all_grids.items():
        rows[f"{name}, tuned"] = lambda f=factory, p=chosen[name]: f(**p)
    if not args.quick:
        # the explicit models of chapters 3-5 with their defaults (chosen for RMSE, chapter 6)
        rows["MF (SGD), defaults"] = lambda: rt.models.MatrixFactorization(
            solver="sgd", random_state=0
        )
        rows["MF (ALS), defaults"] = lambda: rt.models.MatrixFactorization(
            solver="als", random_state=0
        )
        rows["PMF, defaults"] = lambda: rt.models.PMF(random_state=0)
        rows["BayesianPMF, defaults"] = lambda: rt.models.BayesianPMF(random_state=0)
        rows["ImplicitMF, defaults"] = lambda: rt.models.ImplicitMF(random_state=0)
        rows["BPR, defaults"] = lambda: rt.models.BPR(random_state=0)
        if have_implicit():
            rows["implicit ALS, defaults"] = lambda: ImplicitAdapter("als")
            rows["implicit BPR, defaults"] = lambda: ImplicitAdapter("bpr")
    results = {name: [] for name in rows}
    for k, (train, test) in enumerate(folds):
        for name, make in rows.items():
            model, seconds = timed_fit(make(), train)
            scores = evaluate(model, train, test)
            results[name].append((scores["ndcg"], scores["precision"], seconds))
        print(f"fold {k + 1}/{len(folds)} done", flush=True)

    print(
        f"\nMovieLens 100K{' (quick slice)' if args.quick else ''}, {len(folds)}-fold CV "
        f"(kfold random_state=0), top-{K}, training items excluded, one thread; "
        f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    header = ["model", f"NDCG@{K}", f"P@{K}", "fit s/fold"]
    table = []
    for name, res in results.items():
        ndcg, prec, secs = np.array(res).T
        table.append([
            name,
            f"{ndcg.mean():.3f} ± {ndcg.std(ddof=1):.3f}",
            f"{prec.mean():.3f} ± {prec.std(ddof=1):.3f}",
            "-" if name == "most popular" else f"{secs.mean():.2f}",
        ])  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print(line(row))
    print("(mean ± standard deviation over the folds)")

    # paired per-fold differences: the folds are shared, so fold-to-fold variation cancels
    pairs = [
        ("ImplicitMF, defaults", "implicit ALS, tuned"),
        ("ImplicitMF, defaults", "EASE, tuned"),
        ("BPR, defaults", "implicit BPR, tuned"),
    ]
    printed = False
    for ours, peer in pairs:
        if ours not in results or peer not in results:
            continue
        if not printed:
            print(f"\npaired NDCG@{K} differences over the {len(folds)} folds (mean ± sd, t):")
            printed = True
        diff = np.array(results[ours])[:, 0] - np.array(results[peer])[:, 0]
        t = diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size))
        print(f"  {ours} - {peer}: {diff.mean():+.4f} ± {diff.std(ddof=1):.4f} (t = {t:.2f})")

    timing = None
    if have_implicit():
        # the same factors, iterations and CG steps (implicit 0.7.3 always takes 3), the same
        # data and precision, one thread; fits interleaved so that a busy machine slows both
        # alike; best of 3 each
        ours = rt.models.ImplicitMF() if not args.quick else rt.models.ImplicitMF(8, n_epochs=2)
        d, epochs = ours.n_factors, ours.n_epochs
        train = folds[0][0]
        times = {}
        for _ in range(3):
            for dtype in ("float32", "float64"):
                theirs = ImplicitAdapter("als", factors=d, iterations=epochs, dtype=np.dtype(dtype))
                model = ours.clone().set_params(dtype=dtype, cg_steps=3)
                times.setdefault(("ours", dtype), []).append(timed_fit(model, train)[1])
                times.setdefault(("implicit", dtype), []).append(timed_fit(theirs, train)[1])
        print(
            f"\nfit time at {d} factors, {epochs} iterations, 3 CG steps, fold 1, one thread "
            "(best of 3):"
        )
        for dtype in ("float32", "float64"):
            t_ours, t_theirs = min(times["ours", dtype]), min(times["implicit", dtype])
            print(
                f"  {dtype}: ImplicitMF {t_ours:.2f} s, implicit ALS {t_theirs:.2f} s, "
                f"ratio {t_ours / t_theirs:.2f}"
            )
        # best of 3 seconds per precision, for the JSON file
        timing = {"n_factors": d, "n_epochs": epochs, "cg_steps": 3}
        for dtype in ("float32", "float64"):
            timing[dtype] = {
                "ours_s": min(times["ours", dtype]),
                "implicit_s": min(times["implicit", dtype]),
            }

    if args.json and have_implicit():
        write_json(args, folds, validation, chosen, results, timing)


def write_json(args, folds, validation, chosen, results, timing) -> None:
    """Save what the run measured, so that chapter 7 can show it without retyping it."""
    import implicit  # only for its version (write_json runs when it is installed)

    out = {
        "produced": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/topn.py" + (" --quick" if args.quick else ""),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "implicit": implicit.__version__,
        "n_folds": len(folds),
        "k": K,
        "validation": {
            name: [{"params": p, "ndcg": s} for p, s in rows] for name, rows in validation.items()
        },
        "chosen": chosen,
        # per model: one [ndcg, precision, fit seconds] row per fold
        "folds": {name: [list(r) for r in res] for name, res in results.items()},
        "fit_time": timing,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"results written to {args.json}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
