"""What the class routes do with the engine: judge a submission, build a round, score the
class's own test set and export it. No HTTP here (routes.py is the thin layer); refusals are
`ClassError`s carrying their status and detail.
"""
from __future__ import annotations

import base64
import csv
import io
import re
import struct
import unicodedata
import zipfile

import numpy as np

from app.classroom.schemas import NICKNAME_MAX, Digit, Focus
from app.classroom.store import IMAGE_SIDE, ClassError, Store
from app.inputs import ink_from_body, model_input
from engine.explain import explain
from engine.inputspec import prepare
from engine.preprocess import as_ink

# Categories never kept in a nickname: controls, format characters (bidi overrides, zero-width
# joiners that would let "Ana" and "A‮na" look alike), surrogates, private use, unassigned,
# line and paragraph separators.
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def clean_nickname(raw: str | None) -> str | None:
    """NFKC, drop invisible characters, collapse spaces; None when nothing is left."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROP)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > NICKNAME_MAX:
        raise ClassError(422, f"nickname: {len(text)} characters; at most {NICKNAME_MAX} "
                              "(letters, digits, spaces, punctuation)")
    return text or None


# --- digits ---------------------------------------------------------------------------------

def b64(image: np.ndarray) -> str:
    """A 28×28 uint8 digit as the pages receive it: base64 of its 784 bytes, row-major."""
    return base64.b64encode(np.ascontiguousarray(image, np.uint8).tobytes()).decode("ascii")


def reads_digits(decl: dict) -> bool:
    """Whether a model's input declaration is MNIST-style: one gray channel, the MNIST recipe."""
    return decl["shape"][0] == 1 and decl.get("preprocess") == "mnist"


def first_digit_model(declared):
    """The class's pick from [(key, input declaration), ...] in serving order: the first that
    reads digits (the default when it does: a teacher who also shows a colour model of their
    own still runs the class on digits), or None."""
    return next((key for key, decl in declared if reads_digits(decl)), None)


def class_model(registry) -> tuple[str | None, object]:
    """(id, resources) of the class session's network (first_digit_model), or (None, the
    default) when no served model reads digits."""
    mid = first_digit_model((m, res.input) for m, res in registry.models.items())
    return mid, registry.models[mid if mid is not None else registry.default]


def check_digit_model(res) -> dict:
    """The class session collects digits as MNIST stores them (28×28 gray, exported as IDX):
    it needs a model that reads MNIST-style input (the shipped ones; an imported colour model
    does not). Anything else is a clear 409, never a 500."""
    decl = res.input
    if not reads_digits(decl):
        raise ClassError(409, f"the class session needs a digit model that reads MNIST-style "
                              f"28×28 gray input, and none of the served models does (the "
                              f"default, {res.model_info['name']}, reads {decl['shape'][0]}-channel "
                              f"'{decl.get('preprocess')}' input): the teacher adds one with "
                              "--model models/lenet-mnist.npz")
    return decl


def network_input(image: np.ndarray, res) -> np.ndarray:
    """A stored 28×28 uint8 digit -> the model's input (zero-padded as the model declares)."""
    x, _ = prepare(as_ink(image), check_digit_model(res), False)
    return x


def judge(body, res) -> tuple[np.ndarray, np.ndarray]:
    """A drawing -> (its 28×28 uint8 digit as MNIST stores one, the network's probabilities).

    The probabilities are computed from the stored uint8 digit (which is exact: preprocessing
    quantises to k/255), so the dashboard's accuracy is what `convscope evaluate` finds on the
    exported IDX files."""
    decl = check_digit_model(res)
    if body.preprocess:
        centred = model_input(body, res)[1].steps["centred"]   # the MNIST recipe's 28×28
    else:   # already a digit: 28×28, or the model's padded size (its pad cut off)
        ink = as_ink(ink_from_body(body, res.settings))
        prepare(ink, decl, False)                     # refuses any other size, naming them
        p = decl["pad"]
        centred = ink if ink.shape == (IMAGE_SIDE, IMAGE_SIDE) else ink[p:ink.shape[0] - p,
                                                                        p:ink.shape[1] - p]
    image = np.rint(np.clip(centred, 0, 1) * 255).astype(np.uint8)
    return image, probabilities(image, res)


