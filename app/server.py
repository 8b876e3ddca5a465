"""`convscope serve`: run the app with uvicorn, one process or N workers.

The socket is bound here, before uvicorn starts, so "port in use" is one clear line and a
non-zero exit rather than a uvicorn traceback; the model is loaded once here too, so a missing
or corrupt file is reported before anything listens. Workers get their settings through the
environment (CONVSCOPE_*), because uvicorn starts them from the `app.main:create_app` factory.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from pathlib import Path

from app.config import ROOT

DEFAULT_MODEL = ROOT / "models" / "lenet-mnist.npz"


def add_serve_command(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve the visualizer (default http://127.0.0.1:8000/)")
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1; "
                                                 "0.0.0.0 with --classroom)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--model", type=Path, action="append", default=None,
                   help="model .npz written by `convscope train` or `convscope import`, or a "
                        "folder of them; repeat to serve several (the first is the default). "
                        "Default: the shipped models/lenet-mnist.npz beside the other shipped "
                        "models; given, exactly the models named")
    p.add_argument("--workers", type=int, default=None,
                   help="uvicorn worker processes (default 1; with --classroom, one per CPU)")
    p.add_argument("--classroom", action="store_true",
                   help="bind all interfaces and print the address students on this network open")
    p.set_defaults(run=run_serve)


def lan_ipv4() -> list[str]:
    """Every non-loopback IPv4 address of this machine, in interface order."""
    addrs: list[str] = []
    try:
        import fcntl
        import struct
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for _, name in socket.if_nameindex():
                try:
                    # SIOCGIFADDR: the interface's IPv4 address (Linux; stdlib only).
                    raw = fcntl.ioctl(probe.fileno(), 0x8915,
                                      struct.pack("256s", name[:15].encode()))
                except OSError:
                    continue
                addrs.append(socket.inet_ntoa(raw[20:24]))
        finally:
            probe.close()
    except (ImportError, OSError):
        pass
    if not [a for a in addrs if not a.startswith("127.")]:
        # Elsewhere: the source address of the default route (connect() on UDP sends nothing).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("10.255.255.255", 1))
                addrs.append(s.getsockname()[0])
            except OSError:
                pass
    return list(dict.fromkeys(a for a in addrs if not a.startswith("127.")))


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when their
    # proto says TCP, and a bare socket() says 0. Without it, uvicorn's two writes (headers,
    # body) meet Nagle + the client's delayed ACK: every small response took ~40 ms instead of
    # ~1 ms. NODELAY on the listener is inherited by accepted sockets on Linux as well.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int) -> None:
    """One worker process: its own SO_REUSEPORT listener on the shared port.

    Why not uvicorn's Multiprocess with one shared listener: a class opens its keep-alive
    connections at once, and whichever worker wakes first accepts nearly all of them, so two
    workers served 40 students with one core (bench/api.py: 96% of one core, p50 194 ms).
    With a listener per worker the kernel spreads connections over the workers by hash.
    """
    import uvicorn

    from app.config import Settings
    from app.main import create_app

    sock = bind(host, port, reuse_port=True)
    config = uvicorn.Config(create_app(Settings.from_env()), log_level="warning",
                            access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _run_workers(host: str, port: int, count: int) -> None:
    """Start `count` worker processes and stop them all on SIGTERM/SIGINT."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(host, port), daemon=False) for _ in range(count)]
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    for proc in procs:
        proc.start()
    while not stop and all(proc.is_alive() for proc in procs):
        procs[0].join(0.5)            # wakes for signals; a dead worker stops the rest
    for proc in procs:
        if proc.is_alive():
            proc.terminate()          # SIGTERM: uvicorn finishes in-flight requests, then exits
    for proc in procs:
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def _fail(message: str, code: int) -> int:
    print(f"convscope serve: {message}", file=sys.stderr)
    return code


def run_serve(args) -> int:
    import uvicorn

    from app.config import LayoutError, Settings
    from app.deps import load_network
    from app.main import create_app
    from engine.errors import EngineError

    host = args.host or ("0.0.0.0" if args.classroom else "127.0.0.1")
    if args.workers is None:
        # A class is ~10 forwards a second per student at ~1.2-1.5 ms of CPU each for the page's
        # PNG (bench/api.py): one core holds 40 students (p99 ~7 ms) but saturates at ~800
        # requests/s, so classroom mode uses every core (120 students: p99 ~14 ms on 2).
        args.workers = (os.cpu_count() or 1) if args.classroom else 1
    if args.workers < 1:
        return _fail(f"--workers must be 1 or more, got {args.workers}", 2)
    if not 0 <= args.port <= 65535:
        return _fail(f"--port must be 0..65535, got {args.port}", 2)
    from app.models_registry import model_files
    try:
        models = model_files(args.model or [DEFAULT_MODEL])
        for path in models:
            load_network(path)
        Settings.from_env().check_layout()    # static/ and templates/ are there
    except (EngineError, LayoutError) as exc:
        return _fail(str(exc), 2)
    model = models[0]
    if args.model:    # the models named, and only those (workers read the environment)
        os.environ["CONVSCOPE_EXTRA_MODELS"] = ",".join(str(p) for p in models[1:])
    try:
        # With workers, this socket only reserves the port (and resolves port 0): it never
        # listens; each worker listens on its own SO_REUSEPORT socket (see _worker).
        sock = bind(host, args.port, reuse_port=args.workers > 1)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"port {args.port} on {host} is already in use; stop the other server "
                         "or choose another port with --port", 1)
        return _fail(f"cannot listen on {host}:{args.port} ({exc.strerror or exc})", 1)
    port = sock.getsockname()[1]

    os.environ["CONVSCOPE_MODEL"] = str(model)
    urls = [f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/"]
    if args.classroom:
        lan = [f"http://{ip}:{port}/" for ip in lan_ipv4()]
        os.environ["CONVSCOPE_JOIN_URLS"] = ",".join(lan)
        print("ConvScope classroom: students on this network open", file=sys.stderr)
        for url in lan or ["(no LAN IPv4 address found: is this machine on a network?)"]:
            print(f"  {url}", file=sys.stderr)
    print(f"ConvScope serving {', '.join(p.name for p in models)} at {urls[0]}"
          f"{f' with {args.workers} workers' if args.workers > 1 else ''} (Ctrl+C stops)",
          file=sys.stderr, flush=True)

    if args.workers > 1:
        _run_workers(host, port, args.workers)
        print("ConvScope stopped", file=sys.stderr)
    else:
        config = uvicorn.Config(create_app(Settings.from_env()), log_level="warning",
                                access_log=False)
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the
        # handlers that were there before it: make those no-ops, so a stop asked for is a
        # clean exit 0, not death by signal (or a KeyboardInterrupt traceback).
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        uvicorn.Server(config).run(sockets=[sock])
        print("ConvScope stopped", file=sys.stderr)
    return 0
