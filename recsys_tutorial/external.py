"""Run other libraries' models on this package's splits, for side-by-side comparisons.

`Surprise <https://surpriselib.com>`_ (``scikit-surprise``) and Apache Spark's
MLlib ALS (``pyspark``); each is imported when first used, so the package
itself depends on neither.  Feeding both libraries the *same* train/test pairs
(rather than each library drawing its own folds) is what makes their scores
comparable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import metrics
from .data import Ratings
from .utils import check_float, check_int, check_ratings

__all__ = ["spark_als", "spark_session", "surprise_cross_validate", "surprise_fit_predict"]


def _surprise():
    try:
        import surprise
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this comparison needs scikit-surprise: pip install scikit-surprise"
        ) from exc
    return surprise


def surprise_fit_predict(algo, train: Ratings, test: Ratings) -> tuple[np.ndarray, float, float]:
    """Fit a Surprise algorithm on ``train`` and predict ``test``.

    Users and items are passed to Surprise as their indices (as strings, its
    raw ids); the rating scale is the range of the training ratings, to which
    Surprise clips its predictions, as this package's models do.

    Returns
    -------
    (predictions, fit_seconds, predict_seconds)
        ``predictions`` in the order of ``test``.
    """
    surprise = _surprise()
    train = check_ratings("train", train)
    test = check_ratings("test", test)
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    dataset = surprise.Dataset(reader)
    trainset = dataset.construct_trainset(
        [
            (str(u), str(i), float(v), None)
            for u, i, v in zip(train.users, train.items, train.values)
        ]
    )
    testset = [(str(u), str(i), float(v)) for u, i, v in zip(test.users, test.items, test.values)]
    t0 = time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    predictions = np.array([p.est for p in algo.test(testset)])
    return predictions, t1 - t0, time.perf_counter() - t1


def surprise_cross_validate(
    make_algo, splits: Iterable[tuple[Ratings, Ratings]]
) -> dict[str, np.ndarray]:
    """Like :func:`recsys_tutorial.model_selection.cross_validate` for a Surprise algorithm.

    Parameters
    ----------
    make_algo : callable
        Returns a new, unfitted Surprise algorithm (called once per split),
        e.g. ``lambda: surprise.SVD(random_state=0)``.
    splits : iterable of (train, test)
        The same splits the package's models are evaluated on.

    Returns
    -------
    dict
        ``test_rmse``, ``test_mae``, ``fit_time``, ``predict_time`` per split.
    """
    out = {"test_rmse": [], "test_mae": [], "fit_time": [], "predict_time": []}
    for train, test in splits:
        pred, fit_time, predict_time = surprise_fit_predict(make_algo(), train, test)
        out["test_rmse"].append(metrics.rmse(test.values, pred))
        out["test_mae"].append(metrics.mae(test.values, pred))
        out["fit_time"].append(fit_time)
        out["predict_time"].append(predict_time)
    return {key: np.array(values) for key, values in out.items()}


# ------------------------------------------------------------------------------- Apache Spark
#: log4j2 configuration of the JVM Spark starts: errors only, to stderr.  Spark's default
#: prints start-up notices (native-hadoop, log level) that would leak into notebook outputs.
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("spark_als needs pyspark (and Java 17+): pip install pyspark") from exc
    return SparkSession


def spark_session(master: str = "local[2]", *, app_name: str = "recsys_tutorial", **config):
    """A SparkSession whose JVM logs only errors (start-up included).

    Parameters
    ----------
    master : str
        Where to run: ``"local[k]"`` (``k`` worker threads in this process's
        JVM), or a cluster's master URL (``"spark://host:7077"``,
        ``"yarn"``, ``"k8s://..."``).
    app_name : str
        The application's name in Spark's UI and logs.
    **config
        Further Spark settings, e.g. ``**{"spark.driver.memory": "4g"}``.

    Returns
    -------
    pyspark.sql.SparkSession
        The active session if one exists (its settings are then left as they
        are), else a new one.  Stop it with ``spark.stop()``.

    Notes
    -----
    The quiet logging must be set before the JVM starts, so it is passed as a
    log4j2 configuration file in ``spark.driver.extraJavaOptions``; the
    progress bar is turned off as well.
    """
    SparkSession = _pyspark()
    if not isinstance(master, str) or not master:
        raise TypeError(f"master must be a non-empty str such as 'local[2]'; got {master!r}")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    folder = Path(tempfile.gettempdir()) / "recsys_tutorial_spark"
    folder.mkdir(exist_ok=True)
    log_config = folder / "log4j2.properties"
    if not log_config.is_file() or log_config.read_text() != _LOG4J2:
        log_config.write_text(_LOG4J2)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config.as_uri()}"
        )
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    for key, value in config.items():
        builder = builder.config(key, value)
    # The JVM writes some notices straight to its stderr, below any logging configuration
    # (the JDK's incubator-module warning, netlib's native-library probes): it is started
    # with its stderr on a log file, which it keeps; Python's own stderr is restored.
    with _stderr_to(folder / "jvm-stderr.log"), _pyspark_warnings_ignored():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Point file descriptor 2 at ``path`` for the duration (inherited by child processes)."""
    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(log, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


@contextlib.contextmanager
def _pyspark_warnings_ignored():
    """pyspark warns about the installed pandas version, which this adapter does not use."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        yield


def spark_als(
    ratings: Ratings,
    rank: int = 10,
    reg_param: float = 0.1,
    max_iter: int = 10,
    *,
    spark=None,
    master: str = "local[2]",
    seed: int = 0,
    implicit_prefs: bool = False,
    alpha: float = 1.0,
    num_blocks: int | None = None,
):
    """Train Spark MLlib's ALS on ``ratings``; return it as a fitted :class:`MatrixFactorization`.

    Spark minimizes, over all users then all items (items first in each of its
    ``max_iter`` iterations),

    .. math::

        \\sum_{(i,j) \\in \\Omega} (R_{ij} - U_i^\\top V_j)^2
        + \\lambda \\Big(\\sum_i |\\Omega_i| \\lVert U_i \\rVert^2
        + \\sum_j |\\Omega^j| \\lVert V_j \\rVert^2\\Big),

    with :math:`\\lambda` = ``reg_param``: each row's normal equations get
    :math:`\\lambda |\\Omega_i| I` (the ALS-WR weighting; ``computeFactors``
    in Spark's ``ALS.scala``).  That is this package's
    ``MatrixFactorization(biased=False, center=False, reg_exponent=1, reg=reg_param)``,
    so the returned model's ``predict``, ``recommend`` and ``objective`` apply
    unchanged.  Spark starts from random unit vectors and stores factors in
    float32; they are returned as float64.

    Parameters
    ----------
    ratings : Ratings
        Training data; its user and item indices are Spark's ids.
    rank, reg_param, max_iter
        Spark's ``rank``, ``regParam`` and ``maxIter``.
    spark : SparkSession, optional
        The session to use; default :func:`spark_session` ``(master)``, which
        is left running for later calls (``spark.stop()`` ends it).
    master : str
        Master URL when a session has to be started (``"local[2]"``: two
        threads here; a cluster's URL to run there).
    seed : int
        Spark's seed for the initial factors.
    implicit_prefs, alpha
        Spark's implicit-feedback ALS (Hu, Koren & Volinsky), confidence
        :math:`1 + \\alpha |r|`.  The returned model then scores items for
        ``recommend``; its ``objective``/``history_`` (the explicit :math:`J`)
        do not describe what was minimized and ``history_`` is NaN.
    num_blocks : int, optional
        Spark's ``numUserBlocks`` and ``numItemBlocks`` (default: Spark's, 10):
        how the factor matrices are partitioned across workers.

    Returns
    -------
    MatrixFactorization
        Fitted: ``user_factors_``/``item_factors_`` from Spark (zero rows for
        users/items without training ratings), zero biases, ``settings_`` the
        equivalent hyperparameters, ``history_`` the final :math:`J`, and
        ``spark_seconds_``: wall-clock seconds of ``session`` (0 when a
        session was given or already running), ``load`` (ratings into a
        DataFrame), ``fit`` (Spark's training) and ``collect`` (factors back).
    """
    from .models import MatrixFactorization

    ratings = check_ratings("ratings", ratings)
    rank = check_int("rank", rank)
    max_iter = check_int("max_iter", max_iter)
    reg_param = check_float("reg_param", reg_param, 0.0, strict=True)
    alpha = check_float("alpha", alpha, 0.0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    if not isinstance(implicit_prefs, (bool, np.bool_)):
        raise TypeError(f"implicit_prefs must be a bool; got {type(implicit_prefs).__name__}")
    if num_blocks is not None:
        num_blocks = check_int("num_blocks", num_blocks)
    if max(ratings.n_users, ratings.n_items) > np.iinfo(np.int32).max:
        raise ValueError("Spark's ALS ids are 32-bit ints: too many users or items")
    seconds = {"session": 0.0}
    if spark is None:
        t0 = time.perf_counter()
        already = _pyspark().getActiveSession() is not None
        spark = spark_session(master)
        seconds["session"] = 0.0 if already else time.perf_counter() - t0
    with _pyspark_warnings_ignored():
        U, V = _spark_factors(spark, ratings, rank, reg_param, max_iter, seed, implicit_prefs,
                              alpha, num_blocks, seconds)  # fmt: skip

    model = MatrixFactorization(
        n_factors=rank, solver="als", reg=reg_param, reg_exponent=1.0, n_epochs=max_iter,
        biased=False, center=False, random_state=int(seed),
    )  # fmt: skip
    # Recommender.fit records what every model knows of its data (counts, rating range,
    # seen items); the factors come from Spark instead of the package's solver.
    model._fit = lambda ratings, params: None
    try:
        model.fit(ratings)
    finally:
        del model._fit
    model.settings_ = model._settings(model._validate_params())
    model.user_factors_, model.item_factors_ = U, V
    model.user_bias_, model.item_bias_ = np.zeros(ratings.n_users), np.zeros(ratings.n_items)
    model.offset_ = 0.0
    model.history_ = np.array([np.nan if implicit_prefs else model.objective(ratings)])
    model.history_time_ = np.array([seconds["fit"]])
    model.spark_seconds_ = seconds
    return model


def _spark_factors(
    spark, ratings, rank, reg_param, max_iter, seed, implicit_prefs, alpha, num_blocks, seconds
):
    """Run Spark's ALS; return (U, V) as float64 arrays, recording the timings in ``seconds``."""
    from pyspark.ml.recommendation import ALS

    folder = tempfile.mkdtemp(prefix="recsys_tutorial_spark_")
    try:
        t0 = time.perf_counter()
        # through a file rather than Python rows: Spark reads it in parallel, at any size
        path = os.path.join(folder, "ratings.csv")
        table = np.column_stack([ratings.users, ratings.items]).astype(np.int64)
        with open(path, "w") as fh:
            for start in range(0, len(ratings), 1 << 20):
                part = slice(start, start + (1 << 20))
                fh.writelines(
                    f"{u},{i},{v!r}\n"
                    for (u, i), v in zip(table[part].tolist(), ratings.values[part].tolist())
                )
        frame = spark.read.csv(path, schema="user INT, item INT, rating DOUBLE").cache()
        frame.count()
        seconds["load"] = time.perf_counter() - t0
        als = ALS(
            rank=rank, maxIter=max_iter, regParam=reg_param, implicitPrefs=bool(implicit_prefs),
            alpha=alpha, seed=int(seed), userCol="user", itemCol="item", ratingCol="rating",
            nonnegative=False, coldStartStrategy="nan",
        )  # fmt: skip
        if num_blocks is not None:
            als = als.setNumUserBlocks(num_blocks).setNumItemBlocks(num_blocks)
        context = spark.sparkContext
        if context._jsc.sc().getCheckpointDir().isEmpty():
            # Without checkpoints every iteration lengthens the lineage Spark keeps to recompute
            # lost blocks; past a few dozen iterations deserializing it overflows the JVM's
            # stack.  ALS checkpoints every checkpointInterval (10) iterations once a folder
            # is set (on a cluster: a shared file system such as HDFS).
            context.setCheckpointDir(tempfile.mkdtemp(prefix="recsys_tutorial_checkpoints_"))
        t0 = time.perf_counter()
        fitted = als.fit(frame)  # eager: the factors are computed and cached here
        seconds["fit"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        U = _collect_factors(fitted.userFactors, ratings.n_users, rank)
        V = _collect_factors(fitted.itemFactors, ratings.n_items, rank)
        seconds["collect"] = time.perf_counter() - t0
        frame.unpersist()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return U, V


def _collect_factors(frame, n_rows: int, rank: int) -> np.ndarray:
    """Spark's ``(id, features)`` rows as an (n_rows, rank) float64 array, zeros where absent."""
    F = np.zeros((n_rows, rank))
    rows = frame.collect()
    if rows:
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        F[ids] = np.array([row[1] for row in rows], dtype=np.float32)
    return F
