// The rectangle tool from the keyboard (static/inpaint/keyboard-rect.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { keyRectMove, keyRectStart } from "../../static/inpaint/keyboard-rect.js";

test("the box starts as the middle half of the picture", () => {
  assert.deepEqual(keyRectStart(640, 480), { x0: 160, y0: 120, x1: 480, y1: 360 });
});

test("an arrow moves the whole box by 2 % of the picture's longer side", () => {
  const box = keyRectStart(1000, 500);
  assert.deepEqual(keyRectMove(box, "ArrowRight", false, 1000, 500), { x0: 270, y0: 125, x1: 770, y1: 375 });
  assert.deepEqual(keyRectMove(box, "ArrowUp", false, 1000, 500), { x0: 250, y0: 105, x1: 750, y1: 355 });
});

test("the box stops at the picture's edge, keeping its size", () => {
  let box = keyRectStart(100, 100);
  for (let press = 0; press < 40; press += 1) box = keyRectMove(box, "ArrowLeft", false, 100, 100);
  assert.deepEqual(box, { x0: 0, y0: 25, x1: 50, y1: 75 });
});

test("Shift with an arrow moves the right or bottom edge, never past the picture or below one step", () => {
  const box = keyRectStart(1000, 1000);
  assert.deepEqual(keyRectMove(box, "ArrowDown", true, 1000, 1000), { x0: 250, y0: 250, x1: 750, y1: 770 });
  let narrow = box;
  for (let press = 0; press < 40; press += 1) narrow = keyRectMove(narrow, "ArrowLeft", true, 1000, 1000);
  assert.deepEqual(narrow, { x0: 250, y0: 250, x1: 270, y1: 750 });
  let wide = box;
  for (let press = 0; press < 40; press += 1) wide = keyRectMove(wide, "ArrowRight", true, 1000, 1000);
  assert.equal(wide.x1, 1000);
});

test("a tiny picture still moves by a whole pixel", () => {
  assert.deepEqual(keyRectMove({ x0: 2, y0: 2, x1: 8, y1: 8 }, "ArrowRight", false, 10, 10), { x0: 3, y0: 2, x1: 9, y1: 8 });
});

test("a key that is not an arrow is not the box's", () => {
  assert.equal(keyRectMove(keyRectStart(10, 10), "Enter", false, 10, 10), null);
});
