"""`convscope serve`: run the app with uvicorn, one process or N workers.

The port is claimed here, before uvicorn starts, so "port in use" is one clear line and a
non-zero exit rather than a uvicorn traceback (and a second server on a held port is refused,
workers or not: `claim_port`); the model is loaded once here too, so a missing or corrupt
file is reported before anything listens. With `--workers N` this process becomes the
supervisor (app/supervisor.py) of N worker processes forked from it, which read their
settings from the environment (CONVSCOPE_*) as every server does. Every server runs uvicorn through
`uvicorn_config`: bounded connections (app/protocol.py) and a bounded stop.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from pathlib import Path

from app.config import SHIPPED_MODEL as DEFAULT_MODEL
from app.hosts import lan_ipv4


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
    c = p.add_argument_group("class session (with --classroom; app/classroom/)")
    c.add_argument("--session-db", type=Path, default=None,
                   help="SQLite file holding the session (default "
                        "$XDG_DATA_HOME/convscope/class.sqlite3); a restart continues it")
    c.add_argument("--max-students", type=int, default=200,
                   help="students who may join (default 200)")
    c.add_argument("--submits-per-minute", type=int, default=12,
                   help="digits one student may send to the class per minute (default 12)")
    c.add_argument("--new-session", action="store_true",
                   help="delete the stored session and start an empty one")
    c.add_argument("--new-teacher-token", action="store_true",
                   help="keep the stored session but print a new teacher address (the old "
                        "one stops working)")
    p.set_defaults(run=run_serve)


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


def _worker_socket(host: str, port: int) -> socket.socket:
    """A worker's own SO_REUSEPORT listener on the shared port.

    Why not one shared listener for all workers: a class opens its keep-alive connections at
    once, and whichever worker wakes first accepts nearly all of them, so two workers served
    40 students with one core (bench/api.py: 96% of one core, p50 194 ms). With a listener
    per worker the kernel spreads connections over the workers by hash.
    """
    return bind(host, port, reuse_port=True)


def claim_port(host: str, port: int, workers: int):
    """Refuse a port another server holds, before anything listens; returns the claim to keep.

    SO_REUSEPORT, which the workers need, lets any later socket of the same user join the
    port's group: a second `--workers` server used to start silently and share the traffic.
    So two checks come first. A lock named after the port in Linux's abstract socket
    namespace (no file to clean up; the kernel drops it when this process dies, even by
    kill -9) refuses a second ConvScope, however it is started and even while the first one's
    workers restart. A plain bind, without SO_REUSEPORT, refuses any other program's
    listener on the port. Then the returned socket holds the port (SO_REUSEPORT, never
    listening) for as long as this process runs, so a restarting worker always gets it back.
    Raises OSError(EADDRINUSE) when the port is taken.
    """
    lock = None
    if port and sys.platform.startswith("linux"):
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind(f"\0convscope-port-{port}")
        except OSError as exc:
            lock.close()
            if exc.errno == errno.EADDRINUSE:
                raise OSError(errno.EADDRINUSE, "another ConvScope server holds it") from None
            lock = None     # no abstract namespace here: the bind probe below still refuses
    try:
        if port and workers > 1:
            bind(host, port).close()     # plain bind: fails if anything else holds the port
        sock = bind(host, port, reuse_port=workers > 1)
    except OSError:
        if lock is not None:
            lock.close()
        raise
    return sock, lock


def uvicorn_config(app, settings):
    """uvicorn with ConvScope's bounded connections (app/protocol.py) and a bounded stop."""
    import uvicorn

    from app.protocol import protocol_class
    return uvicorn.Config(app, http=protocol_class(settings), log_level="warning",
                          access_log=False,
                          # Students reach the laptop directly, never through a proxy: nothing
                          # sends X-Forwarded-* that should be believed, and the middleware that
                          # reads them costs every request (~0.5% of a forward's server CPU, py-spy).
                          proxy_headers=False,
                          # A backstop: app/protocol.py closes in-flight connections after
                          # shutdown_timeout_s; anything still running 1 s later is cancelled.
                          timeout_graceful_shutdown=settings.shutdown_timeout_s + 1)


def _quiet_signals() -> None:
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the
    # handlers that were there before it: make those no-ops, so a stop asked for is a clean
    # exit 0, not death by signal (or a KeyboardInterrupt traceback).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)


def run_worker(host: str, port: int) -> int:
    """The body of one `--workers N` worker process (forked by app/supervisor.py)."""
    import uvicorn

    from app.config import LayoutError, Settings
    from app.main import create_app
    from engine.errors import EngineError

    settings = Settings.from_env()
    try:
        app = create_app(settings)
    except (EngineError, LayoutError) as exc:     # e.g. the model file changed since start
        return _fail(str(exc), 2)
    sock = _worker_socket(host, port)
    _quiet_signals()
    uvicorn.Server(uvicorn_config(app, settings)).run(sockets=[sock])
    return 0


def _class_model_line(models, networks) -> str:
    """Which served model the class reads digits with (app.classroom.service.class_model picks
    the same one in every worker), or what is missing."""
    from app.classroom.service import first_digit_model
    from engine.inputspec import declaration
    digits = first_digit_model((p, declaration(net)) for p, net in zip(models, networks))
    if digits is None:
        return ("note: none of the served models reads MNIST-style digits, so Send to class, "
                "rounds and the class's test set are off; add one with --model "
                "models/lenet-mnist.npz")
    if digits != models[0]:
        return (f"The class reads digits with {digits.name} (the first digit model served); "
                f"students' pages on another model offer to switch to it")
    return f"The class reads digits with {digits.name}"


