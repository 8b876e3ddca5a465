"""/api/class/...: refused without --classroom, every teacher action checked on the server,
names as text, limits with details, and numbers checked against the public API."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

import pytest

TEACHER_ACTIONS = [
    ("get", "/api/class/teacher/state", None),
    ("get", "/api/class/submissions/1", None),
    ("post", "/api/class/pause", {"paused": True}),
    ("post", "/api/class/spotlight", {"digit": {"sample": [3, 0]}}),
    ("delete", "/api/class/spotlight", None),
    ("post", "/api/class/gallery/clear", {}),
    ("post", "/api/class/rounds", {"kind": "fool", "target": None}),
    ("post", "/api/class/rounds/1/reveal", {}),
    ("delete", "/api/class/rounds/current", None),
    ("get", "/api/class/test-set", None),
    ("get", "/api/class/export.zip", None),
    ("post", "/api/class/end", {"confirm": True}),
    ("post", "/api/class/session", {}),
    ("get", "/api/class/events?role=teacher", None),
    ("delete", "/api/class/submissions/1", None),     # without a student cookie either
]


def call(client, method, path, body):
    return client.request(method.upper(), path, json=body) if body is not None \
        else client.request(method.upper(), path)


def test_nothing_is_exposed_without_classroom(client):
    for path in ("/api/class", "/teacher", "/api/class/teacher/state", "/api/class/events"):
        assert client.get(path).status_code == 404, path
    assert client.post("/api/class/join", json={"code": "ABCD"}).status_code == 404
    assert 'data-classroom' not in client.get("/").text


@pytest.mark.parametrize("method,path,body", TEACHER_ACTIONS)
def test_every_teacher_action_needs_the_token(cls, method, path, body):
    student = cls.student()
    student.post("/api/class/submissions", json={"pixels": [0] * 784, "width": 28,
                                                 "height": 28})
    nobody = call(cls.client(), method, path, body)
    either = ("no teacher token", "join the class first")   # DELETE is a student's too
    assert nobody.status_code == 403 and any(w in nobody.json()["detail"] for w in either)
    bad = cls.client()
    bad.headers["authorization"] = "Bearer " + cls.token[:-2] + "xx"
    wrong = call(bad, method, path, body)
    assert wrong.status_code == 403 and "not this session" in wrong.json()["detail"]
    forged = cls.client()
    forged.cookies.set("convscope_teacher", "guess")
    assert call(forged, method, path, body).status_code == 403
    if path != "/api/class/submissions/1" or method != "delete":
        assert call(student, method, path, body).status_code == 403   # a student is no teacher
    assert cls.app.state.classroom.store.session()["state"] == "open"   # nothing happened


def test_login_sets_an_httponly_cookie_and_pages_carry_no_token(cls):
    c = cls.client()
    assert c.post("/api/class/teacher/login", json={"token": "nope"}).status_code == 403
    r = c.post("/api/class/teacher/login", json={"token": cls.token})
    assert r.status_code == 204
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert c.get("/api/class/teacher/state").status_code == 200
    student = cls.student()
    for page in (student.get("/").text, student.get("/api/class").text, c.get("/teacher").text,
                 student.get("/static/js/classroom/student.js").text):
        assert cls.token not in page
    assert 'data-classroom="on"' in student.get("/").text


def test_student_joins_keeps_identity_and_names_are_text(cls, sample_body):
    c = cls.student("  <script>x</script>\u202e ")
    assert c.me["name"] == "<script>x</script>"      # kept as text; bidi override dropped
    again = c.post("/api/class/join", json={"code": cls.code})
    assert again.status_code == 200 and again.json()["student"] == c.me   # cookie remembered
    sub = c.post("/api/class/submissions", json={**sample_body(7), "label": 7}).json()
    state = c.get("/api/class").json()
    assert [s["id"] for s in state["submissions"]] == [sub["id"]]
    animal = cls.student()
    assert animal.me["name"] and animal.me["name"] != c.me["name"]
    assert c.patch("/api/class/me", json={"nickname": "Ana"}).json()["name"] == "Ana"
    teacher = cls.teacher().get("/api/class/teacher/state").json()
    assert {s["name"] for s in teacher["students"]} == {"Ana", animal.me["name"]}


def test_limits_say_what_is_wrong(cls, sample_body):
    c = cls.client()
    wrong = c.post("/api/class/join", json={"code": "Q" * 4})
    assert wrong.status_code == 403 and "join code" in wrong.json()["detail"]
    long = c.post("/api/class/join", json={"code": cls.code, "nickname": "x" * 25})
    assert long.status_code == 422 and "at most 24" in long.json()["detail"]
    s = cls.student()
    body = sample_body(2)
    assert s.post("/api/class/submissions", json={**body, "label": 10}).status_code == 422
    for _ in range(4):                                   # submits_per_minute=4 in this app
        assert s.post("/api/class/submissions", json=body).status_code == 201
    limited = s.post("/api/class/submissions", json=body)
    assert limited.status_code == 429 and "4 digits a minute" in limited.json()["detail"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    big = s.post("/api/class/submissions", content=b'{"image": "' + b"A" * 300_000 + b'"}',
                 headers={"content-type": "application/json"})
    assert big.status_code == 413 and "262144 bytes" in big.json()["detail"]
    for _ in range(4):                                   # max_students=5 in this app
        cls.student()
    full = cls.client().post("/api/class/join", json={"code": cls.code})
    assert full.status_code == 409 and "full (5 students)" in full.json()["detail"]
    cls.teacher().post("/api/class/pause", json={"paused": True})
    paused = s.post("/api/class/submissions", json=body)
    assert paused.status_code == 409 and "paused" in paused.json()["detail"]
    assert cls.teacher().post("/api/class/end", json={"confirm": False}).status_code == 422
    assert cls.teacher().post("/api/class/end", json={"confirm": True}).status_code == 204
    closed = cls.client().post("/api/class/join", json={"code": cls.code})
    assert closed.status_code == 409 and "ended" in closed.json()["detail"]
    assert s.get("/api/class").json()["student"] is None   # everything deleted


def test_a_submission_reads_as_the_forward_endpoint_reads_it(cls, sample_body, client):
    s = cls.student()
    for d in (0, 4, 9):
        body = sample_body(d, 1)
        sub = s.post("/api/class/submissions", json={**body, "label": d}).json()
        ref = client.post("/api/forward", json=body).json()
        assert sub["prediction"] == ref["prediction"]
        np.testing.assert_allclose(sub["probabilities"], ref["probabilities"], atol=1e-5)


def test_spotlight_and_release_reach_the_students_state(cls, sample_body):
    s = cls.student()
    sub = s.post("/api/class/submissions", json=sample_body(5)).json()
    t = cls.teacher()
    bad = t.post("/api/class/spotlight", json={"digit": {"submission": sub["id"]},
                                               "focus": {"layer": "pool9", "unit": [0]}})
    assert bad.status_code == 422 and "pool1" in bad.json()["detail"]   # names valid layers
    r = t.post("/api/class/spotlight", json={"digit": {"submission": sub["id"]}, "anonymous": False,
                                             "focus": {"layer": "pool1", "unit": [2, 5, 7]}})
    assert r.status_code == 200 and r.json()["title"] == f"{s.me['name']}'s digit"
    light = s.get("/api/class").json()["spotlight"]
    assert light["focus"] == {"layer": "pool1", "unit": [2, 5, 7]}
    assert light["image"] == sub["image"]
    assert t.post("/api/class/spotlight", json={"digit": {"submission": 999}}).status_code == 404
    assert t.delete("/api/class/spotlight").status_code == 204
    assert s.get("/api/class").json()["spotlight"] is None


@pytest.mark.parametrize("layer,unit,asked", [("conv1", [2, 14, 14], "value"),
                                               ("pool1", [2, 5, 7], "cell"),
                                               ("fc1", [3], "value"),
                                               ("softmax", [0], "class")])
def test_predict_round_truth_is_the_explain_endpoints(cls, sample_body, client, layer, unit,
                                                      asked):
    students = [cls.student() for _ in range(3)]
    t = cls.teacher()
    r = t.post("/api/class/rounds", json={"kind": "predict", "digit": {"sample": [8, 2]},
                                          "focus": {"layer": layer, "unit": unit}})
    assert r.status_code == 201
    rnd = r.json()
    prompt = rnd["prompt"]
    assert prompt["answer"] == asked and "truth" not in rnd
    for key in ("value", "sum", "argmax", "probability", "top"):
        assert key not in prompt, key                      # nothing that gives it away
    ref = client.post("/api/explain", json={**sample_body(8, 2), "preprocess": False,
                                            "layer": layer, "unit": unit}).json()
    assert prompt["source"]["values"] == pytest.approx(ref["source"]["values"], abs=1e-6)
    answers = {"value": [{"value": 0.5}, {"value": 1.5}, {"value": ref["value"]}],
               "cell": [{"cell": 0}, {"cell": 1}, {"cell": 1}],
               "class": [{"class": 8}, {"class": 3}, {"class": 8}]}[asked]
    for s, a in zip(students, answers):
        assert s.post(f"/api/class/rounds/{rnd['id']}/answer", json=a).status_code == 200
    wrong_kind = {"value": {"cell": 0}, "cell": {"value": 1.0}, "class": {"value": 1.0}}[asked]
    assert students[0].post(f"/api/class/rounds/{rnd['id']}/answer",
                            json=wrong_kind).status_code == 422
    state = t.get("/api/class/teacher/state").json()["round"]
    assert state["answered"] == 3 and "truth" not in state
    d = t.post(f"/api/class/rounds/{rnd['id']}/reveal").json()["distribution"]
    if asked == "value":
        assert d["truth"] == pytest.approx(ref["value"], abs=1e-5)
        assert sorted(d["values"]) == sorted(a["value"] for a in answers)
    elif asked == "cell":
        _, (y0, _), (x0, x1) = ref["source"]["window"]
        assert d["truth"] == (ref["argmax"][1] - y0) * (x1 - x0) + (ref["argmax"][2] - x0)
        assert d["counts"][:2] == [1, 2]
    else:
        assert d["truth"] == int(np.argmax(ref["logits"])) and d["counts"][8] == 2
    seen = students[2].get("/api/class").json()["round"]
    assert seen["truth"][asked] == d["truth"] and seen["mine"] == answers[2]
    late = students[0].post(f"/api/class/rounds/{rnd['id']}/answer", json=answers[0])
    assert late.status_code == 409


def test_fool_round_judged_by_the_engine(cls, sample_body):
    s = cls.student()
    t = cls.teacher()
    rnd = t.post("/api/class/rounds", json={"kind": "fool", "target": 3}).json()
    three = sample_body(3)
    needs_label = s.post("/api/class/submissions", json=three)
    assert needs_label.status_code == 422 and "which digit you meant" in needs_label.json()["detail"]
    other = s.post("/api/class/submissions", json={**three, "label": 4})
    assert other.status_code == 422 and "asks for a 3" in other.json()["detail"]
    honest = s.post("/api/class/submissions", json={**three, "label": 3}).json()
    assert honest["fooled"] is False and honest["round_id"] == rnd["id"]
    # A 7 that the student says is a 3 (well: a 3 the network reads as 7).
    fooling = s.post("/api/class/submissions", json={**sample_body(7), "label": 3}).json()
    assert fooling["fooled"] is True
    board = t.get("/api/class/teacher/state").json()["round"]["board"]
    assert [b["id"] for b in board] == [fooling["id"]]
    assert t.get(f"/api/class/submissions/{fooling['id']}").json()["image"] == fooling["image"]


def test_class_test_set_export_is_read_by_convscope_evaluate(cls, sample_body, tmp_path,
                                                             model_path, capsys):
    from engine.commands import format_confusion  # noqa: F401  (same module as evaluate)
    from app.cli import main
    s = [cls.student() for _ in range(2)]
    labels = []
    for i, (d, meant) in enumerate([(1, 1), (2, 2), (7, 3), (5, 5), (0, 0), (9, 4)]):
        s[i % 2].post("/api/class/submissions", json={**sample_body(d, i), "label": meant})
        labels.append(meant)
    s[0].post("/api/class/submissions", json=sample_body(6))         # unlabelled: not counted
    t = cls.teacher()
    stats = t.get("/api/class/test-set").json()
    assert stats["count"] == 6 and stats["correct"] == int(np.trace(stats["confusion"]))
    assert sum(map(sum, stats["confusion"])) == 6
    z = zipfile.ZipFile(io.BytesIO(t.get("/api/class/export.zip").content))
    assert set(z.namelist()) == {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                 "submissions.csv", "answers.csv"}
    z.extractall(tmp_path)
    from engine.data import read_idx
    assert read_idx(tmp_path / "t10k-images-idx3-ubyte").shape == (6, 28, 28)
    assert read_idx(tmp_path / "t10k-labels-idx1-ubyte").tolist() == labels
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model_path), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"accuracy {100 * stats['accuracy']:.2f}% ({stats['correct']}/6)" in out
    csv_text = z.read("submissions.csv").decode()
    assert csv_text.count("\n") == 8                               # header + 7 digits


def test_csv_never_starts_a_cell_with_a_formula(cls, sample_body):
    s = cls.student("=HYPERLINK(1)")
    s.post("/api/class/submissions", json={**sample_body(1), "label": 1})
    z = zipfile.ZipFile(io.BytesIO(cls.teacher().get("/api/class/export.zip").content))
    assert "'=HYPERLINK(1)" in z.read("submissions.csv").decode()


def test_students_delete_their_own_only_and_the_teacher_any(cls, sample_body):
    a, b = cls.student(), cls.student()
    sa = a.post("/api/class/submissions", json=sample_body(1)).json()
    sb = b.post("/api/class/submissions", json=sample_body(2)).json()
    assert a.delete(f"/api/class/submissions/{sb['id']}").status_code == 404
    assert a.delete(f"/api/class/submissions/{sa['id']}").status_code == 204
    assert a.get("/api/class").json()["submissions"] == []
    t = cls.teacher()
    assert t.delete(f"/api/class/submissions/{sb['id']}").status_code == 204
    assert t.get("/api/class/teacher/state").json()["gallery"] == []


def test_a_colour_model_gets_a_clear_409_not_a_500(tmp_path):
    """The class collects MNIST-style digits; a served colour model cannot judge them."""
    from fastapi.testclient import TestClient

    from app.classroom.store import Store
    from app.config import Settings
    from app.main import create_app
    from engine.network import Network
    from tests.api.test_model_input import RGB_INPUT, RGB_SPEC
    colour = tmp_path / "tiny-rgb.npz"
    Network(RGB_SPEC, seed=1).save(colour, {"name": "tiny-rgb", "dataset": "pictures",
                                            "classes": ["a", "b", "c"], "input": RGB_INPUT})
    db = tmp_path / "class.sqlite3"
    token, code = Store(db).start_session()
    app = create_app(Settings(model_path=colour, extra_models=(), classroom=True,
                              session_db=db))
    with TestClient(app) as c:
        assert c.post("/api/class/join", json={"code": code}).status_code == 201
        r = c.post("/api/class/submissions", json={"pixels": [0] * 784, "width": 28,
                                                   "height": 28})
        assert r.status_code == 409 and "none of the served models does" in r.json()["detail"]
        assert "--model models/lenet-mnist.npz" in r.json()["detail"]
        assert c.get("/api/class").json()["model"] is None     # the page says Send is off
        c.headers["authorization"] = f"Bearer {token}"
        r = c.post("/api/class/spotlight", json={"digit": {"sample": [0, 0]}})
        assert r.status_code in (404, 409) and r.json()["detail"]


def test_a_teachers_colour_model_beside_a_digit_model_runs_the_class_on_digits(tmp_path,
                                                                              model_path):
    """A teacher showing their own colour model (the default) and a digit model beside it: the
    class session reads digits with the digit model, and says which, to both pages."""
    from fastapi.testclient import TestClient

    from app.classroom.store import Store
    from app.config import Settings
    from app.main import create_app
    from engine.network import Network
    from tests.api.test_model_input import RGB_INPUT, RGB_SPEC
    colour = tmp_path / "tiny-rgb.npz"
    Network(RGB_SPEC, seed=1).save(colour, {"name": "tiny-rgb", "dataset": "pictures",
                                            "classes": ["a", "b", "c"], "input": RGB_INPUT})
    db = tmp_path / "class.sqlite3"
    token, code = Store(db).start_session()
    app = create_app(Settings(model_path=colour, extra_models=(model_path,), classroom=True,
                              session_db=db))
    digits = Path(model_path).stem
    digit_net = Network.load(model_path)
    with TestClient(app) as c:
        joined = c.post("/api/class/join", json={"code": code}).json()
        assert joined["model"] == digits
        assert joined["classes"] == [str(x) for x in digit_net.metadata["classes"]]
        sample = c.get(f"/api/samples?digit=3&index=0&model={digits}").json()
        r = c.post("/api/class/submissions", json={**sample, "label": 3})
        assert r.status_code == 201, r.text
        # Judged by the digit model: its own forward pass on the same body says the same.
        want = c.post(f"/api/forward?model={digits}", json=sample).json()["probabilities"]
        assert r.json()["prediction"] == int(np.argmax(want))
        c.headers["authorization"] = f"Bearer {token}"
        state = c.get("/api/class/teacher/state").json()
        assert state["model"] == digits and state["classes"] == joined["classes"]
        assert c.post("/api/class/spotlight", json={"digit": {"sample": [3, 0]}}).status_code == 200
