"""A class under attack, on loopback, in one run (issue 12): what honest students still get.

    python bench/attack.py                      # 2 workers, 8 s calm, 15 s under attack
    python bench/attack.py --workers 1 --attack-seconds 20

First, in-process, the CPU one endless header costs uvicorn's own protocol and ours. Then it
starts `convscope serve --workers W` as a real process on a free port, and:
  1. calm: a prober sends GET /api/health 20 times a second on a keep-alive connection and S
     students send page-style forwards (the pad's PNG, as static/js/png.js makes it, asking
     for the binary wire as static/js/api.js does) R times a second each; p50/p99 of both are
     the reference of this run;
  2. under attack, the same measurement while, at once,
     - one connection sends an endless header (`X: aaaa…`; when the server cuts it off, the
       attacker reconnects and starts again: bytes sent and cut-offs are counted),
     - 1,100 idle connections are held open (reopened when the server closes them),
     - 50 clients hammer POST /api/gradient with 20 steps (as the page asks, dense weights as
       outer factors), back to back, counting 200s, 503s with Retry-After and errors;
  3. still under attack, kill -9 one worker: time until a replacement is listening on the port
     (the kernel then sends it new connections); then kill -9 every worker: time until
     /api/health answers again (only a replacement can answer). With one worker the second
     figure is the only one, and there is no supervisor to replace it: it is skipped.
Measurement and attack run in separate processes (fork), so neither's Python loop delays the
other's clock; everything is on 127.0.0.1, bounded in count and in time.
Figures on the shared 2-core machine are noisy while other work runs: read the ratios (under
attack / calm, in the same run) and the load average printed with them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import bodies, model_path, pct  # noqa: E402  (one copy of the page's bodies)

IDLE = 1100
GRADIENT_CLIENTS = 50


# ---------------------------------------------------------------- the server
class Server:
    def __init__(self, model: Path, workers: int):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "CONVSCOPE_EXTRA_MODELS": ""}
        self.workers = workers
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"attack-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--model",
             str(model), "--workers", str(workers)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=self.log)
        if not wait_answer(self.port, 90, self.proc):
            self.stop()
            raise SystemExit(f"server did not start: {self.stderr()}")
        deadline = time.monotonic() + 60
        while len(listeners(self.port)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        if self.workers == 1:
            return [self.proc.pid]
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(k) for k in kids.split()]

    def cpu_s(self) -> float:
        """User + system CPU seconds used so far by the supervisor and its living workers."""
        total = 0
        for pid in {self.proc.pid, *self.worker_pids()}:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def stderr(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def listeners(port: int) -> list[str]:
    """Inodes of the sockets listening on `port` (one per worker: SO_REUSEPORT)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                found.append(f[9])
    return found


