// Which part of a result the canvas asks for at its own pixels (static/inpaint/result-view.js), run with
// `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { partBox } from "../../static/inpaint/result-view.js";

const canvas = { width: 4096, height: 2731 }; // the proxy of a 6000 × 4000 result
const result = { width: 6000, height: 4000 };
const stage = { width: 1000, height: 600 };

test("at the fit zoom, or for a result the canvas holds whole, nothing is asked for", () => {
  assert.equal(partBox({ tx: 0, ty: 0, scale: 0.24 }, canvas, result, stage, 4096), null);
  assert.equal(partBox({ tx: 0, ty: 0, scale: 4 }, { width: 640, height: 480 }, { width: 640, height: 480 }, stage, 4096), null);
});

test("zoomed in, the box is what the stage shows, in the result's pixels", () => {
  // Canvas pixel 1000 at the stage's left edge, 2 stage px a canvas px: 500 canvas px across.
  const box = partBox({ tx: -2000, ty: -1000, scale: 2 }, canvas, result, stage, 4096);
  const factor = 6000 / 4096;
  assert.deepEqual(box, { left: Math.floor(1000 * factor), top: Math.floor(500 * factor),
                          right: Math.ceil(1500 * factor), bottom: Math.ceil(800 * factor) });
});

test("the box stays inside the result, and one over the largest part is not asked for", () => {
  const box = partBox({ tx: 200, ty: 100, scale: 1.5 }, canvas, result, stage, 4096);
  assert.equal(box.left, 0);
  assert.equal(box.top, 0);
  assert.equal(partBox({ tx: 0, ty: 0, scale: 1.5 }, canvas, result, { width: 4000, height: 3000 }, 1024), null);
});
