"""POST /api/gradient: one digit, one target — loss, gradients everywhere, a few SGD steps.

Every call starts from the served model and works on a copy (engine.gradient.learn), so the
server keeps no per-student state and the same body always gives the same numbers; the page
shows n steps by sending `steps: n`. 20 steps are ~15-30 ms of CPU, too long to hold the event
loop that answers everyone's forward passes: the work runs in a thread, through the worker's
cost gate (app/limits.py), so 50 students asking at once queue or get a 503 with Retry-After
while forwards and health stay fast.
"""
from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.errors import BUSY, ERROR_RESPONSES
from app.inputs import model_input
from app.limits import GateDep
from app.models_registry import ModelDep
from app.responses import json_response
from app.schemas import ForwardBody, GradientBody, GradientResult
from app.serialize import flat
from engine.gradient import LearnResult, learn, weight_terms

router = APIRouter(prefix="/api", tags=["learn"])


def network_input(body: ForwardBody, res) -> np.ndarray:
    """The image /api/forward would feed the network for this body (the model's own input)."""
    return model_input(body, res)[0]


def figures_payload(fig) -> dict:
    return {"probabilities": flat(fig.probabilities), "prediction": fig.prediction,
            "total_error": fig.total_error, "cross_entropy": fig.cross_entropy}


def gradient_payload(result: LearnResult, dense_weights: str = "full") -> dict:
    """Engine result -> contract-style JSON: float32 flat arrays with their shapes."""
    classes = len(result.before.probabilities)
    parameters = {}
    for name, grads in result.parameter_gradients.items():
        entry = {"weight_shape": list(grads["weight"].shape), "bias": flat(grads["bias"])}
        if dense_weights == "outer" and grads["weight"].ndim == 2:
            rows, cols = result.dense_factors(name)
            entry["outer"] = {"rows": flat(rows), "cols": flat(cols)}
        else:
            entry["weight"] = flat(grads["weight"])
        parameters[name] = entry
    return {
        "target": result.target, "learning_rate": result.learning_rate, "steps": result.steps,
        "loss": "cross_entropy",
        "target_vector": flat(np.eye(classes)[result.target]),
        "before": figures_payload(result.before), "after": figures_payload(result.after),
        "history": result.history,
        "stage_gradients": [{"name": n, "shape": list(s), "values": flat(g)}
                            for n, s, g in result.stage_gradients],
        "parameter_gradients": parameters,
        "kernels": {name: {"before": flat(k["before"]), "after": flat(k["after"]),
                           "shape": list(k["before"].shape)}
                    for name, k in result.kernels.items()},
    }


def run_gradient(body: GradientBody, request: Request, res) -> Response:
    image = network_input(body, res)
    result = learn(res.network, image, body.target, body.learning_rate, body.steps)
    payload = gradient_payload(result, body.dense_weights)
    if body.weight is not None:
        terms = weight_terms(result, res.network, body.weight.layer, body.weight.index)
        payload["weight_terms"] = {**terms, **{k: flat(terms[k]) for k in ("window", "upstream", "products")}}
    return json_response(request, payload,
                         res.settings.gzip_level, res.settings.gzip_min_bytes)


@router.post("/gradient", response_model=GradientResult, responses={**ERROR_RESPONSES, **BUSY})
async def gradient(body: GradientBody, request: Request, res: ModelDep,
                   gate: GateDep) -> Response:
    """Cross-entropy of `target` for this drawing, its gradient w.r.t. every stage and every
    parameter of the served model, and `steps` SGD steps at `learning_rate` on a copy: the
    probabilities and errors before, after and at each step, and every conv kernel before and
    after. 422 names the valid target range, rate bounds and step counts; 503 when this
    worker already has its fill of expensive requests."""
    return await gate.run("gradient", run_gradient, body, request, res)
