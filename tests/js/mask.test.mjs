// The pure mask operations of the editor (static/inpaint/mask.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { inflateSync } from "node:zlib";

import {
  alphaRegion, alphaRegionPut, alphaToRgba, crc32, flagsToMask, greyPng, hexToRgb, maskBounds, maskCoverage, maskExport,
  maskGrow, maskInvert, proxySize, rgbaAlpha, selectMaskPixels, squaredDistances,
} from "../../static/inpaint/mask.js";

// The page's values (inpaint/options.py), which the page hands these functions.
const MASK_COLOUR_TOLERANCE = 8;
const PROXY_MAX_SIDE = 4096;

/** A mask (alpha) of width × height, 255 where ``painted(x, y)`` holds. */
function maskOf(width, height, painted) {
  const alpha = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (painted(x, y)) alpha[y * width + x] = 255;
  }
  return alpha;
}

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
  for (const i of [0, 40, 200, 390, 7 * width + 11]) sources[i] = 1;
  assert.deepEqual([...squaredDistances(sources, width, height)], brute(sources, width, height));
});

test("growing a square rounds its corners at the exact distance", () => {
  const width = 60;
  const alpha = maskOf(width, 60, (x, y) => x >= 20 && x < 40 && y >= 20 && y < 40);
  assert.deepEqual(maskGrow(alpha, width, 60, 10), { x: 10, y: 10, w: 40, h: 40 });
  assert.deepEqual(maskBounds(alpha, width, 60), { x0: 10, y0: 10, x1: 49, y1: 49 });
  assert.equal(alpha[30 * width + 10], 255); // 10 px straight out: kept
  assert.equal(alpha[30 * width + 9], 0);
  assert.equal(alpha[12 * width + 12], 0); // 11.3 px from the corner: the grown corner is round
  assert.equal(alpha[13 * width + 13], 255); // 9.9 px from it
});

test("shrinking takes the edge in and keeps the picture's border from eating the mask", () => {
  const alpha = maskOf(40, 30, (x) => x < 20);
  maskGrow(alpha, 40, 30, -5);
  // Only the inner edge (x = 19) moves in; the picture's own edges are not mask edges.
  assert.deepEqual(maskBounds(alpha, 40, 30), { x0: 0, y0: 0, x1: 14, y1: 29 });
});

test("a stroke thinner than twice the amount disappears when shrunk", () => {
  const alpha = maskOf(30, 30, (x, y) => y >= 10 && y < 16);
  maskGrow(alpha, 30, 30, -3);
  assert.equal(maskBounds(alpha, 30, 30), null);
  assert.equal(maskGrow(alpha, 30, 30, 4), null); // nothing left to grow
});

test("colour selection takes pixels within 8 per channel of a mask colour", () => {
  const rgba = new Uint8ClampedArray([
    134, 134, 134, 255, // exact
    142, 126, 134, 255, // 8 off: in
    143, 134, 134, 255, // 9 off: out
    0, 0, 0, 255, // the other colour
  ]);
  assert.deepEqual([...selectMaskPixels(rgba, [[134, 134, 134], [0, 0, 0]], MASK_COLOUR_TOLERANCE)], [1, 1, 0, 1]);
  assert.deepEqual([...selectMaskPixels(rgba, [[134, 134, 134]], MASK_COLOUR_TOLERANCE)], [1, 1, 0, 0]);
});

test("without colours a mask is read by luminance, or by alpha when it has transparency", () => {
  const opaque = new Uint8ClampedArray([255, 255, 255, 255, 128, 128, 128, 255, 127, 127, 127, 255, 0, 0, 0, 255]);
  assert.deepEqual([...selectMaskPixels(opaque, [], MASK_COLOUR_TOLERANCE)], [1, 1, 0, 0]);
  const transparent = new Uint8ClampedArray([0, 0, 0, 255, 0, 0, 0, 128, 255, 255, 255, 127, 255, 255, 255, 0]);
  assert.deepEqual([...selectMaskPixels(transparent, [], MASK_COLOUR_TOLERANCE)], [1, 1, 0, 0]);
});

test("hex colours become red, green, blue", () => {
  assert.deepEqual(hexToRgb("#ff2d55"), [255, 45, 85]);
  assert.deepEqual(hexToRgb("000000"), [0, 0, 0]);
});

