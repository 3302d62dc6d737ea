// The pure mask operations of the editor (static/inpaint/mask.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  flagsToMask, greyToRgba, hexToRgb, maskBounds, maskCoverage, maskExport, maskGrow, maskHarden, proxySize,
  PROXY_MAX_SIDE, selectMaskPixels, squaredDistances,
} from "../../static/inpaint/mask.js";

const RED = [255, 45, 85];

/** An RGBA mask of width × height with the pixels where ``painted(x, y)`` holds at full alpha. */
function maskOf(width, height, painted) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!painted(x, y)) continue;
      rgba.set([...RED, 255], (y * width + x) * 4);
    }
  }
  return rgba;
}

const alphaAt = (rgba, width, x, y) => rgba[(y * width + x) * 4 + 3];

function brute(sources, width, height) {
  const out = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let best = Infinity;
      for (let v = 0; v < height; v++) {
        for (let u = 0; u < width; u++) if (sources[v * width + u]) best = Math.min(best, (x - u) ** 2 + (y - v) ** 2);
      }
      out.push(best);
    }
  }
  return out;
}

test("squared distances are exact Euclidean, as a brute-force search finds them", () => {
  const width = 23, height = 17;
  const sources = new Uint8Array(width * height);
  for (const i of [0, 40, 200, 391 - 1, 7 * width + 11]) sources[i] = 1;
  assert.deepEqual([...squaredDistances(sources, width, height)], brute(sources, width, height));
});

test("growing a square rounds its corners at the exact distance", () => {
  const width = 60, height = 60;
  const rgba = maskOf(width, height, (x, y) => x >= 20 && x < 40 && y >= 20 && y < 40);
  const area = maskGrow(rgba, width, height, 10, RED);
  assert.deepEqual(area, { x: 10, y: 10, w: 40, h: 40 });
  assert.deepEqual(maskBounds(rgba, width, height), { x0: 10, y0: 10, x1: 49, y1: 49 });
  assert.equal(alphaAt(rgba, width, 10, 30), 255); // 10 px straight out: kept
  assert.equal(alphaAt(rgba, width, 9, 30), 0);
  assert.equal(alphaAt(rgba, width, 12, 12), 0); // 11.3 px from the corner: the grown corner is round
  assert.equal(alphaAt(rgba, width, 13, 13), 255); // 9.9 px from it
  assert.deepEqual([...rgba.slice((30 * width + 12) * 4, (30 * width + 12) * 4 + 3)], RED);
});

test("shrinking takes the edge in and keeps the picture's border from eating the mask", () => {
  const width = 40, height = 30;
  const rgba = maskOf(width, height, (x, y) => x < 20 && y < 30);
  maskGrow(rgba, width, height, -5, RED);
  // Only the inner edge (x = 19) moves in; the picture's own edges are not mask edges.
  assert.deepEqual(maskBounds(rgba, width, height), { x0: 0, y0: 0, x1: 14, y1: 29 });
});

test("a stroke thinner than twice the amount disappears when shrunk", () => {
  const width = 30, height = 30;
  const rgba = maskOf(width, height, (x, y) => y >= 10 && y < 16);
  maskGrow(rgba, width, height, -3, RED);
  assert.equal(maskBounds(rgba, width, height), null);
  assert.equal(maskGrow(rgba, width, height, 4, RED), null); // nothing left to grow
});

test("colour selection takes pixels within 8 per channel of a mask colour", () => {
  const rgba = new Uint8ClampedArray([
    134, 134, 134, 255, // exact
    142, 126, 134, 255, // 8 off: in
    143, 134, 134, 255, // 9 off: out
    0, 0, 0, 255, // the other colour
  ]);
  assert.deepEqual([...selectMaskPixels(rgba, [[134, 134, 134], [0, 0, 0]])], [1, 1, 0, 1]);
  assert.deepEqual([...selectMaskPixels(rgba, [[134, 134, 134]])], [1, 1, 0, 0]);
});

test("without colours a mask is read by luminance, or by alpha when it has transparency", () => {
  const opaque = new Uint8ClampedArray([255, 255, 255, 255, 128, 128, 128, 255, 127, 127, 127, 255, 0, 0, 0, 255]);
  assert.deepEqual([...selectMaskPixels(opaque, [])], [1, 1, 0, 0]);
  const transparent = new Uint8ClampedArray([0, 0, 0, 255, 0, 0, 0, 128, 255, 255, 255, 127, 255, 255, 255, 0]);
  assert.deepEqual([...selectMaskPixels(transparent, [])], [1, 1, 0, 0]);
});

test("hex colours become red, green, blue", () => {
  assert.deepEqual(hexToRgb("#ff2d55"), [255, 45, 85]);
  assert.deepEqual(hexToRgb("000000"), [0, 0, 0]);
});

test("export is one byte a pixel, 255 where alpha is at least 128", () => {
  const rgba = new Uint8ClampedArray([9, 9, 9, 127, 9, 9, 9, 128, 0, 0, 0, 255, 255, 255, 255, 0]);
  assert.deepEqual([...maskExport(rgba)], [0, 255, 255, 0]);
  assert.deepEqual([...greyToRgba(Uint8Array.from([0, 255]))], [0, 0, 0, 255, 255, 255, 255, 255]);
  maskHarden(rgba);
  assert.deepEqual([0, 1, 2, 3].map((p) => rgba[p * 4 + 3]), [0, 255, 255, 0]);
});

test("coverage is the share of repaint pixels", () => {
  const rgba = maskOf(10, 10, (x, y) => x < 3 && y < 5);
  assert.equal(maskCoverage(rgba), 0.15);
  assert.equal(maskCoverage(new Uint8ClampedArray()), 0);
});

test("flags scale nearest-neighbour, so a half-size mask lands on whole pixel pairs", () => {
  const flags = Uint8Array.from([0, 1, 0, 0, 0, 0]); // 3 × 2, the top middle set
  const { rgba, any } = flagsToMask(flags, 3, 2, 6, 4, RED);
  assert.equal(any, true);
  assert.deepEqual(maskBounds(rgba, 6, 4), { x0: 2, y0: 0, x1: 3, y1: 1 });
  assert.equal(flagsToMask(new Uint8Array(6), 3, 2, 6, 4, RED).any, false);
});

test("a picture within 4096 px is painted at its own size", () => {
  assert.deepEqual(proxySize(4096, 3000), { width: 4096, height: 3000, scale: 1 });
  assert.deepEqual(proxySize(640, 480), { width: 640, height: 480, scale: 1 });
});

test("a 48 MP photo is painted on a 4096 × 3072 proxy of the same shape", () => {
  const proxy = proxySize(8064, 6048);
  assert.deepEqual([proxy.width, proxy.height], [4096, 3072]);
  assert.equal(proxySize(6048, 8064).height, PROXY_MAX_SIDE);
});

test("a proxy keeps the picture's shape within the server's 1 % tolerance", () => {
  for (const [width, height] of [[6000, 4000], [8000, 5333], [9999, 101], [12000, 9000], [4097, 4097], [10000, 120]]) {
    const proxy = proxySize(width, height);
    assert.ok(Math.max(proxy.width, proxy.height) <= PROXY_MAX_SIDE, `${width} × ${height}`);
    const drift = Math.abs(proxy.width / proxy.height / (width / height) - 1);
    assert.ok(drift <= 0.01, `${width} × ${height} -> ${proxy.width} × ${proxy.height}: ${drift}`);
  }
});
