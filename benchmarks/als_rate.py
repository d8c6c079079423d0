"""How close does an ALS sweep come to the machine's dense matrix-product rate?

For each problem size and number of factors d, one run fits explicit ALS
(``MatrixFactorization(solver="als", biased=False, reg_exponent=1)``) with the
*old* linear algebra (Gram matrices as one sparse product, LU solves) and the
*new* (rows bucketed by length with batched dense products, Cholesky solves),
side by side, and prints

* FLOPs of a sweep, by the cost model 4 nnz d^2 + (m + n) d^3 / 3 (forming the
  Gram matrices of both half-steps and factoring them),
* seconds per sweep, wall clock (the fastest of the timed sweeps; the first
  sweep, which also builds the row buckets, is not timed) and CPU time (see
  :func:`measure`),
* the achieved rate (FLOPs per CPU second),
* the rate of a dense 1024 x 1024 matrix product measured just before that row
  (best of 3, per CPU second), and the ratio of the two.  Rates per CPU second
  compare the code with the machine's limit even on a machine shared with other
  jobs, where wall time also counts the waits for a core; the speed-ups of
  several threads are ratios of wall times (what a user waits for),
* the peak memory numpy allocated during one more fit of one sweep, its
  starting objective included (tracemalloc).

Besides the explicit ALS rows (``als``), each d gets rows of iALS
(``ImplicitMF``, ``ials-chol``: exact Cholesky solves, whose cost model is the
explicit one plus the two :math:`F^\\top F` products, 4 nnz d^2 + (m + n)(d^3/3 + 2 d^2);
``ials-cg``: the default three conjugate-gradient steps, see :func:`ials_cg_flops`),
and from d = 16 on (where the rows are solved in buckets) the same sweeps with
``n_threads=2`` (``--parallel``), whose speed-up over the one-thread row is
printed at the end.

Run from the repository root (machine-dependent: compare ratios, not seconds)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/als_rate.py            # 100K + 1M
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/als_rate.py --large    # + 10M
    .venv/bin/python benchmarks/als_rate.py --threads 2                       # BLAS threads
    .venv/bin/python benchmarks/als_rate.py --large --json results.json        # keep the rows

``--json`` writes every printed row as a record, with the date, the command line,
the machine, the BLAS and the load average, for a chapter to load results that
would take longer than its time budget to recompute (chapter 9 loads
``benchmarks/results/als_rate.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import sys
import time
import tracemalloc
from functools import partial

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
    """GFLOP/s of an n x n float64 matrix product (2 n^3 flops) per CPU second, best of
    ``repeats`` (process CPU time: with one BLAS thread, the time the product had a core)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        a @ b
        best = min(best, time.process_time() - t0)
    return 2 * n**3 / best / 1e9


def sweep_flops(ratings: rt.Ratings, d: int) -> float:
    """Explicit ALS: both half-steps' Gram matrices (2 |Omega_i| d^2 each row) and
    Cholesky factorizations (d^3 / 3 each row)."""
    return 4 * len(ratings) * d**2 + (ratings.n_users + ratings.n_items) * d**3 / 3


def ials_chol_flops(ratings: rt.Ratings, d: int) -> float:
    """iALS with exact solves: the ALS count plus F^T F of each side (2 rows d^2)."""
    return sweep_flops(ratings, d) + 2 * (ratings.n_users + ratings.n_items) * d**2


def ials_cg_flops(ratings: rt.Ratings, d: int, steps: int = 3) -> float:
    """iALS with ``steps`` CG steps per row: per half-step F^T F (2 rows d^2), b (2 nnz d),
    and steps + 1 products by the normal matrix (2 d^2 per row + 4 nnz d for the correction)."""
    rows, nnz = ratings.n_users + ratings.n_items, len(ratings)
    return 2 * rows * d**2 + 4 * nnz * d + (steps + 1) * (2 * rows * d**2 + 8 * nnz * d)


#: model name -> (constructor(d, n_epochs, n_threads), FLOPs of a sweep)
MODELS = {
    "als": (
        lambda d, n_epochs, *, n_threads: rt.models.MatrixFactorization(
            n_factors=d, solver="als", reg=0.1, reg_exponent=1.0, biased=False,
            n_epochs=n_epochs, random_state=0, n_threads=n_threads,
        ),
        sweep_flops,
    ),
    "ials-chol": (
        lambda d, n_epochs, *, n_threads: rt.models.ImplicitMF(
            n_factors=d, solver="cholesky", n_epochs=n_epochs, random_state=0,
            n_threads=n_threads,
        ),
        ials_chol_flops,
    ),
    "ials-cg": (
        lambda d, n_epochs, *, n_threads: rt.models.ImplicitMF(
            n_factors=d, n_epochs=n_epochs, random_state=0, n_threads=n_threads
        ),
        ials_cg_flops,
    ),
}  # fmt: skip


def cpu_per_sweep(make, ratings: rt.Ratings, sweeps: int) -> tuple[float, float, object]:
    """(CPU seconds per sweep, wall seconds per sweep, the fitted model); ``make(n_epochs)``.

    CPU seconds: the process time of a fit of ``1 + sweeps`` sweeps minus that of a
    one-sweep fit (set-up and first sweep, which also builds the row buckets), over
    ``sweeps``.  On a machine shared with other jobs it counts the time this process
    had a core, where wall time also counts its waits for one.  Wall seconds: the
    fastest of the timed sweeps (the least disturbed).
    """
    c0 = time.process_time()
    make(1).fit(ratings)
    c1 = time.process_time()
    fitted = make(1 + sweeps).fit(ratings)
    cpu = ((time.process_time() - c1) - (c1 - c0)) / sweeps
    return cpu, float(np.min(np.diff(fitted.history_time_))), fitted


