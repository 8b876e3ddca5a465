"""`convscope serve --workers N`: N worker processes kept alive by this (parent) process.

A worker that dies (a crash, the OOM killer, `kill -9`) is restarted at once and the death is
logged; one that dies again within `restart_window_s` of starting is restarted after a
back-off that doubles from `restart_backoff_s` (at most 8 s), and after `restart_attempts`
such quick deaths its slot is given up. The parent exits 1 when no worker is left, 0 after a
SIGTERM/SIGINT, which it passes on to the workers, waiting `shutdown_timeout_s` (+2 s) for
them before killing what is left.

Workers are forked from this process, which has already imported the app (FastAPI, NumPy,
pydantic: 3-5 s of a loaded 2-core machine's CPU, ~0.1 s for create_app itself). A spawned
worker re-did those imports and took 15 s to replace under load; a forked one builds its app
(its own models, its own database connections: nothing opened here is shared) and listens
in well under a second. Each worker asks the kernel for SIGTERM when this process dies, so a
supervisor killed with -9 does not leave workers holding the port.

The parent sleeps in select() on a self-pipe that signal handlers write to (SIGCHLD
included), so it wakes the moment a worker dies rather than on a polling tick.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from app.config import Settings

MAX_BACKOFF_S = 8.0


def log(message: str) -> None:
    print(f"convscope serve: {message}", file=sys.stderr, flush=True)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


class Worker:
    """A forked worker process: the parts of subprocess.Popen the supervisor needs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
                return 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.returncode

    def signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:      # the parent died before prctl took effect
        os._exit(0)


@dataclass
class Slot:
    number: int
    proc: Worker | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    given_up: bool = False


class Supervisor:
    def __init__(self, host: str, port: int, count: int, settings: Settings):
        self.host, self.port, self.count, self.settings = host, port, count, settings
        self.slots = [Slot(i + 1) for i in range(count)]
        self.stopping = False
        self.parent = os.getpid()
        self._wake_r, self._wake_w = socket.socketpair()

    # ------------------------------------------------------------------ processes
    def _start(self, slot: Slot) -> None:
        if threading.active_count() > 1:
            # A forked child has only the forking thread: a pool or lock some thread held here
            # would be dead or stuck there. Nothing in run_serve starts one (checked in tests).
            log(f"warning: forking a worker with {threading.active_count()} threads running")
        sys.stdout.flush()
        sys.stderr.flush()          # or the child would print this process's buffered output
        pid = os.fork()
        if pid == 0:
            os._exit(self._worker_main())
        slot.proc = Worker(pid)
        slot.started = time.monotonic()
        slot.restart_at = None

    def _worker_main(self) -> int:
        """In the forked child: undo the supervisor's signal set-up, then serve."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            self._wake_r.close()
            self._wake_w.close()
            _die_with_parent(self.parent)
            from app.server import run_worker
            code = run_worker(self.host, self.port)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code

    def _reap(self, slot: Slot, now: float) -> None:
        proc = slot.proc
        slot.proc = None
        why = describe_exit(proc.returncode)
        s = self.settings
        if now - slot.started < s.restart_window_s:
            slot.quick_deaths += 1
        else:
            slot.quick_deaths = 1
        if slot.quick_deaths > s.restart_attempts:
            slot.given_up = True
            log(f"worker {slot.number} (pid {proc.pid}) {why}; it died {slot.quick_deaths} "
                f"times within {s.restart_window_s:g} s of starting, so it is not restarted "
                "again (the error above says why)")
            return
        delay = 0.0 if slot.quick_deaths == 1 else min(
            s.restart_backoff_s * 2 ** (slot.quick_deaths - 2), MAX_BACKOFF_S)
        slot.restart_at = now + delay
        log(f"worker {slot.number} (pid {proc.pid}) {why}; restarting it"
            + (f" in {delay:g} s" if delay else ""))

    # ------------------------------------------------------------------ signals
    def _on_signal(self, signum, frame) -> None:
        if signum != signal.SIGCHLD:
            self.stopping = True

    def _install_signals(self) -> None:
        self._wake_w.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, self._on_signal)

    # ------------------------------------------------------------------ main loop
    def run(self) -> int:
        """Serve until a stop signal (0) or until every worker slot is given up (1)."""
        self._install_signals()
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            now = time.monotonic()
            for slot in self.slots:
                if slot.proc is not None and slot.proc.poll() is not None:
                    self._reap(slot, now)
                if slot.proc is None and slot.restart_at is not None and slot.restart_at <= now:
                    self._start(slot)
            if all(slot.given_up for slot in self.slots):
                log("no worker could be kept running; stopping")
                self._stop_all()
                return 1
            due = [s.restart_at for s in self.slots if s.restart_at is not None]
            timeout = max(0.0, min(due) - time.monotonic()) if due else 5.0
            try:
                readable, _, _ = select.select([self._wake_r], [], [], timeout)
            except InterruptedError:
                readable = []
            if readable:
                try:
                    self._wake_r.recv(4096)
                except BlockingIOError:
                    pass
        self._stop_all()
        return 0

    def _stop_all(self) -> None:
        living = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
        for proc in living:
            proc.signal(signal.SIGTERM)     # uvicorn: finish in-flight requests, then exit
        deadline = time.monotonic() + self.settings.shutdown_timeout_s + 2
        for proc in living:
            if proc.wait(max(0.0, deadline - time.monotonic())) is None:
                log(f"worker pid {proc.pid} did not stop in time; killing it")
                proc.signal(signal.SIGKILL)
                proc.wait(5)
        signal.set_wakeup_fd(-1)
