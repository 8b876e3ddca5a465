"""The class session's state, in one SQLite file shared by every worker process.

Why SQLite and not a worker's memory: `convscope serve --classroom --workers N` runs N
processes, and a restart must lose nothing. Every process opens the same file (WAL mode, so
readers never wait for the writer); every write is one `BEGIN IMMEDIATE` transaction that also
appends to `events`, the change log the live updates (app/classroom/live.py) read by `seq`. A
poller in each worker wakes on `PRAGMA data_version`, which changes exactly when another
connection commits, so an idle class costs one tiny query per poll.

Schema and migrations live here (`MIGRATIONS`, applied in order under `PRAGMA user_version`).
Secrets: the teacher token and the students' tokens are stored only as SHA-256 hashes; whoever
reads the file cannot act as the teacher.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# Letters a class can read off a projector and type on a phone without confusion (no I, O, L,
# Q, U, V: 1/0/I/l, O/Q, U/V).
CODE_ALPHABET = "ABCDEFGHJKMNPRSTWXYZ"
CODE_LENGTH = 4
TOKEN_BYTES = 24            # 192 bits, ≥ 128 asked
EVENTS_KEPT = 5000          # the change log is pruned to this many rows (reconnects replay it)
IMAGE_SIDE = 28             # a submission is stored as MNIST stores a digit: 28×28 uint8

ANIMALS = ("Otter", "Falcon", "Lynx", "Panda", "Heron", "Koala", "Bison", "Gecko", "Puffin",
           "Tapir", "Walrus", "Badger", "Marten", "Ibex", "Okapi", "Quokka", "Raven", "Salmon",
           "Toucan", "Yak", "Zebra", "Beaver", "Coyote", "Dingo", "Egret", "Ferret", "Gibbon",
           "Hare", "Iguana", "Jackal", "Kiwi", "Lemur", "Moose", "Newt", "Ocelot", "Pelican",
           "Robin", "Seal", "Tortoise", "Viper", "Wombat", "Narwhal", "Mole", "Crane", "Bat",
           "Orca", "Sloth", "Hedgehog", "Fox", "Owl")

MIGRATIONS = (
    # 1: the first schema.
    """
    CREATE TABLE session (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        code TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        paused INTEGER NOT NULL DEFAULT 0,
        spotlight TEXT,
        round_id INTEGER,
        started REAL NOT NULL
    );
    CREATE TABLE students (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        chosen INTEGER NOT NULL DEFAULT 0,
        joined REAL NOT NULL
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
        created REAL NOT NULL,
        image BLOB NOT NULL,
        label INTEGER,
        prediction INTEGER NOT NULL,
        confidence REAL NOT NULL,
        probabilities TEXT NOT NULL,
        round_id INTEGER,
        fooled INTEGER NOT NULL DEFAULT 0,
        in_gallery INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX submissions_student ON submissions(student_id, id);
    CREATE TABLE submit_log (student_id INTEGER NOT NULL, at REAL NOT NULL);
    CREATE INDEX submit_log_student ON submit_log(student_id, at);
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('predict', 'fool')),
        state TEXT NOT NULL CHECK (state IN ('open', 'revealed', 'closed')),
        prompt TEXT NOT NULL,
        truth TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE answers (
        round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
        student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
        answer TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (round_id, student_id)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        audience TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    """,
)


class ClassError(Exception):
    """A refusal the routes turn into a 4xx: `status` and a `detail` saying what to do."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def default_path() -> Path:
    """$XDG_DATA_HOME/convscope/class.sqlite3 (~/.local/share/convscope/... by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "convscope" / "class.sqlite3"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


class Store:
    """One process's connection to the session file. Thread-safe (one lock per Store)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE.
        self._db = sqlite3.connect(str(self.path), timeout=10, isolation_level=None,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            os.chmod(self.path, 0o600)   # hashes only, but still nobody else's business
        except OSError:
            pass
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable across crashes of the process
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- plumbing -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def _tx(self):
        """One write transaction: BEGIN IMMEDIATE takes the write lock at once, so two
        processes never both read-then-write on a stale view."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _emit(self, db, audience: str, kind: str, data) -> None:
        cur = db.execute("INSERT INTO events (audience, kind, data) VALUES (?, ?, ?)",
                         (audience, kind, _dumps(data)))
        if cur.lastrowid % 100 == 0:
            db.execute("DELETE FROM events WHERE seq <= ?", (cur.lastrowid - EVENTS_KEPT,))

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap: no table is read)."""
        with self._lock:
            return self._db.execute("PRAGMA data_version").fetchone()[0]

    def latest_seq(self) -> int:
        row = self._read("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(row[0][0]) if row else 0

    def events_after(self, seq: int, limit: int = 1000, raw: bool = False) -> list[dict]:
        """Events after `seq`, oldest first; raw=True leaves `data` as its JSON text (the live
        hub sends it as it is)."""
        rows = self._read("SELECT seq, audience, kind, data FROM events WHERE seq > ? "
                          "ORDER BY seq LIMIT ?", (seq, limit))
        return [{"seq": r["seq"], "audience": r["audience"], "kind": r["kind"],
                 "data": r["data"] if raw else json.loads(r["data"])} for r in rows]

    def oldest_seq(self) -> int:
        row = self._read("SELECT min(seq) FROM events")
        return int(row[0][0] or 0)

    # --- the session and the teacher ----------------------------------------------------

    def start_session(self) -> tuple[str, str]:
        """A fresh session (everything of the last one deleted): (teacher token, join code)."""
        token, code = secrets.token_urlsafe(TOKEN_BYTES), new_code()
        with self._tx() as db:
            self._wipe(db)
            db.execute("INSERT INTO session (id, code, token_hash, state, started) "
                       "VALUES (1, ?, ?, 'open', ?)", (code, hash_token(token), time.time()))
            self._emit(db, "all", "session", {"state": "open", "paused": False, "code": code})
        return token, code

    def reissue_token(self) -> str:
        """A new teacher token for the current session (the old one stops working)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._tx() as db:
            if db.execute("UPDATE session SET token_hash = ? WHERE id = 1",
                          (hash_token(token),)).rowcount == 0:
                raise ClassError(409, "there is no class session to give a new token to")
        return token

    def session(self) -> dict | None:
        rows = self._read("SELECT * FROM session WHERE id = 1")
        if not rows:
            return None
        r = rows[0]
        return {"code": r["code"], "state": r["state"], "paused": bool(r["paused"]),
                "spotlight": json.loads(r["spotlight"]) if r["spotlight"] else None,
                "round_id": r["round_id"], "started": r["started"]}

    def is_teacher(self, token: str | None) -> bool:
        if not token:
            return False
        rows = self._read("SELECT token_hash FROM session WHERE id = 1")
        return bool(rows) and hmac.compare_digest(rows[0][0], hash_token(token))

    def _open_session(self, db) -> sqlite3.Row:
        row = db.execute("SELECT * FROM session WHERE id = 1").fetchone()
        if row is None or row["state"] != "open":
            raise ClassError(409, "the class session has ended; ask your teacher for the new "
                                  "address or join code")
        return row

    def end_session(self) -> None:
        """Delete every student, submission, round and answer. The session row stays, closed,
        so the teacher's token still opens the dashboard (and can start a new session)."""
        with self._tx() as db:
            self._wipe(db, keep_session=True)
            db.execute("UPDATE session SET state = 'closed', paused = 0, spotlight = NULL, "
                       "round_id = NULL WHERE id = 1")
            self._emit(db, "all", "session", {"state": "closed", "paused": False, "code": None})

    def reopen(self) -> str:
        """A new, empty session after `end_session`, with a new join code, same token."""
        code = new_code()
        with self._tx() as db:
            row = db.execute("SELECT state FROM session WHERE id = 1").fetchone()
            if row is None:
                raise ClassError(409, "there is no class session; start one with "
                                      "`convscope serve --classroom`")
            if row[0] == "open":
                raise ClassError(409, "the session is still open: end it first")
            db.execute("UPDATE session SET state = 'open', code = ?, started = ? WHERE id = 1",
                       (code, time.time()))
            self._emit(db, "all", "session", {"state": "open", "paused": False, "code": code})
        return code

    def _wipe(self, db, keep_session: bool = False) -> None:
        for table in ("answers", "rounds", "submit_log", "submissions", "students", "events"):
            db.execute(f"DELETE FROM {table}")
        # Numbering restarts ("Student 1" is the first to join); `events` keeps counting, so
        # a page's Last-Event-ID from before never matches an event of the new session.
        db.execute("DELETE FROM sqlite_sequence WHERE name IN ('students', 'submissions', "
                   "'rounds')")
        if not keep_session:
            db.execute("DELETE FROM session")

    def set_paused(self, paused: bool) -> None:
        with self._tx() as db:
            row = self._open_session(db)
            db.execute("UPDATE session SET paused = ? WHERE id = 1", (int(paused),))
            self._emit(db, "all", "session", {"state": "open", "paused": paused,
                                              "code": row["code"]})

    def set_spotlight(self, spotlight: dict | None) -> None:
        with self._tx() as db:
            self._open_session(db)
            db.execute("UPDATE session SET spotlight = ? WHERE id = 1",
                       (_dumps(spotlight) if spotlight else None,))
            self._emit(db, "all", "spotlight", spotlight)

    # --- students -----------------------------------------------------------------------

    def join(self, code: str, nickname: str | None, max_students: int) -> tuple[dict, str]:
        """A new student: (student, their token). Raises ClassError 409 (closed, full) or 403."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._tx() as db:
            row = self._open_session(db)
            if not hmac.compare_digest(code.strip().upper(), row["code"]):
                raise ClassError(403, "that join code is not this class's: it is the 4 "
                                      "letters shown on the teacher's screen")
            count = db.execute("SELECT count(*) FROM students").fetchone()[0]
            if count >= max_students:
                raise ClassError(409, f"the class is full ({max_students} students); ask your "
                                      "teacher to raise --max-students")
            name = nickname or self._animal(db, count)
            cur = db.execute("INSERT INTO students (token_hash, name, chosen, joined) "
                             "VALUES (?, ?, ?, ?)",
                             (hash_token(token), name, int(bool(nickname)), time.time()))
            student = {"id": cur.lastrowid, "name": name}
            self._emit(db, "teacher", "student", student)
        return student, token

    @staticmethod
    def _animal(db, count: int) -> str:
        taken = {r[0] for r in db.execute("SELECT name FROM students")}
        for n in range(1, 1000):
            for animal in ANIMALS[count % len(ANIMALS):] + ANIMALS[:count % len(ANIMALS)]:
                name = animal if n == 1 else f"{animal} {n}"
                if name not in taken:
                    return name
        return f"Student {count + 1}"

    def student(self, token: str | None) -> dict | None:
        if not token:
            return None
        rows = self._read("SELECT id, name FROM students WHERE token_hash = ?",
                          (hash_token(token),))
        return {"id": rows[0]["id"], "name": rows[0]["name"]} if rows else None

    def rename(self, student_id: int, nickname: str) -> dict:
        with self._tx() as db:
            self._open_session(db)
            db.execute("UPDATE students SET name = ?, chosen = 1 WHERE id = ?",
                       (nickname, student_id))
            student = {"id": student_id, "name": nickname}
            self._emit(db, "teacher", "student", student)
        return student

    def students(self) -> list[dict]:
        return [{"id": r["id"], "name": r["name"]}
                for r in self._read("SELECT id, name FROM students ORDER BY id")]

    # --- submissions --------------------------------------------------------------------

    def add_submission(self, student_id: int, image: np.ndarray, probabilities, label,
                       per_minute: int, round_id=None, fooled: bool = False) -> dict:
        """Store one digit (28×28 uint8) with the network's reading. Raises ClassError 429
        when the student has sent `per_minute` in the last 60 s (Retry-After says when)."""
        image = np.ascontiguousarray(image, np.uint8)
        if image.shape != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(f"a submission is {IMAGE_SIDE}×{IMAGE_SIDE}, got {image.shape}")
        probs = [float(p) for p in probabilities]
        prediction = int(np.argmax(probs))
        now = time.time()
        with self._tx() as db:
            self._open_session(db)
            db.execute("DELETE FROM submit_log WHERE at < ?", (now - 60,))
            recent = [r[0] for r in db.execute(
                "SELECT at FROM submit_log WHERE student_id = ? ORDER BY at", (student_id,))]
            if len(recent) >= per_minute:
                wait = max(1, int(recent[0] + 60 - now + 0.999))
                raise ClassError(429, f"{per_minute} digits a minute is the limit; send the "
                                      f"next one in {wait} s", retry_after=wait)
            db.execute("INSERT INTO submit_log VALUES (?, ?)", (student_id, now))
            cur = db.execute(
                "INSERT INTO submissions (student_id, created, image, label, prediction, "
                "confidence, probabilities, round_id, fooled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student_id, now, image.tobytes(), label, prediction, probs[prediction],
                 _dumps(probs), round_id, int(fooled)))
            sub = self._submission(db, cur.lastrowid)
            self._emit(db, "teacher", "submission", sub)
            self._emit(db, f"student:{student_id}", "submission", sub)
        return sub

    _SUB_SQL = ("SELECT s.*, st.name AS name FROM submissions s "
                "JOIN students st ON st.id = s.student_id")

    @staticmethod
    def _as_sub(r) -> dict:
        return {"id": r["id"], "student": {"id": r["student_id"], "name": r["name"]},
                "created": r["created"], "label": r["label"], "prediction": r["prediction"],
                "confidence": r["confidence"], "probabilities": json.loads(r["probabilities"]),
                "round_id": r["round_id"], "fooled": bool(r["fooled"]),
                "in_gallery": bool(r["in_gallery"]),
                # 784 bytes as base64 (1,048 characters), not a JSON list of 784 numbers.
                "image": base64.b64encode(r["image"]).decode("ascii")}

    def _submission(self, db, sub_id: int) -> dict:
        return self._as_sub(db.execute(self._SUB_SQL + " WHERE s.id = ?", (sub_id,)).fetchone())

    def submission(self, sub_id: int) -> dict | None:
        rows = self._read(self._SUB_SQL + " WHERE s.id = ?", (sub_id,))
        return self._as_sub(rows[0]) if rows else None

    def submissions_of(self, student_id: int) -> list[dict]:
        return [self._as_sub(r) for r in self._read(
            self._SUB_SQL + " WHERE s.student_id = ? ORDER BY s.id", (student_id,))]

    def gallery(self) -> list[dict]:
        """Each student's latest submission still in the gallery, newest first."""
        return [self._as_sub(r) for r in self._read(
            self._SUB_SQL + " WHERE s.id IN (SELECT max(id) FROM submissions WHERE in_gallery "
            "GROUP BY student_id) ORDER BY s.id DESC")]

    def remove_submission(self, sub_id: int, student_id: int | None = None) -> None:
        """Delete one submission; `student_id` given: only if it is that student's (else 404)."""
        with self._tx() as db:
            row = db.execute("SELECT student_id FROM submissions WHERE id = ?",
                             (sub_id,)).fetchone()
            if row is None or (student_id is not None and row[0] != student_id):
                raise ClassError(404, f"no submission {sub_id}"
                                      + ("" if student_id is None else " of yours"))
            db.execute("DELETE FROM submissions WHERE id = ?", (sub_id,))
            data = {"id": sub_id, "student_id": row[0]}
            self._emit(db, "teacher", "removed", data)
            self._emit(db, f"student:{row[0]}", "removed", data)

    def clear_gallery(self) -> int:
        """Take every submission off the gallery (they stay in the class's test set)."""
        with self._tx() as db:
            n = db.execute("UPDATE submissions SET in_gallery = 0 WHERE in_gallery").rowcount
            self._emit(db, "teacher", "cleared", {"count": n})
        return n

    def labelled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The class's test set: images (N, 28, 28) uint8, labels (N,), predictions (N,)."""
        rows = self._read("SELECT image, label, prediction FROM submissions "
                          "WHERE label IS NOT NULL ORDER BY id")
        images = np.frombuffer(b"".join(r[0] for r in rows), np.uint8).reshape(
            -1, IMAGE_SIDE, IMAGE_SIDE)
        return (images.copy(), np.array([r[1] for r in rows], np.uint8),
                np.array([r[2] for r in rows], np.int64))

    def all_submissions(self) -> list[dict]:
        return [self._as_sub(r) for r in self._read(self._SUB_SQL + " ORDER BY s.id")]

    # --- rounds -------------------------------------------------------------------------

    def start_round(self, kind: str, prompt: dict, truth: dict) -> dict:
        """Open a round (closing any other). `prompt` goes to students; `truth` on reveal."""
        with self._tx() as db:
            self._open_session(db)
            db.execute("UPDATE rounds SET state = 'closed' WHERE state != 'closed'")
            cur = db.execute("INSERT INTO rounds (kind, state, prompt, truth, created) "
                             "VALUES (?, 'open', ?, ?, ?)",
                             (kind, _dumps(prompt), _dumps(truth), time.time()))
            db.execute("UPDATE session SET round_id = ? WHERE id = 1", (cur.lastrowid,))
            rnd = self._round(db, cur.lastrowid)
            self._emit(db, "all", "round", self.public_round(rnd))
        return rnd

    @staticmethod
    def _as_round(r) -> dict:
        return {"id": r["id"], "kind": r["kind"], "state": r["state"],
                "prompt": json.loads(r["prompt"]), "truth": json.loads(r["truth"])}

    def _round(self, db, round_id: int) -> dict:
        row = db.execute("SELECT * FROM rounds WHERE id = ?", (round_id,)).fetchone()
        if row is None:
            raise ClassError(404, f"no round {round_id}")
        rnd = self._as_round(row)
        rnd["answered"] = db.execute("SELECT count(*) FROM answers WHERE round_id = ?",
                                     (round_id,)).fetchone()[0]
        return rnd

    @staticmethod
    def public_round(rnd: dict | None) -> dict | None:
        """What a student may see: the truth only once revealed."""
        if rnd is None or rnd["state"] == "closed":
            return None
        out = {k: rnd[k] for k in ("id", "kind", "state", "prompt", "answered")}
        if rnd["state"] == "revealed":
            out["truth"] = rnd["truth"]
        return out

    def current_round(self) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT round_id FROM session WHERE id = 1").fetchone()
            if row is None or row[0] is None:
                return None
            rnd = self._round(self._db, row[0])
        return None if rnd["state"] == "closed" else rnd

    def answer(self, round_id: int, student_id: int, answer) -> dict:
        """A student's answer to the open predict round; a second answer replaces the first."""
        with self._tx() as db:
            self._open_session(db)
            rnd = self._round(db, round_id)
            if rnd["kind"] != "predict":
                raise ClassError(409, "this round takes drawings (Send to class), not answers")
            if rnd["state"] != "open":
                raise ClassError(409, "answers are closed: the teacher has revealed this round")
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                       (round_id, student_id, _dumps(answer), time.time()))
            answered = db.execute("SELECT count(*) FROM answers WHERE round_id = ?",
                                  (round_id,)).fetchone()[0]
            self._emit(db, "teacher", "answered", {"round_id": round_id, "answered": answered})
        return {"round_id": round_id, "answer": answer}

    def answers(self, round_id: int) -> list[dict]:
        return [{"student": {"id": r["student_id"], "name": r["name"]},
                 "answer": json.loads(r["answer"]), "created": r["created"]}
                for r in self._read("SELECT a.*, st.name FROM answers a JOIN students st ON "
                                    "st.id = a.student_id WHERE round_id = ? ORDER BY a.created",
                                    (round_id,))]

    def my_answer(self, round_id: int, student_id: int):
        rows = self._read("SELECT answer FROM answers WHERE round_id = ? AND student_id = ?",
                          (round_id, student_id))
        return json.loads(rows[0][0]) if rows else None

    def reveal(self, round_id: int) -> dict:
        with self._tx() as db:
            rnd = self._round(db, round_id)
            if rnd["kind"] != "predict" or rnd["state"] != "open":
                raise ClassError(409, f"round {round_id} is not an open predict round")
            db.execute("UPDATE rounds SET state = 'revealed' WHERE id = ?", (round_id,))
            rnd = self._round(db, round_id)
            self._emit(db, "all", "round", self.public_round(rnd))
        return rnd

    def close_round(self) -> None:
        with self._tx() as db:
            db.execute("UPDATE rounds SET state = 'closed' WHERE state != 'closed'")
            db.execute("UPDATE session SET round_id = NULL WHERE id = 1")
            self._emit(db, "all", "round", None)

    def all_answers(self) -> list[dict]:
        rows = self._read("SELECT a.*, st.name, r.kind, r.prompt, r.truth FROM answers a "
                          "JOIN students st ON st.id = a.student_id "
                          "JOIN rounds r ON r.id = a.round_id ORDER BY a.round_id, a.created")
        return [{"round_id": r["round_id"], "student": r["name"],
                 "answer": json.loads(r["answer"]), "prompt": json.loads(r["prompt"]),
                 "truth": json.loads(r["truth"]), "created": r["created"]} for r in rows]

    def fooling(self, round_id: int) -> list[dict]:
        return [self._as_sub(r) for r in self._read(
            self._SUB_SQL + " WHERE s.round_id = ? AND s.fooled ORDER BY s.id", (round_id,))]
