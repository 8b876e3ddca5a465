"""The one place the server's paths and limits are defined.

`Settings` is a frozen dataclass read from the environment (`CONVSCOPE_*`), so that
`convscope serve --workers N` can hand the same settings to every worker process: uvicorn
starts workers from an import string, and the environment is what they inherit.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Where static/, templates/ and models/ are: inside the package when it was installed from a
# wheel or by `pip install .` (package data, setup.py), at the repository's top level in a
# checkout and with `pip install -e .`.
ROOT = PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent
CHECKOUT = ROOT == PACKAGE.parent
SHIPPED_MODEL = ROOT / "models" / "lenet-mnist.npz"
# What `convscope train` and `evaluate` read and write by default. In a checkout: the shared
# MNIST beside the repository and the repository's models/ (so `convscope train` reproduces the
# shipped file in place). Installed from a wheel, the package's models/ sit in site-packages,
# which training must never overwrite: a new model goes to ./models/ of the current directory,
# and the data is ./mnist unless --data says otherwise (no data ships with the package).
TRAIN_DATA = ROOT.parent / "shared" / "data" / "mnist" if CHECKOUT else Path("mnist")
TRAIN_OUT = SHIPPED_MODEL if CHECKOUT else Path("models") / "lenet-mnist.npz"
MIB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _env_path(name: str, default: Path | None) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else default


SHIPPED_EXTRAS = ("lenet-harley.npz", "lenet-fashion.npz")


def _shipped_extras() -> tuple[Path, ...]:
    return tuple(p for p in (ROOT / "models" / n for n in SHIPPED_EXTRAS) if p.is_file())


def _env_paths(name: str, default: tuple[Path, ...]) -> tuple[Path, ...]:
    """Comma-separated paths; set but empty means none."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return tuple(Path(p) for p in raw.split(",") if p)


class LayoutError(Exception):
    """static/ or templates/ is missing: the server would answer every page with a 500."""


# What each served directory must hold ("" = only exist): without templates/index.html every
# page request is a 500; without static/ Starlette's mount fails on every request.
REQUIRED = {"static_dir": "", "templates_dir": "index.html"}


