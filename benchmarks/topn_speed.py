"""Top-N lists for every user: one Python call per user against the batched path, side by side.

The ranking metrics used to ask ``model.recommend(user, k)`` once per user, a
Python round trip and a pass over all items each time.  They now score blocks
of users against every item at once (``Recommender._top_k``).  This script fits
each model once on the fixed split of MovieLens 100K and times, in one run,

* ``loop``:  ``recommend(user, 10)`` for every user, one call at a time (the old
  shape of the metric), and
* ``batch``: ``recommend(all_users, 10)``, one call,

checks that both give the same lists, and prints the times and their ratio.

    python benchmarks/topn_speed.py            # MF (ALS), PMF, Bayesian PMF, Popularity
    python benchmarks/topn_speed.py --quick    # tiny synthetic data, for the smoke test
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import recsys_tutorial as rt


def models() -> dict:
    return {
        "baseline": rt.models.Baseline(),
        "mf-als": rt.models.MatrixFactorization(solver="als", random_state=0),
        "pmf": rt.models.PMF(random_state=0),
        "bpmf": rt.models.BayesianPMF(random_state=0),
        "popularity": rt.models.Popularity(),
    }


def best_of(repeats: int, call) -> tuple[float, object]:
    """The fastest of ``repeats`` runs (the least disturbed by other load) and the result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data (a smoke test)")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    if args.quick:
        ratings = rt.datasets.make_synthetic(
            60, 80, n_factors=3, density=0.2, random_state=0
        ).ratings
        chosen = {name: m for name, m in models().items() if name in ("baseline", "mf-als")}
    else:
        ratings = rt.datasets.load_movielens_100k()
        chosen = models()
    train, _ = rt.model_selection.train_test_split(ratings, 0.2, random_state=0)
    users = np.arange(train.n_users)
    print(f"top-{args.k} lists for all {train.n_users} users of {train.n_items} items")
    print("| model | loop s | batch s | loop / batch | same lists |")
    print("|---|---|---|---|---|")
    for name, model in chosen.items():
        # each timed call binds this iteration's model (B023), though best_of runs it at once
        model.fit(train)
        loop_s, loop = best_of(
            3, lambda model=model: np.array([model.recommend(int(u), args.k)[0] for u in users])
        )
        batch_s, batch = best_of(3, lambda model=model: model.recommend(users, args.k)[0])
        same = bool(np.array_equal(loop, batch))
        print(f"| {name} | {loop_s:.3f} | {batch_s:.3f} | {loop_s / batch_s:.1f} | {same} |")
        if not same:
            raise SystemExit(f"{name}: the batched lists differ from the one-user lists")


if __name__ == "__main__":
    main()