def peak_memory(make, ratings: rt.Ratings) -> float:
    """Peak MB that Python and numpy allocated during a one-sweep fit (tracemalloc)."""
    tracemalloc.start()
    try:
        make(1).fit(ratings)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def runs(name: str, d: int, args) -> list[tuple[str, str, int | None]]:
    """The (model, implementation, n_threads) rows of one problem and d."""
    out = []
    for impl in IMPLEMENTATIONS:
        if name == "synthetic 10M" and impl == "old" and d > args.old_large_d:
            continue
        out.append(("als", impl, None))
    if args.parallel and d >= linalg._BATCHED_MIN_K:
        out.append(("als", "new", args.parallel))
    if not args.no_ials:
        out.append(("ials-chol", "new", None))
        if args.parallel and d >= linalg._BATCHED_MIN_K:
            out.append(("ials-chol", "new", args.parallel))
        out.append(("ials-cg", "new", None))
    return out


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture")
    return [{key: lib.get(key) for key in keys} for lib in threadpool_info()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="add the 10M-rating synthetic problem")
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10, 16, 32, 64])
    parser.add_argument("--sweeps", type=int, default=3, help="timed sweeps per fit (default 3)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(PROBLEMS), help="run only these problems"
    )
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to this JSON file")
    parser.add_argument(
        "--parallel",
        type=int,
        default=2,
        metavar="N",
        help="from d = 16 on, also time ALS and exact iALS with n_threads=N (0: not)",
    )
    parser.add_argument("--no-ials", action="store_true", help="explicit ALS rows only")
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
        f"{'problem':<14}{'nnz':>11}{'d':>4}  {'model':<10}{'impl':<5}{'thr':>4}{'GFLOP':>8}"
        f"{'s/sweep':>9}{'cpu s':>9}{'GFLOP/s':>9}{'dense':>8}{'ratio':>7}{'peak MB':>9}"
        f"{'objective':>14}"
    )
    started = datetime.datetime.now(datetime.UTC)
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join(["benchmarks/als_rate.py", *(argv or sys.argv[1:])]),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "blas_threads": args.threads,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "blas": blas_info(),
    }
    with limits:
        print(f"numpy {np.__version__}; dense rate = 1024x1024 float64 product, measured per row")
        print(header)
        print("-" * len(header))
        records = []
        for name in names:
            ratings = PROBLEMS[name]()
            for d in args.dims:
                for model_name, impl, n_threads in runs(name, d, args):
                    make, count = MODELS[model_name]
                    rate = dense_rate()
                    with implementation(impl):
                        build = partial(make, d, n_threads=n_threads)
                        cpu, seconds, fitted = cpu_per_sweep(build, ratings, args.sweeps)
                        peak = peak_memory(build, ratings)
                        objective = float(fitted.history_[-1])
                    flops = count(ratings, d)
                    achieved = flops / cpu / 1e9
                    records.append({
                        "problem": name, "nnz": len(ratings), "n_users": ratings.n_users,
                        "n_items": ratings.n_items, "d": d, "model": model_name, "impl": impl,
                        "n_threads": n_threads, "gflop": flops / 1e9,
                        "seconds_per_sweep": seconds, "cpu_seconds_per_sweep": cpu,
                        "gflops": achieved, "dense_gflops": rate,
                        "ratio": achieved / rate, "peak_mb": peak, "objective": objective,
                        "load_average": os.getloadavg()[0],
                    })  # fmt: skip
                    print(
                        f"{name:<14}{len(ratings):>11,}{d:>4}  {model_name:<10}{impl:<5}"
                        f"{n_threads or 1:>4}{flops / 1e9:>8.3f}{seconds:>9.4f}{cpu:>9.4f}"
                        f"{achieved:>9.2f}"
                        f"{rate:>8.1f}{achieved / rate:>7.3f}{peak:>9.0f}{objective:>14.6g}",
                        flush=True,
                    )
                    if args.json:
                        write_json(args.json, meta, records, started)
        print()
        for row in records:
            key = (row["problem"], row["d"], row["model"])
            one = [
                r for r in records
                if (r["problem"], r["d"], r["model"]) == key and r["n_threads"] is None
                and r["impl"] == "new"
            ]  # fmt: skip
            if row["impl"] == "old":
                new = one[0]["cpu_seconds_per_sweep"]
                print(f"speed-up new/old   {key[0]:<14} d={key[1]:<3} {key[2]:<10}"
                      f"{row['cpu_seconds_per_sweep'] / new:6.2f}x (CPU time)")  # fmt: skip
            elif row["n_threads"] is not None:
                print(f"speed-up {row['n_threads']} threads {key[0]:<14} d={key[1]:<3} {key[2]:<10}"
                      f"{one[0]['seconds_per_sweep'] / row['seconds_per_sweep']:6.2f}x"
                      " (wall)")  # fmt: skip
    return 0


def write_json(path: str, meta: dict, records: list, started) -> None:
    """The rows so far: written after every row, so a long run stopped early keeps them."""
    meta = {**meta, "seconds": (datetime.datetime.now(datetime.UTC) - started).total_seconds()}
    with open(path, "w") as fh:
        json.dump({"meta": meta, "rows": records}, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
