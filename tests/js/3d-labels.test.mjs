import { test } from "node:test";
import assert from "node:assert/strict";
import { clashes, LABEL_GAP } from "../../static/js/3d/labels3d.js";

test("labels that overlap or merely touch clash; ones a gap apart do not", () => {
  const shown = [[100, 60, 240, 77]];                                  // "pool2 16×5×5 [-2 … 2]"
  assert.ok(clashes([150, 70, 260, 87], shown), "overlapping boxes");
  assert.ok(clashes([150, 77, 260, 94], shown), "touching edges read as one run-on label");
  assert.ok(clashes([242, 60, 300, 77], shown), "2 px apart is still too close");
  assert.ok(!clashes([150, 77 + LABEL_GAP, 260, 94 + LABEL_GAP], shown), "a full gap below");
  assert.ok(!clashes([240 + LABEL_GAP, 60, 300, 77], shown), "a full gap to the right");
  assert.ok(!clashes([0, 0, 10, 10], []), "nothing shown yet");
});

test("a label anchor behind a nearer plane is hidden from the eye; one beside it is not", async () => {
  const { occluded } = await import("../../static/js/3d/labels3d.js");
  const input = { name: "input", left: -16, top: 16, width: 32, height: 32, z: 0 };
  const pool1 = { name: "pool1", left: -20, top: 10, width: 40, height: 20, z: -48 };
  const conv1 = { name: "conv1", left: -45, top: 45, width: 90, height: 90, z: -24 };
  const planes = [input, conv1, pool1];
  const front = [0, 0, 400];
  // pool1's name above it, seen face-on: the input (and conv1) are in the way.
  assert.ok(occluded(front, [0, 11.5, -48], planes, pool1));
  // conv1's name above its top edge clears the input's 16 px half-height at that depth.
  assert.ok(!occluded(front, [0, 46.5, -24], planes, conv1));
  // The input's own name sits on no plane nearer the eye.
  assert.ok(!occluded(front, [0, 17.5, 0], planes, input));
  // From behind the stack the input is the far plane: it hides nothing in front of it.
  assert.ok(occluded([0, 0, -400], [0, 17.5, 0], planes, input), "seen from behind, conv1 hides the input's name");
  assert.ok(!occluded([0, 0, -400], [0, 17.5, -48], planes, pool1), "pool1's name, nearest the eye from behind, is clear");
  // From the side (eye beside the stack, level), no plane lies across the sight line.
  assert.ok(!occluded([400, 0, -24], [0, 11.5, -48], planes, pool1));
});

test("each plane offers six spots for its name: above, below, over either corner, beside either edge", async () => {
  const { labelSpots, boxAt } = await import("../../static/js/3d/labels3d.js");
  const spots = labelSpots({ left: -20, top: 10, width: 40, height: 20, z: -48 });
  assert.deepEqual(spots.map((s) => s.at), [[0, 11.5, -48], [0, -11.5, -48], [-20, 11.5, -48], [20, 11.5, -48], [21.5, 0, -48], [-21.5, 0, -48]]);
  assert.deepEqual(boxAt({ x: 100, y: 50 }, 60, 16, spots[0]), [70, 34, 130, 50], "centred, above the anchor");
  assert.deepEqual(boxAt({ x: 100, y: 50 }, 60, 16, spots[1]), [70, 50, 130, 66], "centred, below");
  assert.deepEqual(boxAt({ x: 100, y: 50 }, 60, 16, spots[2]), [100, 34, 160, 50], "starting at the left corner");
  assert.deepEqual(boxAt({ x: 100, y: 50 }, 60, 16, spots[3]), [40, 34, 100, 50], "ending at the right corner");
  assert.deepEqual(boxAt({ x: 100, y: 50 }, 60, 16, spots[4]), [100, 42, 160, 58], "right of the right edge, centred on it");
});
