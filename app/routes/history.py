"""GET /api/history and POST /api/history/forward: the recorded training run, for scrubbing.

The history file sits beside its model (`models/lenet-mnist.npz` -> `lenet-mnist.history.npz`,
written by `convscope train`); second-seed runs beside it as `<stem>.seed<N>.history.npz`
(engine/seeds.py). Both are read once per file (mtime-checked) and kept with the snapshot
networks built from them: one entry per model file, so the cache cannot grow with requests.

`/api/history/forward` returns the current drawing at *every* snapshot in one response, so
the page scrubs with no round trip: the feature maps it needs are a few kB per snapshot. That
is ~24 forwards: it runs through the worker's cost gate (app/limits.py) like /api/gradient,
and its answer is bounded (`settings.history_max_values` float32 values, ≤ ~3.2 MB of JSON);
so is reading a history file the first time. A file that cannot be read is a 503 naming it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.errors import BUSY, ERROR_RESPONSES, not_found, unprocessable
from app.limits import GateDep
from app.models_registry import ModelDep
from app.responses import Encoded, dumps, json_response
from app.routes.gradient import network_input
from app.schemas import ErrorBody, HistoryForwardBody, HistoryForwardResult, HistoryResult
from app.serialize import flat
from engine.errors import ModelFileError
from engine.history import History, history_path
from engine.network import Network
from engine.spec import names_of_kind
from engine.seeds import run_differences, seed_paths

router = APIRouter(prefix="/api", tags=["learn"])
MAX_CURVE_POINTS = 600      # the per-step curve, bucket-averaged: a plot is ~600 px wide
NOT_FOUND = {404: {"model": ErrorBody, "description": "The model has no recorded history."}}
UNREADABLE = {503: {"model": ErrorBody, "description": (
    "The history file beside the model cannot be read (the detail names it), or this worker "
    "is busy with other expensive requests (then `Retry-After` says when to retry).")}}


def default_stages(stages: list[dict]) -> list[str]:
    """Each conv stage's feature maps as the next stage sees them: its activation when one
    follows (relu1, relu2 in the reference net; tanh1, tanh2 in Harley's), else the conv."""
    out = []
    for i, s in enumerate(stages):
        if s["kind"] == "conv":
            after = stages[i + 1] if i + 1 < len(stages) else None
            out.append(after["name"] if after and after["kind"] == "activation" else s["name"])
    return out


@dataclass
class Loaded:
    history: History
    body: Encoded                     # the GET response, serialised once
    networks: list | None = None      # one float32 Network per snapshot, built on first forward


_cache: dict[Path, tuple[float, Loaded]] = {}
_lock = threading.Lock()


def _label(step: int, epoch: float) -> str:
    return "random init" if step == 0 else f"step {step} · epoch {epoch:.2f}"


def _step_curves(history: History) -> dict:
    loss = np.asarray(history.step_loss, np.float64)
    err = np.asarray(history.step_total_error, np.float64)
    size = max(1, -(-len(loss) // MAX_CURVE_POINTS))          # ceil: steps per bucket
    ends = np.minimum(np.arange(size, len(loss) + size, size), len(loss))
    starts = ends - np.diff(np.concatenate([[0], ends]))

    def means(a):
        return flat([a[s:e].mean() for s, e in zip(starts, ends)]) if len(a) else flat([])

    return {"bucket": size, "step": [int(e) for e in ends], "loss": means(loss),
            "total_error": means(err)}


def _first_conv(history: History) -> str:
    """The first conv layer by kind (the Learn view's kernels), whatever its name."""
    return names_of_kind(history.spec, "conv")[0]


def _seed_entry(history: History, label: str, conv: str, differs: list[str] | None = None) -> dict:
    first, last = history.snapshots[0], history.snapshots[-1]
    return {"seed": int(history.config.get("seed", 0)),
            "epochs": len(history.curves["test_accuracy"]), "label": label,
            "differs": differs or [],
            "shape": list(first[1][conv]["weight"].shape),
            "init": flat(first[1][conv]["weight"]), "final": flat(last[1][conv]["weight"]),
            "test_accuracy": float(history.curves["test_accuracy"][-1])
            if history.curves["test_accuracy"] else None}


def seed_label(history: History, differs: list[str]) -> str:
    """The other run's caption, from what its recording says (engine.seeds.run_differences)."""
    seed = history.config.get("seed")
    if not differs:
        return f"seed {seed} (same network, data and recipe)"
    return f"seed {seed} (also differs: {'; '.join(differs)})"


def history_payload(history: History, seeds: list[tuple[History, list[str]]], model: str) -> dict:
    infos = [info for info, _ in history.snapshots]
    conv = _first_conv(history)
    kernels = np.stack([w[conv]["weight"] for _, w in history.snapshots])
    return {
        "model": model, "steps_per_epoch": history.steps_per_epoch, "probe": history.probe,
        "config": history.config,
        "curves": {"epoch": list(range(1, len(history.curves["lr"]) + 1)),
                   **{k: flat(v) for k, v in history.curves.items()}},
        "step_curves": _step_curves(history),
        "snapshots": [{"index": k, "step": int(i["snapshot_step"]),
                       "epoch": float(i["snapshot_epoch"]),
                       "label": _label(int(i["snapshot_step"]), float(i["snapshot_epoch"])),
                       "test_accuracy": float(i["snapshot_test_accuracy"]),
                       "test_loss": float(i["snapshot_test_loss"])} for k, i in enumerate(infos)],
        "kernels": {"layer": conv, "shape": list(kernels.shape), "values": flat(kernels)},
        "seeds": [_seed_entry(history, f"seed {history.config.get('seed', 0)} (this model)", conv)]
                 + [_seed_entry(h, seed_label(h, differs), conv, differs) for h, differs in seeds],
    }


def _stamp(res) -> tuple[Path, float]:
    path = history_path(res.settings.model_path)
    try:
        return path, path.stat().st_mtime
    except OSError:
        # `convscope train` cannot retrain an imported model: say so rather than suggest it.
        why = ("the model was imported (`convscope import`), so no training run was recorded"
               if res.model_info.get("imported") else "`convscope train` writes it")
        raise not_found(f"no training history for this model: {path.name} is not beside "
                        f"{Path(res.settings.model_path).name}; {why}") from None


def cached(res) -> Loaded | None:
    """The loaded history if it is in the cache and its file unchanged (cheap: one stat)."""
    path, mtime = _stamp(res)
    hit = _cache.get(path)
    return hit[1] if hit and hit[0] == mtime else None


def _read(path: Path) -> History:
    try:
        return History.load(path)
    except Exception as exc:    # a truncated or foreign zip, a missing array: never a 500
        why = str(exc).removeprefix(f"history file {str(path)!r} ")
        raise ModelFileError(f"training history {path.name} (beside the model, in "
                             f"{path.parent}) cannot be read: {why or type(exc).__name__}; "
                             "re-run `convscope train` to rewrite it, or remove it") from None


def load(res) -> Loaded:
    """The model's history (cached while the file is unchanged); 404 if it has none, a
    ModelFileError (503) naming the file if it cannot be read."""
    path, mtime = _stamp(res)
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        history = _read(path)
        others = [_read(p) for p in seed_paths(res.settings.model_path)]
        digest = (res.network.metadata or {}).get("data_digest", "")
        try:
            seeds = [(h, run_differences(history, h, digest)) for h in others]
            payload = history_payload(history, seeds, res.model_info["name"])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"training history {path.name} is incomplete ({exc!r}); "
                                 "re-run `convscope train` to rewrite it") from None
        loaded = Loaded(history, Encoded(dumps(payload), res.settings.gzip_level))
        _cache[path] = (mtime, loaded)
        return loaded


def snapshot_networks(loaded: Loaded, path: Path) -> list[Network]:
    with _lock:
        if loaded.networks is None:
            nets = []
            try:
                for k in range(len(loaded.history.snapshots)):
                    net = Network(loaded.history.spec)
                    net.set_parameters(loaded.history.weights_at(k))
                    nets.append(net)
            except Exception as exc:     # weights that do not fit the recorded spec
                raise ModelFileError(f"training history {path.name}: snapshot {len(nets)} does "
                                     f"not fit its network ({exc}); re-run `convscope train`"
                                     ) from None
            loaded.networks = nets
        return loaded.networks


def wanted_stages(body: HistoryForwardBody, stages: list[dict]) -> list[str]:
    names = [s["name"] for s in stages]
    if body.stages is None:
        return default_stages(stages)
    repeated = sorted({s for s in body.stages if body.stages.count(s) > 1})
    if repeated:         # each stage once: a repeat would only multiply the answer's size
        raise unprocessable(f"stages must be distinct; repeated: {', '.join(repeated)}; valid "
                            f"names: {', '.join(names)}")
    unknown = [s for s in body.stages if s not in names]
    if unknown:
        raise unprocessable(f"unknown stages {unknown}; valid names: {', '.join(names)}")
    return list(body.stages)


def run_history_forward(body: HistoryForwardBody, request: Request, res) -> Response:
    loaded = load(res)
    nets = snapshot_networks(loaded, history_path(res.settings.model_path))
    count = len(nets)
    wanted = list(range(count)) if body.snapshots is None else body.snapshots
    if len(set(wanted)) != len(wanted):      # bounded work: at most one forward per snapshot
        raise unprocessable(f"snapshots must be distinct indices 0..{count - 1}")
    bad = [k for k in wanted if not 0 <= k < count]
    if bad:
        raise unprocessable(f"snapshots {bad} out of range; this history has {count} "
                            f"snapshots, 0..{count - 1}")
    stages = wanted_stages(body, nets[0].stages)
    sizes = {s["name"]: int(np.prod(s["shape"])) for s in nets[0].stages}
    classes = sizes[nets[0].stages[-1]["name"]]
    values = len(wanted) * (sum(sizes[s] for s in stages) + classes)
    limit = res.settings.history_max_values
    if values > limit:
        raise unprocessable(
            f"{len(wanted)} snapshots × stages {', '.join(stages)} is {values:,} values; the "
            f"limit is {limit:,} per response (≤ ~{limit * 16 // 1_000_000} MB of JSON): ask "
            "fewer `stages` or `snapshots` (the default, each conv's activation at every "
            "snapshot, fits)")
    image = network_input(body, res)
    out = []
    for k in wanted:
        trace = nets[k].forward(image)
        out.append({"index": k, "prediction": int(trace.prediction),
                    "probabilities": flat(trace.probabilities),
                    "layers": [{"name": s, "shape": list(trace[s].shape),
                                "values": flat(trace[s].values)} for s in stages]})
    return json_response(request, {"count": count, "snapshots": out},
                         res.settings.gzip_level, res.settings.gzip_min_bytes)


@router.get("/history", response_model=HistoryResult, responses={**NOT_FOUND, **UNREADABLE})
async def history(request: Request, res: ModelDep, gate: GateDep) -> Response:
    """Learning curves (per epoch, and per step bucket-averaged), the snapshot list with
    step/epoch labels and probe accuracy, conv1's kernels at every snapshot, and conv1 at init
    and at the end for this run and any other-seed run. 404 when no history was recorded, 503
    naming the file when it cannot be read."""
    loaded = cached(res) or await gate.run("history", load, res)
    return loaded.body.response(request)


@router.post("/history/forward", response_model=HistoryForwardResult,
             responses={**ERROR_RESPONSES, **NOT_FOUND, **UNREADABLE, **BUSY})
async def history_forward(body: HistoryForwardBody, request: Request, res: ModelDep,
                          gate: GateDep) -> Response:
    """The drawing through the network as it was at each snapshot (all of them by default):
    prediction, probabilities and the chosen stages' values, so scrubbing needs no round trip.
    `stages` must be distinct; the answer holds at most `history_max_values` numbers (422
    says how many were asked)."""
    return await gate.run("history", run_history_forward, body, request, res)
