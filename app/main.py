"""The FastAPI application: `create_app(settings)` wires routers, limits, errors and pages.

The model is loaded here, once, before the app serves anything: a missing or corrupt file
fails at start-up with a ModelFileError naming it, never on a student's first request; so does
a missing static/ or templates/ directory (LayoutError, app/config.py).
"""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import docs, errors
from app.config import Settings
from app.deps import load_resources
from app.front import Front
from app.inputs import configure_pillow
from app.limits import cost_gate
from app.models_registry import load_registry
from app.routes import (explain, forward, gradient, health, history, join, lab, model, models,
                        samples)
from engine import parallel
from app.static import SafeStaticFiles


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Everything built so far (models, routes, FastAPI/pydantic internals: ~70k objects) lives
    # as long as the server. Frozen, the cyclic GC stops re-scanning it: a full collection
    # took 25 ms before and ~0 ms after, a pause that would land on some student's request.
    gc.collect()
    gc.freeze()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    settings.check_layout()
    configure_pillow()
    # One image per request: OpenBLAS's second thread only contends (engine.parallel says the
    # figures); the batch split and --workers use the cores.
    parallel.pin_blas_threads(1)
    resources = load_resources(settings)
    app = FastAPI(title="ConvScope", version="0.1.0", lifespan=_lifespan,
                  summary="Every stage of a trained ConvNet, and where each unit's value comes from.",
                  docs_url=None, redoc_url=None)     # app/docs.py serves them without a CDN
    app.state.resources = resources
    app.state.cost_gate = cost_gate(settings)   # one per app, so one per worker process
    app.state.registry = load_registry(settings, resources)   # ?model= picks one
    for area in (health, model, models, forward, explain, samples, join, lab, gradient, history):
        app.include_router(area.router)
    templates = Jinja2Templates(directory=str(settings.templates_dir))
    if settings.classroom:   # without --classroom no /api/class path or /teacher page exists
        from app import classroom
        classroom.install(app, settings, app.state.registry, templates)
    errors.install(app)
    docs.install(app)
    # Outermost: security headers on every response (413s included), HEAD as GET, the early
    # refusals of the always-gated routes (a large /api/convolve is only known once parsed),
    # the body limit, and the forward's lane past the router.
    app.add_middleware(Front, owner=app, gate=app.state.cost_gate,
                       gated_paths=("/api/gradient", "/api/history/forward"),
                       limit=settings.max_body_bytes, lanes=forward.LANES)
    app.mount("/static", SafeStaticFiles(directory=settings.static_dir, check_dir=False),
              name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request):
        return templates.TemplateResponse(request, "index.html",
                                          {"model": resources.model_info,
                                           "classroom": settings.classroom})

    return app