def health_once(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(12).endswith(b"200")
    except OSError:
        return False


def wait_answer(port: int, seconds: float, proc=None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if health_once(port, 0.5):
            return True
        time.sleep(0.02)
    return False


# ---------------------------------------------------------------- HTTP on asyncio streams
def request(method: str, path: str, body: bytes = b"", extra: bytes = b"") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra
            + (b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
               if body else b"") + b"\r\n" + body)


async def exchange(reader, writer, raw: bytes) -> tuple[bytes, dict]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return head[9:12], headers


# ---------------------------------------------------------------- measuring (one process)
async def probe(port, seconds, rate, out):
    """GET /api/health `rate` times a second on one keep-alive connection; each latency is
    from its send (a late answer skips the slots it missed, rather than queueing them)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    raw = request("GET", "/api/health")
    t0 = time.perf_counter()
    k = 0
    while (due := t0 + k / rate) - t0 < seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        try:
            status, _ = await exchange(reader, writer, raw)
        except (OSError, asyncio.IncompleteReadError):
            out["errors"] += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        else:
            out["health"].append((time.perf_counter() - sent) * 1e3)
            out["errors"] += status != b"200"
        k = max(k + 1, int((time.perf_counter() - t0) * rate))
    writer.close()


async def student(port, seconds, rate, payloads, offset, out):
    """A page's forwards, latest-wins like static/js: a late answer skips the missed slots."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    # As static/js/api.js asks: the binary wire (app/wire.py), gzip accepted.
    raws = [request("POST", "/api/forward", p, b"Accept: application/octet-stream\r\n"
                    b"Accept-Encoding: gzip\r\n") for p in payloads]
    t0 = time.perf_counter() + offset / rate
    k = 0
    while True:
        due = t0 + k / rate
        now = time.perf_counter()
        if now > due + 1 / rate:
            k += int((now - due) * rate)
            due = t0 + k / rate
        if due - t0 > seconds:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            status, _ = await exchange(reader, writer, raws[k % len(raws)])
        except (OSError, asyncio.IncompleteReadError):
            out["errors"] += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            k += 1
            continue
        out["forward"].append((time.perf_counter() - due) * 1e3)
        if status != b"200":
            out["errors"] += 1
        k += 1
    writer.close()


def measure(port, seconds, students, rate, payloads, conn):
    out = {"health": [], "forward": [], "errors": 0}

    async def main():
        await asyncio.gather(probe(port, seconds, 20, out),
                             *(student(port, seconds, rate, payloads, i / students, out)
                               for i in range(students)))
    asyncio.run(main())
    conn.send(out)


def measured(port, seconds, students, rate, payloads) -> dict:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=measure,
                                   args=(port, seconds, students, rate, payloads, child))
    proc.start()
    out = parent.recv()
    proc.join()
    return out


# ---------------------------------------------------------------- attacking (another process)
def endless_header(port, stop: threading.Event, out):
    chunk = b"a" * 65536
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.01)
            continue
        out["connections"] += 1
        try:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ")
            while not stop.is_set():
                s.sendall(chunk)
                out["bytes"] += len(chunk)
        except OSError:
            out["cut_off"] += 1
        finally:
            s.close()


async def hold_idle(port, count, stop_at, out):
    """`count` connections that never send a byte, reopened when the server closes them."""
    async def one():
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                out["idle_refused"] += 1
                await asyncio.sleep(0.1)
                continue
            out["idle_open"] += 1
            try:
                await asyncio.wait_for(reader.read(1), max(0.0, stop_at - time.monotonic()))
                out["idle_closed_by_server"] += 1
            except (asyncio.TimeoutError, OSError):
                pass
            finally:
                out["idle_open"] -= 1
                writer.close()
    await asyncio.gather(*(one() for _ in range(count)))


async def hammer_gradient(port, clients, stop_at, body, out):
    raw = request("POST", "/api/gradient", body, b"Accept-Encoding: gzip\r\n")

    async def one():
        reader = writer = None
        while time.monotonic() < stop_at:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                status, headers = await exchange(reader, writer, raw)
            except (OSError, asyncio.IncompleteReadError):
                out["gradient_errors"] += 1
                writer = None
                await asyncio.sleep(0.05)
                continue
            key = f"gradient_{status.decode()}"
            out[key] = out.get(key, 0) + 1
            if status in (b"503", b"429"):
                out["retry_after_given"] += b"retry-after" in headers
                # A hostile client ignores Retry-After: it asks again at once.
            if headers.get(b"connection") == b"close":
                writer.close()
                writer = None
        if writer is not None:
            writer.close()
    await asyncio.gather(*(one() for _ in range(clients)))


