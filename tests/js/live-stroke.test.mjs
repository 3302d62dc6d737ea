// The live stroke's mapping from picture pixels to the stage (static/inpaint/live-stroke.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { stagePoint } from "../../static/inpaint/live-stroke.js";

test("a picture point lands where the view's translate and scale put it on the stage", () => {
  assert.deepEqual(stagePoint({ x: 0, y: 0 }, { tx: 12, ty: -5, scale: 4 }), { x: 12, y: -5 });
  assert.deepEqual(stagePoint({ x: 100, y: 50 }, { tx: 12, ty: -5, scale: 0.25 }), { x: 37, y: 7.5 });
});
