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
