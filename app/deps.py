"""What routes share: the network (loaded once, at start-up) and the settings.

`create_app` builds one `Resources` and stores it on `app.state`; routes get it through
`ResourcesDep`. Nothing here grows per request: the model's fixed answers (model info,
weights) are serialised once, and /api/samples reads one small array loaded at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from fastapi import Depends, Request

from app import serialize
from app.config import Settings
from app.responses import Encoded, dumps
from engine import inputspec
from engine.errors import ModelFileError, SpecError
from engine.history import history_path
from engine.network import Network


@dataclass
class Samples:
    """Test digits by class: images (classes, per_class, 28, 28) uint8."""
    images: np.ndarray
    dataset: str
    source: str


@dataclass
class Resources:
    settings: Settings
    network: Network
    model_info: dict
    model_json: Encoded
    weights_json: Encoded
    # How a body becomes this model's input (engine.inputspec; served in /api/model `input`).
    input: dict = field(default_factory=dict)
    samples: Samples | None = None
    samples_problem: str = ""


def load_network(path) -> Network:
    """Network.load with a message that names the file and what was expected."""
    try:
        return Network.load(path)
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} not found; expected an .npz written by "
                             "`convscope train` (the shipped one is models/lenet-mnist.npz)")
    except Exception as exc:   # a corrupt zip, a missing array, ...: never a traceback
        raise ModelFileError(f"model file {path} could not be read ({exc}); expected an .npz "
                             "written by `convscope train`") from None


def load_resources(settings: Settings) -> Resources:
    from app.samples import load_samples   # local: samples is a route-side helper

    network = load_network(settings.model_path)
    try:
        declared = inputspec.declaration(network)
    except SpecError as exc:
        raise ModelFileError(f"model file {settings.model_path}: {exc}") from None
    info = serialize.model_info(network, declared)
    samples, problem = load_samples(settings, info)
    info["samples"] = samples is not None    # added field: whether /api/samples has test images
    # Added field: whether a recorded training run sits beside the model (GET /api/history
    # answers it; else 404), so the page asks only when there is one. Read at start-up, like
    # the model itself.
    info["history"] = history_path(settings.model_path).is_file()
    res = Resources(
        settings=settings,
        network=network,
        model_info=info,
        model_json=Encoded(dumps(info), settings.gzip_level),
        weights_json=Encoded(dumps(serialize.weights(network)), settings.gzip_level),
        input=declared,
    )
    res.samples, res.samples_problem = samples, problem
    return res


# async although it awaits nothing: FastAPI runs a plain `def` dependency in its thread
# pool, a thread hop per request for a dictionary lookup.
async def get_resources(request: Request) -> Resources:
    return request.app.state.resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]