def probabilities(image: np.ndarray, res) -> np.ndarray:
    trace = res.network.forward(network_input(image, res))
    return np.asarray(trace.probabilities, np.float64).ravel()


def digit_image(digit: Digit, store: Store, res) -> tuple[np.ndarray, dict]:
    """(28×28 uint8, where it came from) for a submission id or a shipped test digit."""
    if digit.submission is not None:
        sub = store.submission(digit.submission)
        if sub is None:
            raise ClassError(404, f"no submission {digit.submission} (removed, or never sent)")
        image = np.frombuffer(base64.b64decode(sub["image"]), np.uint8).reshape(
            IMAGE_SIDE, IMAGE_SIDE)
        return image, {"submission": sub["id"], "student": sub["student"]["name"]}
    if res.samples is None:
        raise ClassError(404, res.samples_problem)
    c, i = digit.sample
    classes, per_class = res.samples.images.shape[:2]
    if c >= classes or i >= per_class:
        raise ClassError(422, f"sample: class must be 0..{classes - 1} and index "
                              f"0..{per_class - 1}, got [{c}, {i}]")
    image = np.asarray(res.samples.images[c, i], np.uint8)
    if image.shape != (IMAGE_SIDE, IMAGE_SIDE):
        raise ClassError(422, f"the model's test digits are {image.shape}, not 28×28")
    return image, {"sample": [c, i], "class": res.model_info["classes"][c]}


def check_focus(focus: Focus | None, res) -> None:
    """UnknownLayer / UnitOutOfRange (422, naming what is valid) before anything is stored."""
    if focus is not None:
        trace = res.network.forward(network_input(np.zeros((28, 28), np.uint8), res))
        explain(res.network, trace, focus.layer, tuple(focus.unit))


# --- predict-then-reveal --------------------------------------------------------------------

def predict_prompt(image: np.ndarray, focus: Focus, res) -> tuple[dict, dict]:
    """(what students see, the engine's truth) for a unit of `image`.

    Students get the unit's source window and the weights (never the value, sum or argmax);
    they answer a number, or for a max-pool unit which cell of the window wins, or for the
    output stage which class the network picks."""
    trace = res.network.forward(network_input(image, res))
    e = explain(res.network, trace, focus.layer, tuple(focus.unit))   # 422s name the valid range
    prompt = {"image": b64(image), "layer": e["layer"], "kind": e["kind"],
              "unit": e["unit"], "source": e["source"], "answer": "value"}
    truth = {"value": e["value"]}
    kind = e["kind"]
    if kind == "conv":
        prompt.update(weight=e["weight"], bias=e["bias"], channels=e["channels"])
    elif kind == "activation":
        prompt.update(input=e["input"], function=e["function"],
                      **{k: e[k] for k in ("scale", "slope") if k in e})
    elif kind == "pool":
        prompt["op"] = e["op"]
        if e["op"] == "max":
            _, (y0, _), (x0, x1) = e["source"]["window"]
            _, ay, ax = e["argmax"]
            prompt["answer"] = "cell"
            truth["cell"] = (ay - y0) * (x1 - x0) + (ax - x0)   # row by row in the window
    elif kind == "dense":
        prompt.update(weight=e["weight"], bias=e["bias"])
    elif kind == "softmax":
        prompt.update(logits=e["logits"], classes=list(res.model_info["classes"]),
                      answer="class")
        truth["class"] = int(trace.prediction)
    return prompt, truth


def check_answer(answer: dict, prompt: dict) -> None:
    kind = prompt["answer"]
    if answer.get(kind) is None:
        raise ClassError(422, f"this round asks for `{kind}`"
                              + {"value": " (a number)", "cell": " (which cell of the window "
                                 "wins, 0-based, row by row)", "class": " (a class index)"}[kind])
    if kind == "cell":
        cells = int(np.prod(prompt["source"]["shape"]))
        if answer["cell"] >= cells:
            raise ClassError(422, f"cell must be 0..{cells - 1} (the window has {cells} cells)")
    if kind == "class" and answer["class"] >= len(prompt["classes"]):
        raise ClassError(422, f"class must be 0..{len(prompt['classes']) - 1}")