def _open_class(args, port: int) -> str | None:
    """Open (or continue) the class session before any worker starts, and print the teacher's
    address once. The token is in the URL's #fragment: browsers never send a fragment, so no
    server log, proxy or Referer header ever sees it; the page trades it for a cookie."""
    from app.classroom.store import ClassError, Store, default_path

    for name, value in (("--max-students", args.max_students),
                        ("--submits-per-minute", args.submits_per_minute)):
        if value < 1:
            return f"{name} must be 1 or more, got {value}"
    path = (args.session_db or default_path()).resolve()
    try:
        store = Store(path)
    except Exception as exc:   # sqlite3.Error, OSError: a clear line, not a traceback
        return f"cannot open the session file {path} ({exc}); choose another with --session-db"
    try:
        session = store.session()
        token = None
        if args.new_session or session is None:
            token, _ = store.start_session()
        elif args.new_teacher_token:
            token = store.reissue_token()
        session = store.session()
        counts = len(store.students()), len(store.all_submissions())
    except ClassError as exc:
        return exc.detail
    finally:
        store.close()
    os.environ.update(CONVSCOPE_CLASSROOM="1", CONVSCOPE_SESSION_DB=str(path),
                      CONVSCOPE_MAX_STUDENTS=str(args.max_students),
                      CONVSCOPE_SUBMITS_PER_MINUTE=str(args.submits_per_minute))
    hosts = [u.split("//", 1)[1].rstrip("/") for u in
             os.environ.get("CONVSCOPE_JOIN_URLS", "").split(",") if u] or [f"127.0.0.1:{port}"]
    if session["code"]:
        print(f"  and type the join code {session['code']} (shown big on the teacher's screen), "
              f"or open http://{hosts[0]}/?code={session['code']} to join at once",
              file=sys.stderr)
    if token:
        print("Teacher (keep this private; it is printed only now):", file=sys.stderr)
        print(f"  on this computer: http://127.0.0.1:{port}/teacher#token={token}",
              file=sys.stderr)
        print(f"  from another device: http://{hosts[0]}/teacher#token={token}",
              file=sys.stderr)
    else:
        print(f"Teacher: continuing the session in {path} ({counts[0]} students, {counts[1]} "
              "digits); use the teacher address printed when it began, or restart with "
              "--new-teacher-token for a new one", file=sys.stderr)
    return None


def _fail(message: str, code: int) -> int:
    print(f"convscope serve: {message}", file=sys.stderr)
    return code


def run_serve(args) -> int:
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
    try:
        # With workers, this socket only holds the port (and resolves port 0): it never
        # listens; each worker listens on its own SO_REUSEPORT socket (see _worker_socket).
        sock, _claim = claim_port(host, args.port, args.workers)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"port {args.port} on {host} is already in use; stop the other server "
                         "or choose another port with --port", 1)
        return _fail(f"cannot listen on {host}:{args.port} ({exc.strerror or exc})", 1)
    port = sock.getsockname()[1]

    # The port first, then the imports (seconds on a loaded machine): a second server on a
    # held port is refused at once.
    import uvicorn

    from app.config import LayoutError, Settings
    from app.deps import load_network
    from app.main import create_app
    from app.models_registry import model_files
    from app.protocol import raise_fd_limit
    from app.supervisor import Supervisor
    from engine.errors import EngineError

    try:
        models = model_files(args.model or [DEFAULT_MODEL])
        networks = [load_network(path) for path in models]
        Settings.from_env().check_layout()    # static/ and templates/ are there
    except (EngineError, LayoutError) as exc:
        return _fail(str(exc), 2)
    model = models[0]
    if args.model:    # the models named, and only those (workers read the environment)
        os.environ["CONVSCOPE_EXTRA_MODELS"] = ",".join(str(p) for p in models[1:])

    os.environ["CONVSCOPE_MODEL"] = str(model)
    urls = [f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/"]
    if args.classroom:
        lan = [f"http://{ip}:{port}/" for ip in lan_ipv4()]
        os.environ["CONVSCOPE_JOIN_URLS"] = ",".join(lan)
        print("ConvScope classroom: students on this network open", file=sys.stderr)
        for url in lan or ["(no LAN IPv4 address found: is this machine on a network?)"]:
            print(f"  {url}", file=sys.stderr)
    if args.classroom:
        problem = _open_class(args, port)
        if problem:
            sock.close()
            return _fail(problem, 2)
        print(_class_model_line(models, networks), file=sys.stderr)
    print(f"ConvScope serving {', '.join(p.name for p in models)} at {urls[0]}"
          f"{f' with {args.workers} workers' if args.workers > 1 else ''} (Ctrl+C stops)",
          file=sys.stderr, flush=True)

    settings = Settings.from_env()
    # Every connection is a descriptor: 1,100 idle ones used to exhaust a soft limit of 1,024.
    raise_fd_limit(settings.max_connections)
    if args.workers > 1:
        code = Supervisor(host, port, args.workers, settings).run()
        print("ConvScope stopped", file=sys.stderr)
        return code
    app = create_app(settings)
    _quiet_signals()
    uvicorn.Server(uvicorn_config(app, settings)).run(sockets=[sock])
    print("ConvScope stopped", file=sys.stderr)
    return 0