@dataclass(frozen=True)
class Settings:
    model_path: Path = SHIPPED_MODEL
    # More models served beside the default, picked with `?model=<file stem>` (see
    # app/models_registry.py); by default the shipped ones that are present.
    extra_models: tuple[Path, ...] = field(default_factory=_shipped_extras)
    # Shipped test digits for /api/samples; `data_dir` (an MNIST-format directory) is the
    # fallback when the model's dataset has no shipped set (e.g. a Fashion-MNIST model).
    samples_path: Path = ROOT / "models" / "samples.npz"
    data_dir: Path | None = None
    static_dir: Path = ROOT / "static"
    templates_dir: Path = ROOT / "templates"
    # A 2 MB image is ~2.8 MB as base64; a 512×512 pixel array is at most ~1 MB of JSON.
    # 3 MiB covers both plus JSON overhead and nothing much bigger is ever buffered.
    max_body_bytes: int = 3 * MIB
    max_image_bytes: int = 2 * MIB
    max_image_side: int = 1024
    min_pixels_side: int = 8
    max_pixels_side: int = 512
    # With ISA-L (isal) level 1 compresses a whole trace in ~0.16 ms to ~35 KB; zlib's level 6
    # gains 2 KB for 3.5 ms, which a class of 40 would feel. ISA-L levels are 0..3 (higher
    # values are clamped); bench/api.py prints size and time for each level of both.
    gzip_level: int = 1
    gzip_min_bytes: int = 1024
    # Expensive requests (/api/gradient, /api/history[/forward], a large /api/convolve): at most
    # `costly_slots` run at once *per worker process* (each process has its own gate, so
    # `--workers N` runs up to N × costly_slots), at most `costly_queue` more wait, each for at
    # most `costly_wait_s`; beyond that a 503 with `Retry-After: busy_retry_after_s`. One slot
    # leaves the other core to the event loop, so forwards and health stay fast while 50
    # students hammer 20-step gradients (bench/api.py); 32 waiting covers a class pressing
    # "step" at once (a 1-step gradient is ~15 ms, so the last waits ~0.5 s).
    costly_slots: int = 1
    costly_queue: int = 32
    costly_wait_s: float = 3.0
    busy_retry_after_s: int = 1
    # /api/convolve runs on the event loop (well under a millisecond for the page's 32×32 map)
    # unless its multiply-adds exceed this (the page's 32×32 output with a 5×5 kernel): then it
    # goes through the gate above, in a thread. A 64×64 map, 7×7 kernel, step mode: ~15 ms.
    convolve_inline_macs: int = 32 * 32 * 5 * 5
    # /api/history/forward returns at most this many float32 values (every snapshot × the
    # stages asked): ≤ 16 bytes of JSON each, so at most ~3.2 MB before gzip. The default
    # stages (each conv's activation) at the shipped run's 24 snapshots are ~151k values.
    history_max_values: int = 200_000
    # Set by `convscope serve --classroom`: the LAN URLs students can open (for /api/join).
    join_urls: tuple[str, ...] = field(default_factory=tuple)
    # Connections (app/protocol.py), per worker process. A request head (request line and
    # headers) is a few hundred bytes from the page; 32 KiB leaves room for cookies other
    # apps on the same host set, 8 KiB of URL for any query. The head must arrive within
    # `header_timeout_s` of the connection opening (or of the previous response), a body may
    # pause at most `body_timeout_s`, a response may wait at most `send_timeout_s` on a client
    # that does not read. Beyond `max_connections` the longest-idle connection is closed,
    # or, when none is idle, the new one gets a 503. An early answer (413, 431, 408...) is
    # followed by reading and discarding what the client still sends, up to `linger_bytes`
    # for `linger_s`, so the client reads the answer rather than a reset.
    max_head_bytes: int = 32 * 1024
    max_url_bytes: int = 8 * 1024
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    send_timeout_s: float = 30.0
    max_connections: int = 1000
    linger_s: float = 2.0
    linger_bytes: int = 16 * MIB
    # SIGTERM: in-flight requests get this long, then their connections are closed.
    shutdown_timeout_s: float = 5.0
    # `--workers N` (app/supervisor.py): a worker that dies is restarted at once; one that
    # dies again within `restart_window_s` of starting is restarted after a back-off
    # (`restart_backoff_s`, doubling, at most 8 s), and given up after `restart_attempts`.
    restart_backoff_s: float = 0.5
    restart_attempts: int = 5
    restart_window_s: float = 10.0
    # The class session (app/classroom/, issue 13): mounted only when `classroom` is set.
    # `session_db` None: $XDG_DATA_HOME/convscope/class.sqlite3 (app/classroom/store.py).
    classroom: bool = False
    session_db: Path | None = None
    max_students: int = 200
    submits_per_minute: int = 12

    def check_layout(self) -> None:
        """Refuse to start (LayoutError naming the directory) when static/ or templates/ is
        missing or empty, instead of serving a 500 on every page request."""
        for name, needed in REQUIRED.items():
            folder, role = Path(getattr(self, name)), name.removesuffix("_dir")
            if not (folder / needed).is_file() if needed else not folder.is_dir():
                what = "is missing" if not folder.is_dir() else f"has no {needed}"
                raise LayoutError(
                    f"the {role}/ directory {folder} {what}, so the page cannot be served; "
                    f"reinstall ConvScope (`pip install .` ships {role}/ inside the package) or "
                    f"point CONVSCOPE_{role.upper()}_DIR at a copy of the repository's {role}/")

    @classmethod
    def from_env(cls) -> "Settings":
        d = cls()
        urls = os.environ.get("CONVSCOPE_JOIN_URLS", "")
        return cls(
            model_path=_env_path("CONVSCOPE_MODEL", d.model_path),
            extra_models=_env_paths("CONVSCOPE_EXTRA_MODELS", d.extra_models),
            samples_path=_env_path("CONVSCOPE_SAMPLES", d.samples_path),
            data_dir=_env_path("CONVSCOPE_DATA_DIR", d.data_dir),
            static_dir=_env_path("CONVSCOPE_STATIC_DIR", d.static_dir),
            templates_dir=_env_path("CONVSCOPE_TEMPLATES_DIR", d.templates_dir),
            max_body_bytes=_env_int("CONVSCOPE_MAX_BODY_BYTES", d.max_body_bytes),
            gzip_level=_env_int("CONVSCOPE_GZIP_LEVEL", d.gzip_level),
            join_urls=tuple(u for u in urls.split(",") if u),
            costly_slots=_env_int("CONVSCOPE_COSTLY_SLOTS", d.costly_slots),
            costly_queue=_env_int("CONVSCOPE_COSTLY_QUEUE", d.costly_queue),
            **_connection_env(d),
            classroom=os.environ.get("CONVSCOPE_CLASSROOM", "") == "1",
            session_db=_env_path("CONVSCOPE_SESSION_DB", d.session_db),
            max_students=_env_int("CONVSCOPE_MAX_STUDENTS", d.max_students),
            submits_per_minute=_env_int("CONVSCOPE_SUBMITS_PER_MINUTE", d.submits_per_minute),
        )


def _connection_env(d: Settings) -> dict:
    """The connection and supervision settings from CONVSCOPE_* (tests shorten the timeouts)."""
    ints = ("max_head_bytes", "max_url_bytes", "max_connections", "linger_bytes",
            "restart_attempts")
    floats = ("header_timeout_s", "body_timeout_s", "send_timeout_s", "linger_s",
              "shutdown_timeout_s", "restart_backoff_s", "restart_window_s")
    out = {n: _env_int(f"CONVSCOPE_{n.upper()}", getattr(d, n)) for n in ints}
    out.update({n: _env_float(f"CONVSCOPE_{n.removesuffix('_s').upper()}", getattr(d, n))
                for n in floats})
    return out