def attack(port, seconds, gradient_body, conn):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + GRADIENT_CLIENTS + 512), hard))
    out = {"connections": 0, "bytes": 0, "cut_off": 0, "idle_open": 0, "idle_refused": 0,
           "idle_closed_by_server": 0, "gradient_errors": 0, "retry_after_given": 0}
    stop = threading.Event()
    flood = threading.Thread(target=endless_header, args=(port, stop, out), daemon=True)
    flood.start()
    stop_at = time.monotonic() + seconds

    async def main():
        idle = asyncio.ensure_future(hold_idle(port, IDLE, stop_at, out))
        await asyncio.sleep(1.0)        # the idle connections open first
        await asyncio.gather(idle, hammer_gradient(port, GRADIENT_CLIENTS, stop_at,
                                                   gradient_body, out))
    conn.send("started")
    asyncio.run(main())
    stop.set()
    flood.join(5)
    conn.send(out)


# ---------------------------------------------------------------- in-process: one endless header
class _Transport:
    """Just enough of an asyncio transport to drive a protocol by hand."""

    def __init__(self):
        self.closed, self.out = False, b""

    def write(self, data):
        self.out += data

    def close(self):
        self.closed = True

    abort = close

    def is_closing(self):
        return self.closed

    def get_extra_info(self, name, default=None):
        return default

    def pause_reading(self):
        pass

    resume_reading = write_eof = pause_reading

    def get_write_buffer_size(self):
        return 0


