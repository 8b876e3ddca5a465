"""app/classroom/store.py: every operation, two processes writing at once, and a crash."""
from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app.classroom.store import (CODE_ALPHABET, MIGRATIONS, ClassError, Store, default_path,
                                 hash_token)

ROOT = Path(__file__).resolve().parents[2]
PROBS = [0.01] * 3 + [0.91] + [0.01] * 6          # reads a 3 at 91%


def digit(seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "class.sqlite3")
    s.token, s.code = s.start_session()
    yield s
    s.close()


def joined(store, n=1, names=None):
    return [store.join(store.code, (names or [None] * n)[i], 200)[0] for i in range(n)]


def test_schema_migrated_once_wal_and_default_path(tmp_path, monkeypatch):
    path = tmp_path / "a" / "class.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    Store(path).close()                          # reopening applies nothing twice
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "convscope" / "class.sqlite3"


def test_session_token_code_and_secrets_never_stored_plain(store, tmp_path):
    assert len(base64.urlsafe_b64decode(store.token + "=" * (-len(store.token) % 4))) >= 16
    assert len(store.code) == 4 and set(store.code) <= set(CODE_ALPHABET)
    assert store.is_teacher(store.token)
    assert not store.is_teacher(store.token[:-1] + ("A" if store.token[-1] != "A" else "B"))
    assert not store.is_teacher("") and not store.is_teacher(None)
    student, student_token = store.join(store.code, None, 200)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("class.sqlite3*"))
    assert store.token.encode() not in raw and student_token.encode() not in raw
    assert hash_token(store.token).encode() in raw
    assert store.session()["state"] == "open"


def test_reissue_token_replaces_the_old_one(store):
    new = store.reissue_token()
    assert store.is_teacher(new) and not store.is_teacher(store.token)


def test_join_names_lookup_rename_and_limits(store):
    a, ta = store.join(store.code.lower(), None, 3)       # the code is case-insensitive
    b, _ = store.join(store.code, "Ana", 3)
    c, _ = store.join(store.code, None, 3)
    assert a["name"] != c["name"] and b["name"] == "Ana"
    assert store.student(ta) == a and store.student("nope") is None
    with pytest.raises(ClassError) as full:
        store.join(store.code, None, 3)
    assert full.value.status == 409 and "full (3 students)" in full.value.detail
    with pytest.raises(ClassError) as wrong:
        store.join("ZZZZ" if store.code != "ZZZZ" else "YYYY", None, 200)
    assert wrong.value.status == 403
    assert store.rename(a["id"], "Otto") == {"id": a["id"], "name": "Otto"}
    assert [s["name"] for s in store.students()] == ["Otto", "Ana", c["name"]]


def test_submissions_gallery_removal_and_test_set(store):
    a, b = joined(store, 2)
    s1 = store.add_submission(a["id"], digit(1), PROBS, 3, per_minute=10)
    s2 = store.add_submission(a["id"], digit(2), PROBS, 5, per_minute=10)
    s3 = store.add_submission(b["id"], digit(3), PROBS, None, per_minute=10)
    assert s1["prediction"] == 3 and s1["confidence"] == pytest.approx(0.91)
    assert np.array_equal(np.frombuffer(base64.b64decode(store.submission(s1["id"])["image"]),
                                        np.uint8).reshape(28, 28), digit(1))
    assert [s["id"] for s in store.gallery()] == [s3["id"], s2["id"]]   # latest per student
    assert [s["id"] for s in store.submissions_of(a["id"])] == [s1["id"], s2["id"]]
    images, labels, preds = store.labelled()
    assert images.shape == (2, 28, 28) and labels.tolist() == [3, 5] and preds.tolist() == [3, 3]
    with pytest.raises(ClassError) as other:
        store.remove_submission(s1["id"], student_id=b["id"])     # not b's to delete
    assert other.value.status == 404
    store.remove_submission(s2["id"], student_id=a["id"])
    assert [s["id"] for s in store.gallery()] == [s3["id"], s1["id"]]   # a's previous one
    store.remove_submission(s3["id"])                                     # the teacher
    assert store.clear_gallery() == 1 and store.gallery() == []
    assert store.labelled()[1].tolist() == [3]           # the test set keeps cleared digits
    with pytest.raises(ValueError):
        store.add_submission(a["id"], np.zeros((32, 32), np.uint8), PROBS, None, 10)


def test_rate_limit_says_when(store):
    (a,) = joined(store)
    for i in range(3):
        store.add_submission(a["id"], digit(i), PROBS, None, per_minute=3)
    with pytest.raises(ClassError) as limited:
        store.add_submission(a["id"], digit(9), PROBS, None, per_minute=3)
    assert limited.value.status == 429 and 1 <= limited.value.retry_after <= 60
    assert "3 digits a minute" in limited.value.detail
    assert len(store.submissions_of(a["id"])) == 3


