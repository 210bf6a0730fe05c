"""One BLAS thread per process, for the worker and the benches that measure its code.

numpy's BLAS reads these variables once, when numpy is first imported: call
`one_blas_thread()` before anything imports numpy. A value already set in the environment
wins. One thread is faster for the small problems a model solves (ARIMA train 1.5-2x) and
keeps N workers (or a bench's N processes) from oversubscribing the cores; processes
started afterwards (the worker's model child) inherit it.
"""

from __future__ import annotations

import os

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Set each BLAS thread variable to 1 unless the environment already sets it."""
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")
