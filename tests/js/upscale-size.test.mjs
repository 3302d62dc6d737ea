// The finished size and the longest side taken whole, as the server reckons them (inpaint/images_upscale.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { upscaleSize } from "../../static/inpaint/upscale-size.js";

const SIDES = [512, 4096];

test("a picture that fits comes back the factor times its size", () => {
  assert.deepEqual(upscaleSize(900, 600, 2, SIDES), { width: 1800, height: 1200, fits: true, largest: 2048 });
});

test("a picture whose answer would pass the model's side does not fit, and says the longest that does", () => {
  const size = upscaleSize(2100, 1000, 2, SIDES);
  assert.equal(size.fits, false);
  assert.equal(size.largest, 2048);
});

test("a small picture is first scaled up to the shortest side, so the longest it takes is shorter", () => {
  assert.deepEqual(upscaleSize(1500, 256, 4, SIDES), { width: 6000, height: 1024, fits: false, largest: 512 });
  assert.equal(upscaleSize(300, 200, 4, SIDES).fits, true);
});
