// Pure modules of the class pages: focus parsing, digits, histograms, verdicts, gallery filters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeDigit, digitBody, formatFocus, histogram, parseFocus, verdict } from "../../static/js/classroom/digit.js";
import { filterGallery, shownName, upsertLatest } from "../../static/js/classroom/filters.js";

test("parseFocus reads what a teacher types and says what is accepted", () => {
  assert.deepEqual(parseFocus("pool1[2, 5, 7]"), { layer: "pool1", unit: [2, 5, 7] });
  assert.deepEqual(parseFocus(" fc3[4] "), { layer: "fc3", unit: [4] });
  assert.deepEqual(parseFocus("conv2 1 3 3"), { layer: "conv2", unit: [1, 3, 3] });
  assert.equal(parseFocus(""), null);
  assert.equal(parseFocus("   "), null);
  assert.throws(() => parseFocus("pool1[-1, 2, 3]"), /indices ≥ 0/);
  assert.throws(() => parseFocus("pool1[1, 2, 3, 4]"), /1 to 3 indices/);
  assert.throws(() => parseFocus("pool1"), /1 to 3 indices/);
  assert.throws(() => parseFocus("[1, 2]"), /is not a unit/);
  assert.equal(formatFocus({ layer: "pool1", unit: [2, 5, 7] }), "pool1[2, 5, 7]");
});

test("a digit decodes from base64 to its 784 bytes and becomes an exact forward body", () => {
  const bytes = Uint8Array.from({ length: 784 }, (_, i) => (i * 7) % 256);
  const b64 = Buffer.from(bytes).toString("base64");
  assert.deepEqual(decodeDigit(b64), bytes);
  const body = digitBody(bytes);
  assert.equal(body.pixels.length, 784);
  assert.equal(body.preprocess, false);
  assert.equal(body.pixels[10], 70);
});

test("histogram puts every answer and the truth on the axis", () => {
  const h = histogram([0, 1, 1, 2, 10], 5, 5);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 5);
  assert.equal(h.edges[0], 0);
  assert.equal(h.edges.at(-1), 10);
  assert.deepEqual(h.counts, [3, 1, 0, 0, 1]);   // 0, 1, 1 in [0, 2); 2 in [2, 4); 10 in the last
  assert.equal(h.truthBin, 2);
  const same = histogram([3, 3], 3);  // no spread: a one-unit axis around it
  assert.equal(same.counts.reduce((a, b) => a + b, 0), 2);
  assert.ok(same.edges[0] < 3 && same.edges.at(-1) > 3);
});

test("verdict compares an answer with the engine's in words", () => {
  assert.match(verdict("value", 0.6, 0.583), /close/);
  assert.match(verdict("value", 2, 0.583), /off by \+1\.417/);
  assert.match(verdict("cell", 1, 1), /right/);
  assert.match(verdict("cell", 0, 3), /cell 1; the answer is cell 4/);
  assert.match(verdict("class", 3, 8, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]), /picked 3; the answer is 8/);
  assert.match(verdict("value", null, 1), /did not answer/);
});

test("gallery filters: class, confidence, misread; latest per student", () => {
  const s = (id, student, prediction, confidence, label = null) => ({ id, student: { id: student, name: `n${student}` }, prediction, confidence, label });
  const items = [s(1, 1, 3, 0.99, 3), s(2, 2, 5, 0.55, 6), s(3, 3, 5, 0.8), s(4, 4, 1, 1.0, null)];
  assert.deepEqual(filterGallery(items, { cls: 5 }).map((x) => x.id), [2, 3]);
  assert.deepEqual(filterGallery(items, { maxConfidence: 0.8 }).map((x) => x.id), [2, 3]);
  assert.deepEqual(filterGallery(items, { misread: true }).map((x) => x.id), [2]);
  assert.deepEqual(filterGallery(items).map((x) => x.id), [1, 2, 3, 4]);
  const g = upsertLatest(items, s(9, 2, 6, 0.9, 6));
  assert.deepEqual(g.map((x) => x.id), [9, 1, 3, 4]);
  assert.equal(shownName({ id: 4, name: "<b>Ana</b>" }, true), "Student 4");
  assert.equal(shownName({ id: 4, name: "<b>Ana</b>" }, false), "<b>Ana</b>");
});
