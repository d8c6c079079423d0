"""Bookkeeping shared by the chapters, kept out of the code the reader sees.

Every chapter imports this module in a cell tagged ``remove-cell`` (executed, and
checked by nbval, but not rendered): the numbers quoted in the prose are glued
from executed cells with :func:`glue_number`, so text and code cannot drift.
"""

from __future__ import annotations

import os

# numpy is imported inside glue_number, not here: importing this module must not
# start BLAS, so that limit_blas_threads() can still take effect afterwards
from myst_nb import glue

__all__ = ["glue", "glue_number", "limit_blas_threads"]

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> None:
    """One thread per BLAS/LAPACK call, unless the environment already says otherwise.

    The thread pools read these variables when numpy is first imported, so a
    chapter calls this before it imports numpy. Multi-threaded BLAS may sum in a
    different order from run to run, which can change the last digits of a result;
    timings are also more comparable on a shared machine.
    """
    for variable in _BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


def glue_number(key: str, value, digits: int = 6, *, decimals: int | None = None):
    """Glue ``value`` under ``key`` for the prose (``{glue:text}`key:.2f```), hidden.

    Integers (Python or numpy) are glued exactly. Floats are rounded first, so that
    noise in the last binary digits cannot change the stored output that nbval
    compares: to ``digits`` significant digits, or, when ``decimals`` is given, to
    that many digits after the decimal point.
    """
    import numpy as np

    if isinstance(value, (int, np.integer)):
        value = int(value)
    elif decimals is not None:
        value = round(float(value), decimals)
    else:
        value = float(f"{float(value):.{digits}g}")
    glue(key, value, display=False)