def endless_header_cpu(protocol_cls, megabytes: int) -> tuple[float, int, bytes]:
    """CPU seconds one connection's `X: aaaa…` header costs the protocol, bytes it read before
    closing, and its answer's status line; the load of the machine hardly changes CPU time."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def app(scope, receive, send):
        pass
    loop = asyncio.new_event_loop()
    config = Config(app)
    config.load()
    proto = protocol_cls(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = _Transport()
    proto.connection_made(transport)
    proto.data_received(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ")
    chunk, fed = b"a" * 65536, 0
    start = time.process_time()
    while fed < megabytes * 2**20 and not transport.closed:
        proto.data_received(chunk)
        fed += len(chunk)
    cpu = time.process_time() - start
    loop.close()
    return cpu, fed, transport.out.split(b"\r\n", 1)[0]


def print_endless_header_cpu() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from app.config import Settings
    from app.protocol import protocol_class
    print("0. one endless header, in-process (CPU time: the machine's load hardly matters)")
    for mb in (2, 4, 8):
        cpu, _, _ = endless_header_cpu(HttpToolsProtocol, mb)
        print(f"  uvicorn's HttpToolsProtocol, {mb} MB of header: {cpu * 1e3:7.1f} ms CPU "
              "(quadratic: httptools grows the value by bytes +=)")
    cpu, fed, status = endless_header_cpu(protocol_class(Settings()), 80)
    print(f"  app/protocol.py, 80 MB offered: read {fed / 2**20:.2f} MB (32 KiB head + 1 MiB "
          f"drain), {cpu * 1e3:.2f} ms CPU, then closed; answer {status.decode()}")


# ---------------------------------------------------------------- main
def line(name: str, ms: list[float], ref: list[float] | None = None) -> str:
    text = f"  {name:<26} n={len(ms):>5}  p50 {pct(ms, 50):7.1f} ms  p99 {pct(ms, 99):7.1f} ms"
    if ref:
        text += f"   ({pct(ms, 99) / pct(ref, 99):.1f}× calm p99)"
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--students", type=int, default=20, help="page clients measured")
    ap.add_argument("--rate", type=float, default=5, help="forwards a second per student")
    ap.add_argument("--calm-seconds", type=float, default=8)
    ap.add_argument("--attack-seconds", type=float, default=15)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args(argv)
    multiprocessing.set_start_method("fork")

    model, how = model_path(args)
    digits, _, pixels, page_pngs = bodies()
    gradient_body = json.dumps({**json.loads(pixels[7]), "target": 3, "learning_rate": 0.1,
                                "steps": 20, "dense_weights": "outer"}).encode()
    print_endless_header_cpu()
    print(f"\nmodel: {model.name} ({how}); {args.workers} worker(s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")
    server = Server(model, args.workers)
    try:
        cpu = server.cpu_s()
        calm = measured(server.port, args.calm_seconds, args.students, args.rate, page_pngs[:10])
        calm_cores = (server.cpu_s() - cpu) / args.calm_seconds

        parent, child = multiprocessing.Pipe()
        attacker = multiprocessing.Process(
            target=attack, args=(server.port, args.attack_seconds + 25, gradient_body, child))
        attacker.start()
        assert parent.recv() == "started"
        time.sleep(3.0)         # 1,100 idle connections open, the flood and gradients running
        load_before = os.getloadavg()[0]
        cpu = server.cpu_s()
        hot = measured(server.port, args.attack_seconds, args.students, args.rate,
                       page_pngs[:10])
        hot_cores = (server.cpu_s() - cpu) / args.attack_seconds
        one_replaced = every_replaced = None
        if args.workers > 1:
            before = set(listeners(server.port))
            victim = server.worker_pids()[0]
            t = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            while time.monotonic() - t < 20:
                now = set(listeners(server.port))
                if len(now) == args.workers and now - before:
                    one_replaced = time.monotonic() - t
                    break
                time.sleep(0.01)
            time.sleep(1.0)
            t = time.monotonic()
            for pid in server.worker_pids():
                os.kill(pid, signal.SIGKILL)
            if wait_answer(server.port, 20):
                every_replaced = time.monotonic() - t
        attacker.join(args.attack_seconds + 60)
        attack_out = parent.recv() if parent.poll(5) else {}
        if attacker.is_alive():
            attacker.kill()
    finally:
        server.stop()

    print("\n1. calm (the reference of this run)")
    print(line("GET /api/health", calm["health"]))
    print(line("page forward (PNG)", calm["forward"]))
    print(f"  errors: {calm['errors']}; server CPU {calm_cores:.2f} cores")
    print(f"\n2. under attack (load average {load_before:.1f}): endless header + {IDLE} idle "
          f"connections + {GRADIENT_CLIENTS} clients × 20-step /api/gradient")
    print(line("GET /api/health", hot["health"], calm["health"]) + "   target p99 ≤ 100 ms")
    print(line("page forward (PNG)", hot["forward"], calm["forward"]) + "   target p99 ≤ 200 ms")
    print(f"  errors seen by the measured clients: {hot['errors']}; server CPU {hot_cores:.2f} "
          f"cores ({hot_cores / max(calm_cores, 1e-9):.1f}× calm)")
    a = attack_out
    gradients = {k.split("_")[1]: v for k, v in a.items()
                 if k.startswith("gradient_") and k[9:].isdigit()}
    print(f"  endless header: {a.get('connections', 0)} connections, "
          f"{a.get('bytes', 0) / 2**20:.0f} MB sent, cut off {a.get('cut_off', 0)} times "
          f"({a.get('bytes', 0) / 2**20 / max(1, a.get('connections', 1)):.2f} MB each)")
    print(f"  idle connections: {IDLE} held; the server closed {a.get('idle_closed_by_server', 0)} "
          f"(header timeout), {a.get('idle_refused', 0)} connects refused (while every worker was "
          "down, in part 3)")
    print(f"  gradient flood: {gradients} by status, {a.get('retry_after_given', 0)} busy answers "
          f"with Retry-After, {a.get('gradient_errors', 0)} connection errors (mostly the killed "
          "workers' connections, part 3)")
    if args.workers > 1:
        print("\n3. supervision, under attack")
        print(f"  kill -9 one worker -> a replacement listening: "
              f"{one_replaced if one_replaced is None else f'{one_replaced:.2f} s'}"
              "   target ≤ 5 s")
        print(f"  kill -9 every worker -> /api/health answers again: "
              f"{every_replaced if every_replaced is None else f'{every_replaced:.2f} s'}")
        restarts = server.stderr().count("restarting it")
        print(f"  restarts logged by the supervisor: {restarts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
