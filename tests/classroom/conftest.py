"""A classroom app (`--classroom`, its own session file) shared by the class API tests; each
test gets a fresh session (`cls`): new teacher token, new join code, nothing in it."""
from __future__ import annotations

from dataclasses import dataclass

import pytest


@pytest.fixture(scope="session")
def class_db(tmp_path_factory):
    return tmp_path_factory.mktemp("class") / "class.sqlite3"


@pytest.fixture(scope="session")
def class_app(model_path, class_db):
    from app.config import Settings
    from app.main import create_app
    return create_app(Settings(model_path=model_path, classroom=True, session_db=class_db,
                               max_students=5, submits_per_minute=4))


@dataclass
class Session:
    app: object
    token: str
    code: str

    def client(self):
        from fastapi.testclient import TestClient
        return TestClient(self.app)

    def teacher(self):
        c = self.client()
        c.headers["authorization"] = f"Bearer {self.token}"
        return c

    def student(self, nickname=None):
        c = self.client()
        r = c.post("/api/class/join", json={"code": self.code, "nickname": nickname})
        assert r.status_code == 201, r.text
        c.me = r.json()["student"]
        return c


@pytest.fixture
def cls(class_app):
    token, code = class_app.state.classroom.store.start_session()
    return Session(class_app, token, code)


@pytest.fixture(scope="session")
def sample_body(class_app):
    """A shipped test digit as a forward body ({pixels, width, height}) and its class."""
    from fastapi.testclient import TestClient
    with TestClient(class_app) as c:
        return lambda digit, index=0: c.get(f"/api/samples?digit={digit}&index={index}").json()
