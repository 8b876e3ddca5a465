"""Shared fixtures: a model file, the app on it, an in-process client, a live server.

The shipped model is used when it exists; otherwise a seeded reference network is saved to a
temporary file, so the API tests never depend on training having run.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "lenet-mnist.npz"


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> Path:
    if SHIPPED.is_file():
        return SHIPPED
    from engine.network import Network
    from engine.spec import REFERENCE_SPEC
    path = tmp_path_factory.mktemp("model") / "seeded.npz"
    Network(REFERENCE_SPEC, seed=0).save(path, {
        "name": "seeded-lenet", "dataset": "mnist", "classes": [str(d) for d in range(10)],
        "accuracy": {"test": 0.1}})
    return path


@pytest.fixture(scope="session")
def settings(model_path):
    from app.config import Settings
    return Settings(model_path=model_path)


@pytest.fixture(scope="session")
def app(settings):
    from app.main import create_app
    return create_app(settings)


@pytest.fixture(scope="session")
def network(app):
    return app.state.resources.network


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(app):
    """The app under a real uvicorn in a thread, on a free port: yields its base URL."""
    from tests.serving import serve   # one copy, shared with the browser tests' own servers
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def imported_models(tmp_path_factory) -> Path:
    """A folder of the four test architectures (tests/import_nets.py) exported to ONNX and
    imported, made once per session for the API and browser tests (needs torch + onnx)."""
    for module in ("torch", "onnx", "onnxruntime"):
        pytest.importorskip(module)
    from tests import import_nets
    folder = tmp_path_factory.mktemp("imported")
    import_nets.import_all(folder)
    return folder
