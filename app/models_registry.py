"""Several shipped models, one server: the registry behind `GET /api/models` and `?model=`.

Every model is loaded once at start-up into its own `Resources` (network, serialised model
info and weights, samples of its own dataset), so switching models costs a dictionary lookup.
A model's id is its file's stem (`models/lenet-harley.npz` -> `lenet-harley`). Requests pick
one with the `model` query parameter on /api/model, /api/model/weights, /api/forward,
/api/explain and /api/samples; without it they get the default (`settings.model_path`, the
contract's `lenet-mnist`), so every client written against the original contract is unchanged.
A query parameter rather than a body field because it works alike for GET and POST and leaves
the contract's bodies as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from app.config import Settings
from app.deps import Resources, load_resources
from app.responses import Encoded, dumps
from engine.commands import LABEL_MAX
from engine.errors import ModelFileError

# One line per shipped model for the selector; a model not listed here shows its file name.
LABELS = {
    "lenet-mnist": ("MNIST · ReLU LeNet",
                    "The reference net: ReLU activations, every conv2 filter reads all 6 maps."),
    "lenet-harley": ("MNIST · Harley/LeCun",
                     "Scaled tanh 1.7159·tanh(2x/3) and LeCun's C3 table: conv2 filters 0–5 "
                     "read 3 maps, 6–14 read 4, filter 15 reads all 6."),
    "lenet-fashion": ("Fashion-MNIST · ReLU LeNet",
                      "The reference net trained on Zalando's clothing images (10 classes)."),
}


def model_files(given) -> list[Path]:
    """`convscope serve --model` arguments -> model files, in order: a file as given; a folder
    as its ConvScope models sorted by name (its .npz files but histories and sample sets).
    Raises ModelFileError for a path that does not exist or a folder with no model."""
    files: list[Path] = []
    for path in map(Path, given):
        if path.is_dir():
            found = sorted(p for p in path.glob("*.npz") if not p.name.endswith(".history.npz")
                           and not p.name.startswith("samples"))
            if not found:
                raise ModelFileError(f"folder {path} holds no model .npz (histories and "
                                     f"samples*.npz are not models)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ModelFileError(f"--model {path}: no such file or folder; expected a model "
                                 f".npz (`convscope train` / `convscope import`) or a folder "
                                 f"of them")
    return list(dict.fromkeys(p.resolve() for p in files))


def model_id(path: Path) -> str:
    return Path(path).name.removesuffix(".npz")


@dataclass
class Registry:
    models: dict[str, Resources]     # insertion order is the listing order, default first
    default: str
    listing: Encoded

    def get(self, model: str | None) -> Resources:
        if model is None:
            return self.models[self.default]
        if model not in self.models:
            raise KeyError(model)
        return self.models[model]


def model_entry(mid: str, res: Resources, default: str) -> dict:
    info = res.model_info
    # The shipped models' words; an imported model's own `convscope import --label`, else its id.
    own = res.network.metadata.get("label") if res.network.metadata else None
    label, description = LABELS.get(mid, (str(own)[:LABEL_MAX] if own else mid, ""))
    imported = info.get("imported")
    if not description and imported:
        # `convscope import`'s model card: where it came from and what the import changed.
        source = {"onnx": "ONNX", "torch": "PyTorch"}.get(imported["source"], "a file")
        description = " ".join(
            [f"Imported from {source} ({imported['file']}), every stage verified."]
            + [str(n) for n in info.get("notes", [])])
    return {"id": mid, "name": info["name"], "label": label, "description": description,
            "dataset": info["dataset"], "classes": info["classes"],
            "accuracy": info["accuracy"], "default": mid == default}


def load_registry(settings: Settings, default: Resources) -> Registry:
    """The default model (already loaded by create_app) plus `settings.extra_models`.

    An extra model that is missing or broken stops the start-up with a ModelFileError naming
    it, like the default model: a server that silently lost a model would 422 the page later.
    """
    default_id = model_id(settings.model_path)
    models = {default_id: default}
    for path in settings.extra_models:
        mid = model_id(path)
        if mid in models:
            continue
        try:
            models[mid] = load_resources(replace(settings, model_path=Path(path)))
        except ModelFileError as exc:
            raise ModelFileError(f"extra model {mid!r}: {exc}") from None
    listing = [model_entry(mid, res, default_id) for mid, res in models.items()]
    return Registry(models, default_id, Encoded(dumps(listing), settings.gzip_level))


# async although it awaits nothing: FastAPI runs a plain `def` dependency in its thread
# pool, a thread hop per request for a dictionary lookup.
async def get_model(request: Request, model: Annotated[str | None, Query(
        description="Model id from GET /api/models; omitted = the default model.")] = None
              ) -> Resources:
    registry: Registry = request.app.state.registry
    try:
        return registry.get(model)
    except KeyError:
        raise HTTPException(422, f"unknown model {model!r}; valid ids: "
                                 f"{', '.join(registry.models)} (omit `model` for the default, "
                                 f"{registry.default})") from None


ModelDep = Annotated[Resources, Depends(get_model)]
