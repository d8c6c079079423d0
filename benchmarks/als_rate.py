"""How close does an ALS sweep come to the machine's dense matrix-product rate?

For each problem size and number of factors d, one run fits explicit ALS
(``MatrixFactorization(solver="als", biased=False, reg_exponent=1)``) with the
*old* linear algebra (Gram matrices as one sparse product, LU solves) and the
*new* (rows bucketed by length with batched dense products, Cholesky solves),
side by side, and prints

* FLOPs of a sweep, by the cost model 4 nnz d^2 + (m + n) d^3 / 3 (forming the
  Gram matrices of both half-steps and factoring them),
* seconds per sweep (median over the timed sweeps; the first sweep, which also
  builds the row buckets, is not timed),
* the achieved rate (FLOPs / seconds),
* the rate of a dense 1024 x 1024 matrix product measured just before that row
  (best of 3), and the ratio of the two,
* the peak memory numpy allocated during one more sweep (tracemalloc).

Run from the repository root (machine-dependent: compare ratios, not seconds)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/als_rate.py            # 100K + 1M
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/als_rate.py --large    # + 10M
    .venv/bin/python benchmarks/als_rate.py --threads 2                       # BLAS threads
    .venv/bin/python benchmarks/als_rate.py --large --json results.json        # keep the rows

``--json`` writes every printed row as a record, for a chapter to load results
that would take longer than its time budget to recompute.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time
import tracemalloc

import numpy as np

import recsys_tutorial as rt
from recsys_tutorial import linalg

#: (name, builder) of each problem; the 10M one only with --large
PROBLEMS = {
    "ml-100k 80%": lambda: rt.model_selection.train_test_split(
        rt.datasets.load_movielens_100k(), test_size=0.2, random_state=0
    )[0],
    "synthetic 1M": lambda: (
        rt.datasets.make_synthetic(
            20_000, 5_000, n_factors=10, density=0.01, random_state=0
        ).ratings
    ),
    "synthetic 10M": lambda: (
        rt.datasets.make_synthetic(
            100_000, 20_000, n_factors=10, density=0.005, random_state=0
        ).ratings
    ),
}
#: the thresholds of linalg's "auto" choice; "old" sets them out of reach
IMPLEMENTATIONS = {
    "old": {"_BATCHED_MIN_K": 10**9, "_CHOLESKY_MIN_K": 10**9},
    "new": {"_BATCHED_MIN_K": linalg._BATCHED_MIN_K, "_CHOLESKY_MIN_K": linalg._CHOLESKY_MIN_K},
}


@contextlib.contextmanager
def implementation(name: str):
    saved = {key: getattr(linalg, key) for key in IMPLEMENTATIONS[name]}
    for key, value in IMPLEMENTATIONS[name].items():
        setattr(linalg, key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(linalg, key, value)


def dense_rate(n: int = 1024, repeats: int = 3) -> float:
    """GFLOP/s of an n x n float64 matrix product (2 n^3 flops), best of ``repeats``."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def sweep_flops(ratings: rt.Ratings, d: int) -> float:
    return 4 * len(ratings) * d**2 + (ratings.n_users + ratings.n_items) * d**3 / 3


def model(d: int, n_epochs: int) -> rt.models.MatrixFactorization:
    return rt.models.MatrixFactorization(
        n_factors=d, solver="als", reg=0.1, reg_exponent=1.0, biased=False,
        n_epochs=n_epochs, random_state=0,
    )  # fmt: skip


def measure(ratings: rt.Ratings, d: int, sweeps: int) -> tuple[float, float, float]:
    """(seconds per sweep, peak MB of a sweep, final objective)."""
    fitted = model(d, 1 + sweeps).fit(ratings)
    seconds = float(np.median(np.diff(fitted.history_time_)))
    tracemalloc.start()
    try:
        model(d, 1).fit(ratings)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return seconds, peak, float(fitted.history_[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="add the 10M-rating synthetic problem")
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10, 32, 64])
    parser.add_argument("--sweeps", type=int, default=3, help="timed sweeps per fit (default 3)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(PROBLEMS), help="run only these problems"
    )
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to this JSON file")
    parser.add_argument(
        "--old-large-d", type=int, default=32,
        help="largest d run with the old code on the 10M problem (its Gram matrices need "
        "O(m d^2) memory: 5.5 GB at d = 64); default 32",
    )  # fmt: skip
    args = parser.parse_args(argv)
    limits = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.threads)
    names = [name for name in PROBLEMS if args.large or name != "synthetic 10M"]
    if args.only:
        names = [name for name in PROBLEMS if name in args.only]
    header = (
        f"{'problem':<14}{'nnz':>11}{'d':>4}  {'impl':<4}{'GFLOP':>8}{'s/sweep':>9}"
        f"{'GFLOP/s':>9}{'dense':>8}{'ratio':>7}{'peak MB':>9}{'objective':>14}"
    )
    with limits:
        print(f"numpy {np.__version__}; dense rate = 1024x1024 float64 product, measured per row")
        print(header)
        print("-" * len(header))
        speedups, records = [], []
        for name in names:
            ratings = PROBLEMS[name]()
            for d in args.dims:
                times = {}
                for impl in IMPLEMENTATIONS:
                    if name == "synthetic 10M" and impl == "old" and d > args.old_large_d:
                        print(f"{name:<14}{len(ratings):>11,}{d:>4}  {impl:<4}  (skipped: memory)")
                        continue
                    rate = dense_rate()
                    with implementation(impl):
                        seconds, peak, objective = measure(ratings, d, args.sweeps)
                    flops = sweep_flops(ratings, d)
                    achieved = flops / seconds / 1e9
                    times[impl] = seconds
                    records.append({
                        "problem": name, "nnz": len(ratings), "n_users": ratings.n_users,
                        "n_items": ratings.n_items, "d": d, "impl": impl, "gflop": flops / 1e9,
                        "seconds_per_sweep": seconds, "gflops": achieved, "dense_gflops": rate,
                        "ratio": achieved / rate, "peak_mb": peak, "objective": objective,
                    })  # fmt: skip
                    print(
                        f"{name:<14}{len(ratings):>11,}{d:>4}  {impl:<4}{flops / 1e9:>8.3f}"
                        f"{seconds:>9.4f}{achieved:>9.2f}{rate:>8.1f}{achieved / rate:>7.3f}"
                        f"{peak:>9.0f}{objective:>14.6g}",
                        flush=True,
                    )
                if len(times) == 2:
                    speedups.append((name, d, times["old"] / times["new"]))
        print()
        for name, d, speedup in speedups:
            print(f"speed-up new/old  {name:<14} d={d:<3} {speedup:6.2f}x")
    if args.json:
        meta = {"numpy": np.__version__, "machine": platform.machine(), "threads": args.threads}
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": records}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
