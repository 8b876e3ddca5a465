"""The page's numbers over the binary wire equal the JSON answer exactly, in real Chromium.

The page asks /api/forward for `application/octet-stream` (static/js/api.js, wire.js). Here a
digit is drawn by mouse; then, in the page, the very body it sent is posted again asking for
the contract's JSON, and every stage of `state.trace` (rebuilt ReLU, pool and flatten stages
included), the probabilities and the preprocessing steps must have the JSON numbers' float32
bits. The ?send= bodies and ?wire=json still work.
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import ready, settled
from tests.browser.test_page import draw_mouse, zero_stroke

# In the page: the trace on screen against the JSON answer to its own body; [] when equal,
# else the first differences ("stage[i]: page value vs JSON value").
COMPARE = """async () => {
  const s = window.convscope.store.get(), t = s.trace;
  const r = await fetch("/api/forward" + location.search.replace(/[?&](send|wire)=[^&]*/g, "").replace(/^&/, "?"),
                        { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(t.body) });
  const json = await r.json();
  const bits = (a) => new Uint32Array(Float32Array.from(a).buffer);
  const diffs = [];
  const same = (got, want, where) => {
    if (!(got instanceof Float32Array)) { diffs.push(`${where}: not a Float32Array`); return; }
    if (got.length !== want.length) { diffs.push(`${where}: length ${got.length} vs ${want.length}`); return; }
    const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = bits(want);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { diffs.push(`${where}[${i}]: ${got[i]} vs ${want[i]}`); return; }
  };
  if (t.layers.length !== json.layers.length) diffs.push("layer count");
  json.layers.forEach((l, i) => {
    const p = t.layers[i];
    if (p.name !== l.name || p.kind !== l.kind || JSON.stringify(p.shape) !== JSON.stringify(l.shape)) diffs.push(`entry ${l.name}`);
    same(p.values, l.values, l.name);
    if (t.byName.get(l.name) !== p) diffs.push(`byName ${l.name}`);
  });
  same(t.probabilities, json.probabilities, "probabilities");
  if (t.prediction !== json.prediction) diffs.push("prediction");
  if (JSON.stringify(t.preprocessing.crop_box) !== JSON.stringify(json.preprocessing.crop_box)) diffs.push("crop_box");
  if (JSON.stringify(t.preprocessing.centre_of_mass) !== JSON.stringify(json.preprocessing.centre_of_mass)) diffs.push("centre_of_mass");
  json.preprocessing.steps.forEach((st, i) => same(t.preprocessing.steps[i].values, st.values, `step ${st.name}`));
  return { diffs, prediction: t.prediction, stages: json.layers.length };
}"""


def forward_answers(page):
    """Content type and byte count of every /api/forward answer the page receives."""
    seen = []

    def on_response(r):
        if r.url.split("?")[0].endswith("/api/forward") and r.request.method == "POST":
            seen.append((r.headers.get("content-type", ""), r.headers.get("content-encoding", "")))
    page.on("response", on_response)
    return seen


@pytest.mark.parametrize("send", ["", "?send=rgba", "?send=pixels"])
def test_drawn_digit_numbers_equal_the_json_answer(open_page, trained, send):
    path = trained + (send if trained == "/" else send.replace("?", "&"))
    page = open_page(path)
    seen = forward_answers(page)
    ready(page)
    draw_mouse(page, zero_stroke())
    settled(page)
    seen = list(seen)   # the page's own answers, before COMPARE's JSON one
    result = page.evaluate(COMPARE)
    assert result["diffs"] == [], result["diffs"][:5]
    assert result["stages"] >= 10 and result["prediction"] == 0, result
    assert seen and all(ct == "application/octet-stream" for ct, _ in seen), seen
    assert all(enc == "gzip" for _, enc in seen), "Chromium accepts gzip: the binary is gzipped"


def test_wire_json_asks_for_the_json_answer(open_page, trained):
    page = open_page(trained + ("?" if trained == "/" else "&") + "wire=json")
    seen = forward_answers(page)
    ready(page)
    draw_mouse(page, zero_stroke())
    settled(page)
    seen = list(seen)
    assert page.evaluate(COMPARE)["diffs"] == []
    assert seen and all(ct == "application/json" for ct, _ in seen), seen
