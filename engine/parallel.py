"""Both cores for batched work: two halves of a batch at once, and OpenBLAS's thread count.

Why: our layers are NumPy calls that release the GIL (strided copies, ufuncs, matmul), but a
single call runs on one core, and OpenBLAS's own threading barely helps our small GEMMs. So
`Network.logits/forward/backward` cut a batch in two and run the halves at the same time: the
caller's thread does the first, one persistent worker thread the second, OpenBLAS at 1 thread
for the duration (two threads each asking OpenBLAS for 2 would oversubscribe 2 cores).

The result depends only on where the batch is cut, never on whether the worker was free: when
another call holds it (a second request, or a call from inside the worker), the two halves run
one after the other in the caller, the same numbers at the same BLAS thread count (training
holds OpenBLAS at 1 thread throughout, so seeded training stays deterministic). Against a
whole-batch run the numbers differ only in float32 summation order (the summed gradients).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

# Below this many images a half is too small for the hand-off (~50 µs) to pay; measured with
# bench/engine.py on 2 cores: batch 64 (training) gains, batch 1 (the page) must not change.
MIN_SPLIT = 32

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_busy = threading.Lock()          # one split call uses the worker at a time


def default_split() -> int | None:
    """The batch size from which a Network splits: MIN_SPLIT with ≥ 2 cores, else never."""
    return MIN_SPLIT if (os.cpu_count() or 1) >= 2 else None


def cut_point(n: int, split_from: int | None) -> int | None:
    """Where to cut a batch of n (first half the larger), or None to run it whole."""
    if split_from is None or n < max(2, split_from):
        return None
    return (n + 1) // 2


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convscope-half")
        return _pool


def run_pair(first, second):
    """(first(), second()): `second` on the worker while `first` runs here, BLAS at 1 thread;
    both here, in order, when the worker is taken. An exception in either is raised here."""
    if not _busy.acquire(blocking=False):
        return first(), second()
    try:
        with blas_threads(1):
            future = _worker().submit(second)
            try:
                a = first()
            finally:
                b = future.result()        # wait even if `first` failed: it shares nothing
            return a, b
    finally:
        _busy.release()


# --------------------------------------------------------------------------- OpenBLAS threads
@functools.lru_cache(maxsize=1)
def _openblas_thread_api():
    """(set_num_threads, get_num_threads) of the OpenBLAS NumPy loaded, or None. Looked up once:
    reading /proc/self/maps costs ~1 ms, too much for every batched call."""
    import numpy  # noqa: F401  (the library must be loaded before we look for it)
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return None
    names = [(f"{p}_set_num_threads{s}", f"{p}_get_num_threads{s}")
             for p in ("scipy_openblas", "openblas") for s in ("64_", "")]
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in names:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                return getattr(lib, set_name), getattr(lib, get_name)
    return None


def pin_blas_threads(n: int = 1) -> int | None:
    """Set OpenBLAS to `n` threads for the rest of the process; returns the previous count
    (None without OpenBLAS). For the server: its requests are one image each, and a Tiny-VGG
    sized forward (64×64×3, 5.6 M multiply-adds) measured 117 ms p50 with OpenBLAS's own 2
    threads on the loaded 2-core machine against 3.5 ms with 1 (LeNet's matrices are below
    OpenBLAS's threading size, so it never noticed). Cores are used by --workers instead."""
    api = _openblas_thread_api()
    if api is None:
        return None
    set_threads, get_threads = api
    before = get_threads()
    set_threads(n)
    return before


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Run the block with OpenBLAS limited to `n` threads, then restore its setting.

    Why: on this shared 2-core machine a training epoch with OpenBLAS's 2 spinning threads took
    7x longer (22 s vs 3 s) whenever other processes were busy, and batch-64 matrices are too
    small for a second thread to help much when it is quiet. OPENBLAS_NUM_THREADS only works
    before NumPy loads, so we call the library's own setter (as threadpoolctl does); a no-op
    where no OpenBLAS is found.
    """
    api = _openblas_thread_api()
    if api is None:
        yield
        return
    set_threads, get_threads = api
    before = get_threads()
    if before != n:
        set_threads(n)
    try:
        yield
    finally:
        if before != n:
            set_threads(before)
