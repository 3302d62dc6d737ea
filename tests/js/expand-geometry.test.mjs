// Extending the picture (static/inpaint/expand-geometry.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { expandDrag, expandedSize, expandPresetAspect, expandPresetScale } from "../../static/inpaint/expand-geometry.js";

// What inpaint.options.options_for_page writes (tests/test_options.py checks the server's side).
const EXPAND = { sides: ["top_scale", "bottom_scale", "left_scale", "right_scale"], min: 1, max: 2 };

test("a scale preset extends every edge by half the growth, the picture in the middle", () => {
  assert.deepEqual(expandPresetScale(EXPAND, 1.5), { top_scale: 1.25, bottom_scale: 1.25, left_scale: 1.25, right_scale: 1.25 });
  assert.deepEqual(expandedSize(1600, 1000, expandPresetScale(EXPAND, 2)), { width: 3200, height: 2000, left: 800, top: 500 });
});

test("a shape preset extends the short way only, to that shape", () => {
  const square = expandPresetAspect(EXPAND, 1600, 1000, [1, 1]);
  assert.deepEqual(square, { top_scale: 1.3, bottom_scale: 1.3, left_scale: 1, right_scale: 1 });
  assert.deepEqual(expandedSize(1600, 1000, square), { width: 1600, height: 1600, left: 0, top: 300 });
  const wide = expandPresetAspect(EXPAND, 1000, 1000, [16, 9]);
  assert.equal(wide.top_scale, 1);
  assert.equal(expandedSize(1000, 1000, wide).width, 1780);
});

test("a shape further than the model extends stops at its widest", () => {
  assert.deepEqual(expandPresetAspect(EXPAND, 200, 1000, [16, 9]), { top_scale: 1, bottom_scale: 1, left_scale: 2, right_scale: 2 });
});

test("a dragged handle moves its edge by the picture's pixels, within the model's range", () => {
  assert.equal(expandDrag(EXPAND, "left_scale", 1, 800, 1600, 1000), 1.5);
  assert.equal(expandDrag(EXPAND, "top_scale", 1, 250, 1600, 1000), 1.25);
  assert.equal(expandDrag(EXPAND, "right_scale", 1.5, -2000, 1600, 1000), 1);
  assert.equal(expandDrag(EXPAND, "bottom_scale", 1, 5000, 1600, 1000), 2);
});