def distribution(rnd: dict, answers: list[dict]) -> dict:
    """The class's answers against the truth: counts per option, or the numbers themselves."""
    kind = rnd["prompt"]["answer"]
    values = [a["answer"][kind] for a in answers]
    out = {"answer": kind, "count": len(values), "truth": rnd["truth"].get(kind)}
    if kind == "value":
        out["values"] = values
    else:
        options = (len(rnd["prompt"]["classes"]) if kind == "class"
                   else int(np.prod(rnd["prompt"]["source"]["shape"])))
        out["counts"] = np.bincount(np.asarray(values, np.int64), minlength=options).tolist()
        out["correct"] = sum(v == out["truth"] for v in values)
    return out


# --- fool the network -----------------------------------------------------------------------

def fool_verdict(rnd: dict, label: int | None, prediction: int, classes) -> bool:
    """Whether a fool-round drawing fooled the network; refuses a drawing the round can't judge."""
    target = rnd["prompt"].get("target")
    if label is None:
        raise ClassError(422, "label: say which digit you meant (this round judges whether the "
                              "network reads it as something else)")
    if target is not None and label != target:
        raise ClassError(422, f"this round asks for a {classes[target]}; you said you drew a "
                              f"{classes[label]}")
    return prediction != label


# --- the class's own test set ---------------------------------------------------------------

def test_set(store: Store, res) -> dict:
    images, labels, predictions = store.labelled()
    k = len(res.model_info["classes"])
    confusion = np.bincount(labels.astype(np.int64) * k + predictions,
                            minlength=k * k).reshape(k, k)
    n = int(len(labels))
    return {"count": n, "correct": int(np.trace(confusion)),
            "accuracy": float(np.trace(confusion) / n) if n else None,
            "confusion": confusion.tolist(), "classes": list(res.model_info["classes"]),
            "recorded": (res.model_info.get("accuracy") or {}).get("test")}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (LeCun's format): 0, 0, 0x08 (uint8), ndim, big-endian dims, data."""
    a = np.ascontiguousarray(array, np.uint8)
    return struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) \
        + a.tobytes()


def _cell(value) -> str:
    # A name typed by a student must not become a spreadsheet formula (=HYPERLINK(...)).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def export_zip(store: Store, res) -> bytes:
    """The class's labelled digits as an MNIST test pair (t10k-*: what `convscope evaluate
    --data DIR` reads), every submission and every round answer as CSV."""
    images, labels, _ = store.labelled()
    classes = res.model_info["classes"]
    subs = [["id", "student", "label", "label_name", "prediction", "prediction_name",
             "confidence", "round", "fooled"]]
    for s in store.all_submissions():
        subs.append([s["id"], s["student"]["name"], s["label"],
                     None if s["label"] is None else classes[s["label"]], s["prediction"],
                     classes[s["prediction"]], f"{s['confidence']:.6f}", s["round_id"],
                     int(s["fooled"])])
    answers = [["round", "layer", "unit", "asked", "student", "answer", "truth", "error"]]
    for a in store.all_answers():
        kind = a["prompt"]["answer"]
        given, truth = a["answer"].get(kind), a["truth"].get(kind)
        error = (given - truth) if kind == "value" else int(given != truth)
        answers.append([a["round_id"], a["prompt"]["layer"],
                        " ".join(str(u) for u in a["prompt"]["unit"]), kind, a["student"],
                        given, truth, error])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("t10k-images-idx3-ubyte", idx_bytes(images))
        z.writestr("t10k-labels-idx1-ubyte", idx_bytes(labels))
        z.writestr("submissions.csv", _csv(subs))
        z.writestr("answers.csv", _csv(answers))
    return buf.getvalue()