def test_events_carry_each_change_to_its_audience(store):
    start = store.latest_seq()
    (a,) = joined(store)
    sub = store.add_submission(a["id"], digit(), PROBS, None, per_minute=10)
    store.set_paused(True)
    store.set_spotlight({"image": "x", "focus": None})
    store.set_spotlight(None)
    events = store.events_after(start)
    assert [(e["audience"], e["kind"]) for e in events] == [
        ("teacher", "student"), ("teacher", "submission"), (f"student:{a['id']}", "submission"),
        ("all", "session"), ("all", "spotlight"), ("all", "spotlight")]
    assert events[1]["data"]["id"] == sub["id"] and events[3]["data"]["paused"] is True
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert store.session()["paused"] and store.session()["spotlight"] is None


def test_predict_round_answers_reveal_and_close(store):
    a, b = joined(store, 2)
    rnd = store.start_round("predict", {"answer": "value", "layer": "conv1"}, {"value": 0.5})
    assert store.public_round(rnd).get("truth") is None          # not before the reveal
    store.answer(rnd["id"], a["id"], {"value": 0.1})
    store.answer(rnd["id"], a["id"], {"value": 0.4})             # replaces the first
    store.answer(rnd["id"], b["id"], {"value": 0.7})
    assert [x["answer"]["value"] for x in store.answers(rnd["id"])] == [0.4, 0.7]
    assert store.my_answer(rnd["id"], a["id"]) == {"value": 0.4}
    assert store.current_round()["answered"] == 2
    revealed = store.reveal(rnd["id"])
    assert store.public_round(revealed)["truth"] == {"value": 0.5}
    with pytest.raises(ClassError) as late:
        store.answer(rnd["id"], a["id"], {"value": 0.5})
    assert late.value.status == 409
    with pytest.raises(ClassError):
        store.reveal(rnd["id"])
    assert len(store.all_answers()) == 2
    store.close_round()
    assert store.current_round() is None


def test_fool_round_board(store):
    (a,) = joined(store)
    rnd = store.start_round("fool", {"target": 3}, {})
    with pytest.raises(ClassError) as wrong_kind:
        store.answer(rnd["id"], a["id"], {"value": 1.0})
    assert wrong_kind.value.status == 409
    fooled = store.add_submission(a["id"], digit(1), PROBS, 5, 10, round_id=rnd["id"],
                                  fooled=True)
    store.add_submission(a["id"], digit(2), PROBS, 3, 10, round_id=rnd["id"], fooled=False)
    assert [s["id"] for s in store.fooling(rnd["id"])] == [fooled["id"]]
    store.start_round("fool", {"target": None}, {})     # a new round closes the old one
    assert store.current_round()["id"] != rnd["id"]


def test_end_session_deletes_everything_and_reopen(store):
    (a,) = joined(store)
    store.add_submission(a["id"], digit(), PROBS, 1, 10)
    store.start_round("fool", {"target": None}, {})
    store.end_session()
    assert store.students() == [] and store.all_submissions() == []
    assert store.current_round() is None and store.session()["state"] == "closed"
    assert store.is_teacher(store.token)                  # the dashboard still opens
    with pytest.raises(ClassError) as closed:
        store.join(store.code, None, 200)
    assert closed.value.status == 409 and "ended" in closed.value.detail
    code = store.reopen()
    assert store.session()["state"] == "open" and store.session()["code"] == code
    assert store.join(code, None, 200)[0]["id"] == 1       # numbering starts again
    with pytest.raises(ClassError):
        store.reopen()                                     # still open


WRITER = """
import sys
sys.path.insert(0, {root!r})
import numpy as np
from app.classroom.store import Store
s = Store({path!r})
for i in range(60):
    print(s.add_submission({sid}, np.full((28, 28), i, np.uint8), {probs!r}, i % 10, 10_000)["id"])
"""


def test_two_processes_write_at_once(store):
    a, b = joined(store, 2)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER.format(
        root=str(ROOT), path=str(store.path), sid=s["id"], probs=PROBS)],
        stdout=subprocess.PIPE, text=True) for s in (a, b)]
    got = [p.communicate(timeout=60)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert len(set(got[0]) | set(got[1])) == 120
    assert len(store.submissions_of(a["id"])) == len(store.submissions_of(b["id"])) == 60
    subs = [e for e in store.events_after(0) if e["kind"] == "submission"]
    assert len(subs) == 240                            # teacher + student event for each
    assert len({e["seq"] for e in subs}) == 240


def test_a_killed_process_loses_nothing_it_committed(store):
    (a,) = joined(store)
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        from app.classroom.store import Store
        s = Store({str(store.path)!r})
        for i in range(15):
            sub = s.add_submission({a['id']}, np.full((28, 28), i, np.uint8), {PROBS!r}, i % 10, 100)
            print(sub["id"], flush=True)
        os._exit(0)   # no close, no checkpoint: as if killed
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    reopened = Store(store.path)
    assert [s["id"] for s in reopened.submissions_of(a["id"])] == [int(x) for x in out]
    assert reopened.is_teacher(store.token) and reopened.session()["code"] == store.code
    reopened.close()
