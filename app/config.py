"""The one place the server's paths and limits are defined.

`Settings` is a frozen dataclass read from the environment (`CONVSCOPE_*`), so that
`convscope serve --workers N` can hand the same settings to every worker process: uvicorn
starts workers from an import string, and the environment is what they inherit.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


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


@dataclass(frozen=True)
class Settings:
    model_path: Path = ROOT / "models" / "lenet-mnist.npz"
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
    # Set by `convscope serve --classroom`: the LAN URLs students can open (for /api/join).
    join_urls: tuple[str, ...] = field(default_factory=tuple)

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
        )
