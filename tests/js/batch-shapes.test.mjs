import { test } from "node:test";
import assert from "node:assert/strict";

import { batchPhotosSorted, batchPlan, shapeMatches } from "../../static/inpaint/batch-shapes.js";

const photo = (name, size) => ({ file: { name }, size });
const TOLERANCE = 0.01;

test("photos are taken in a file manager's order, pictures only", () => {
  const files = [{ name: "10.jpg" }, { name: "notes.txt" }, { name: "2.jpg" }, { name: "B.png" }, { name: "a.png" }];
  const sorted = batchPhotosSorted(files, (file) => !file.name.endsWith(".txt"));
  assert.deepEqual(sorted.map((file) => file.name), ["2.jpg", "10.jpg", "a.png", "B.png"]);
});

test("one shape is one aspect ratio, within the tolerance", () => {
  assert.equal(shapeMatches([4000, 3000], [800, 600], TOLERANCE), true);
  assert.equal(shapeMatches([4000, 3000], [803, 600], TOLERANCE), true); // 0.5 % off
  assert.equal(shapeMatches([4000, 3000], [600, 800], TOLERANCE), false); // turned
  assert.equal(shapeMatches([4000, 3000], [1600, 900], TOLERANCE), false);
});

test("photos of another shape are skipped unless the mask is to be placed relative to them", () => {
  const photos = [photo("1.jpg", [800, 600]), photo("2.jpg", [1600, 1200]), photo("3.jpg", [600, 800]),
                  photo("4.heic", null)];
  const skipping = batchPlan(photos, { relative: false, tolerance: TOLERANCE });
  assert.deepEqual(skipping.send.map((file) => file.name), ["2.jpg", "4.heic"]);
  assert.deepEqual(skipping.other.map((file) => file.name), ["3.jpg"]);
  assert.equal(skipping.count, 3);
  const placing = batchPlan(photos, { relative: true, tolerance: TOLERANCE });
  assert.deepEqual(placing.send.map((file) => file.name), ["2.jpg", "3.jpg", "4.heic"]);
  assert.equal(placing.count, 4);
});