test("export is one byte a pixel, 255 where alpha is at least 128; invert leaves no half-painted pixel", () => {
  const alpha = Uint8Array.from([127, 128, 255, 0]);
  assert.deepEqual([...maskExport(alpha)], [0, 255, 255, 0]);
  maskInvert(alpha);
  assert.deepEqual([...alpha], [255, 0, 0, 255]);
});

test("alpha goes to and from the canvas's RGBA, in the overlay colour", () => {
  const alpha = Uint8Array.from([0, 200]);
  assert.deepEqual([...alphaToRgba(alpha, [255, 45, 85])], [255, 45, 85, 0, 255, 45, 85, 200]);
  assert.deepEqual([...rgbaAlpha(alphaToRgba(alpha, [1, 2, 3]))], [0, 200]);
});

/** The chunks of a PNG: [{type, data}]. */
function pngChunks(png) {
  const fields = new DataView(png.buffer, png.byteOffset);
  const chunks = [];
  for (let at = 8; at < png.length;) {
    const length = fields.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    assert.equal(fields.getUint32(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

test("the mask PNG is 8-bit greyscale, row by row, with the CRCs PNG readers check", async () => {
  assert.equal(crc32(new TextEncoder().encode("IEND")), 0xae426082); // every PNG's last four bytes
  const grey = Uint8Array.from([0, 255, 255, 0, 0, 255]); // 3 × 2
  const png = await greyPng(grey, 3, 2);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks = pngChunks(png);
  assert.deepEqual(chunks.map((chunk) => chunk.type), ["IHDR", "IDAT", "IEND"]);
  assert.deepEqual([...chunks[0].data], [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0]);
  assert.deepEqual([...inflateSync(chunks[1].data)], [0, 0, 255, 255, 0, 0, 0, 255]);
});

test("a rectangle of the mask is copied out and put back row by row", () => {
  const alpha = Uint8Array.from({ length: 20 }, (_, i) => i); // 5 × 4
  const area = { x: 1, y: 1, w: 3, h: 2 };
  assert.deepEqual([...alphaRegion(alpha, 5, area)], [6, 7, 8, 11, 12, 13]);
  alphaRegionPut(alpha, 5, area, new Uint8Array(6));
  assert.deepEqual([...alpha], [0, 1, 2, 3, 4, 5, 0, 0, 0, 9, 10, 0, 0, 0, 14, 15, 16, 17, 18, 19]);
});

test("coverage is the share of repaint pixels", () => {
  assert.equal(maskCoverage(maskOf(10, 10, (x, y) => x < 3 && y < 5)), 0.15);
  assert.equal(maskCoverage(new Uint8Array()), 0);
});

test("flags scale nearest-neighbour, so a half-size mask lands on whole pixel pairs", () => {
  const flags = Uint8Array.from([0, 1, 0, 0, 0, 0]); // 3 × 2, the top middle set
  const { alpha, any } = flagsToMask(flags, 3, 2, 6, 4);
  assert.equal(any, true);
  assert.deepEqual(maskBounds(alpha, 6, 4), { x0: 2, y0: 0, x1: 3, y1: 1 });
  assert.equal(flagsToMask(new Uint8Array(6), 3, 2, 6, 4).any, false);
});

test("a picture within 4096 px is painted at its own size", () => {
  assert.deepEqual(proxySize(4096, 3000, PROXY_MAX_SIDE), { width: 4096, height: 3000, scale: 1 });
  assert.deepEqual(proxySize(640, 480, PROXY_MAX_SIDE), { width: 640, height: 480, scale: 1 });
});

test("a 48 MP photo is painted on a 4096 × 3072 proxy of the same shape", () => {
  const proxy = proxySize(8064, 6048, PROXY_MAX_SIDE);
  assert.deepEqual([proxy.width, proxy.height], [4096, 3072]);
  assert.equal(proxySize(6048, 8064, PROXY_MAX_SIDE).height, PROXY_MAX_SIDE);
});

test("a proxy keeps the picture's shape within the server's 1 % tolerance", () => {
  for (const [width, height] of [[6000, 4000], [8000, 5333], [9999, 101], [12000, 9000], [4097, 4097], [10000, 120]]) {
    const proxy = proxySize(width, height, PROXY_MAX_SIDE);
    assert.ok(Math.max(proxy.width, proxy.height) <= PROXY_MAX_SIDE, `${width} × ${height}`);
    const drift = Math.abs(proxy.width / proxy.height / (width / height) - 1);
    assert.ok(drift <= 0.01, `${width} × ${height} -> ${proxy.width} × ${proxy.height}: ${drift}`);
  }
});
