"""Spark MLlib's ALS against the package's ALS at the same objective, as iterations grow.

Both minimize J = sum (R_ij - U_i.V_j)^2 + reg (sum |Omega_i| |U_i|^2 + sum |Omega^j| |V_j|^2)
(Spark's regParam convention: ``MatrixFactorization(biased=False, reg_exponent=1)``) on
MovieLens 100K's 80/20 split (``random_state=0``).  For each iteration count the script
prints J (Spark's factors plugged into ``mf_loss``) and the test RMSE of both, the
package's ALS from two initial scales: its default ``init_std=0.1`` and
``init_std=1/sqrt(rank)``, which gives factors of unit expected length like Spark's
random unit vectors.  Times: Spark's session start (JVM) once, then each fit.

    RECSYS_TUTORIAL_DATA=/path/to/data .venv/bin/python benchmarks/spark_convergence.py

``--json PATH`` keeps every row with the date and command line (chapter 9 loads
``benchmarks/results/spark_convergence.json``: running Spark to convergence takes
longer than the chapter's time budget).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time

import numpy as np

import recsys_tutorial as rt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--reg", type=float, default=0.1)
    parser.add_argument("--iterations", type=int, nargs="+", default=[15, 50, 100])
    parser.add_argument("--json", metavar="PATH", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    rows = []
    ratings = rt.datasets.load_movielens_100k()
    train, test = rt.model_selection.train_test_split(ratings, test_size=0.2, random_state=0)

    def rmse(model):
        return rt.metrics.rmse(test.values, model.predict(test.users, test.items))

    t0 = time.perf_counter()
    spark = rt.external.spark_session("local[2]")
    session_seconds = time.perf_counter() - t0
    print(f"Spark session start (JVM): {session_seconds:.1f} s")
    print(f"{'model':<28}{'iterations':>11}{'J':>14}{'test RMSE':>11}{'fit s':>9}")
    for n in args.iterations:
        model = rt.external.spark_als(
            train, rank=args.rank, reg_param=args.reg, max_iter=n, spark=spark, seed=0
        )
        seconds = model.spark_seconds_["fit"]
        rows.append({"model": "spark", "init_std": None, "iterations": n,
                     "objective": float(model.history_[-1]), "rmse": rmse(model),
                     "fit_seconds": seconds})  # fmt: skip
        print(f"{'spark':<28}{n:>11}{model.history_[-1]:>14.1f}{rmse(model):>11.4f}{seconds:>9.2f}")
    for init in (0.1, 1 / np.sqrt(args.rank)):
        for n in args.iterations:
            model = rt.models.MatrixFactorization(
                n_factors=args.rank, solver="als", reg=args.reg, reg_exponent=1.0, biased=False,
                n_epochs=n, init_std=init, random_state=0,
            ).fit(train)  # fmt: skip
            label = f"package init_std={init:.3f}"
            rows.append({"model": "package", "init_std": float(init), "iterations": n,
                         "objective": float(model.history_[-1]), "rmse": rmse(model),
                         "fit_seconds": float(model.history_time_[-1])})  # fmt: skip
            print(
                f"{label:<28}{n:>11}{model.history_[-1]:>14.1f}{rmse(model):>11.4f}"
                f"{model.history_time_[-1]:>9.2f}"
            )
    spark.stop()
    if args.json:
        meta = {
            "date": started.isoformat(timespec="seconds"),
            "command": shlex.join(["benchmarks/spark_convergence.py", *(argv or sys.argv[1:])]),
            "rank": args.rank, "reg_param": args.reg, "master": "local[2]",
            "session_seconds": session_seconds, "python": platform.python_version(),
            "numpy": np.__version__, "pyspark": _pyspark_version(),
            "cpu_count": os.cpu_count(), "load_average": os.getloadavg()[0],
        }  # fmt: skip
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)
    return 0


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


if __name__ == "__main__":
    sys.exit(main())
