// Pure pixel operations on masks: no DOM, so Node's test runner checks them (tests/js/mask.test.mjs).
//
// A mask here is its alpha channel, one byte a pixel (a quarter of the RGBA a canvas holds, which
// matters on a 4096 × 3072 proxy): a pixel is "repaint" when it is at least 128. The editor shows
// it in the overlay colour (alphaToRgba); the server gets one channel, 255 = repaint (maskExport).

const REPAINT = 128;

export function hexToRgb(hex) {
  const value = parseInt(hex.replace("#", ""), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * The size to paint a width × height picture at: the picture's own size when its long side fits
 * in ``maxSide`` (the page's proxy_max_side), else scaled to fit, same shape (the server scales a
 * mask of the same shape back up). ``scale`` is proxy pixels per picture pixel.
 */
export function proxySize(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale === 1) return { width, height, scale };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** The box of the repaint pixels, {x0, y0, x1, y1} inclusive, or null for an empty mask. */
export function maskBounds(alpha, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (alpha[y * width + x] < REPAINT) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/**
 * Grow the mask ``alpha`` (width × height) by ``pixels`` all round, or shrink it when negative, in
 * place. Exact Euclidean distances: a grown square gets round corners, and a stroke thinner than
 * twice the amount disappears when shrunk. The picture's edge does not eat into the mask. Returns
 * the rectangle {x, y, w, h} that may have changed, or null.
 */
export function maskGrow(alpha, width, height, pixels) {
  const bounds = pixels ? maskBounds(alpha, width, height) : null;
  if (!bounds) return null;
  // Only the mask's box (grown by the amount, or by one pixel to see its outside) can change.
  const margin = pixels > 0 ? Math.ceil(pixels) : 1;
  const x = Math.max(0, bounds.x0 - margin), y = Math.max(0, bounds.y0 - margin);
  const area = { x, y, w: Math.min(width, bounds.x1 + 1 + margin) - x, h: Math.min(height, bounds.y1 + 1 + margin) - y };
  const inMask = alphaRegion(alpha, width, area).map((v) => (v >= REPAINT ? 1 : 0));
  const grow = pixels > 0;
  const distances = squaredDistances(grow ? inMask : inMask.map((v) => 1 - v), area.w, area.h);
  const limit = pixels * pixels;
  const grown = inMask.map((v, i) => ((grow ? distances[i] <= limit : v === 1 && distances[i] > limit) ? 255 : 0));
  alphaRegionPut(alpha, width, area, grown);
  return area;
}

/** Swap repaint and keep, in place, leaving every pixel fully in or out. */
export function maskInvert(alpha) {
  for (let i = 0; i < alpha.length; i++) alpha[i] = alpha[i] >= REPAINT ? 0 : 255;
}

/** One byte a pixel, 255 = repaint, 0 = keep: the mask as the server stores it. */
export function maskExport(alpha) {
  return alpha.map((v) => (v >= REPAINT ? 255 : 0));
}

/**
 * An 8-bit greyscale PNG of ``grey`` (width × height, one byte a pixel): the server's own mask
 * format, made without a canvas, which would need four bytes a pixel and a copy to encode.
 */
export async function greyPng(grey, width, height) {
  let y = 0;
  // Rows go to the compressor a band at a time, each after its filter byte (0 = none).
  const rows = new ReadableStream({
    pull(controller) {
      if (y === height) return controller.close();
      const count = Math.min(PNG_BAND_ROWS, height - y);
      const band = new Uint8Array((width + 1) * count);
      for (let row = 0; row < count; row++, y++) band.set(grey.subarray(y * width, (y + 1) * width), row * (width + 1) + 1);
      controller.enqueue(band);
    },
  });
  const zlib = rows.pipeThrough(new CompressionStream("deflate"));
  const header = new Uint8Array(13);
  const fields = new DataView(header.buffer);
  fields.setUint32(0, width);
  fields.setUint32(4, height);
  header[8] = 8; // bits a sample; colour type 0 (grey), default compression, filters, no interlace
  const parts = [PNG_SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", new Uint8Array(await new Response(zlib).arrayBuffer())),
    pngChunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => { out.set(part, offset); return offset + part.length; }, 0);
  return out;
}

const PNG_BAND_ROWS = 256;
const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const fields = new DataView(out.buffer);
  fields.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  fields.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** The CRC-32 that PNG chunks end with. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The share of pixels to repaint, 0 to 1. */
export function maskCoverage(alpha) {
  let count = 0;
  for (let i = 0; i < alpha.length; i++) if (alpha[i] >= REPAINT) count++;
  return alpha.length ? count / alpha.length : 0;
}

/** The rectangle {x, y, w, h} of a grid ``width`` wide, copied out row by row. */
export function alphaRegion(alpha, width, area) {
  const out = new Uint8Array(area.w * area.h);
  for (let row = 0; row < area.h; row++) {
    const from = (area.y + row) * width + area.x;
    out.set(alpha.subarray(from, from + area.w), row * area.w);
  }
  return out;
}

/** Put ``region`` (area.w × area.h) back into the grid at ``area``. */
export function alphaRegionPut(alpha, width, area, region) {
  for (let row = 0; row < area.h; row++) {
    alpha.set(region.subarray(row * area.w, (row + 1) * area.w), (area.y + row) * width + area.x);
  }
}

/** The canvas's RGBA for alpha values: the overlay colour ``rgb`` at each pixel's alpha. */
export function alphaToRgba(alpha, [r, g, b]) {
  const out = new Uint8ClampedArray(alpha.length * 4);
  for (let p = 0, o = 0; p < alpha.length; p++, o += 4) {
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    out[o + 3] = alpha[p];
  }
  return out;
}

/** The alpha channel of canvas RGBA data. */
export function rgbaAlpha(rgba) {
  const out = new Uint8Array(rgba.length / 4);
  for (let p = 0; p < out.length; p++) out[p] = rgba[p * 4 + 3];
  return out;
}

/**
 * One flag a pixel: 1 = repaint, by the server's rule (inpaint/images.py, prepare_mask): with
 * ``colours``, a pixel within ``tolerance`` per channel of one (the page's mask_colours.tolerance).
 */
export function selectMaskPixels(rgba, colours, tolerance) {
  const n = rgba.length / 4;
  const selected = new Uint8Array(n);
  if (colours.length) {
    const near = (i, [r, g, b]) => Math.abs(rgba[i] - r) <= tolerance
      && Math.abs(rgba[i + 1] - g) <= tolerance && Math.abs(rgba[i + 2] - b) <= tolerance;
    for (let p = 0; p < n; p++) selected[p] = colours.some((colour) => near(p * 4, colour)) ? 1 : 0;
    return selected;
  }
  let transparent = false;
  for (let p = 0; p < n && !transparent; p++) transparent = rgba[p * 4 + 3] < 255;
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    selected[p] = transparent
      ? (rgba[i + 3] >= REPAINT ? 1 : 0)
      : (0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2] >= 127.5 ? 1 : 0);
  }
  return selected;
}

/**
 * Flags (1 = repaint) of a source grid scaled to width × height nearest-neighbour, as alpha (canvas
 * scaling would interpolate the edge). Returns {alpha, any}: ``any`` says whether anything is set.
 */
export function flagsToMask(flags, sourceWidth, sourceHeight, width, height) {
  const alpha = new Uint8Array(width * height);
  let any = false;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(sourceHeight - 1, Math.floor((y * sourceHeight) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(sourceWidth - 1, Math.floor((x * sourceWidth) / width));
      if (!flags[sy * sourceWidth + sx]) continue;
      alpha[y * width + x] = 255;
      any = true;
    }
  }
  return { alpha, any };
}

/**
 * Squared Euclidean distance from every pixel of a width × height grid to the nearest pixel
 * where ``sources`` is 1 (Felzenszwalb and Huttenlocher's transform: a pass down the columns,
 * then along the rows, each linear in the pixels).
 */
export function squaredDistances(sources, width, height) {
  const FAR = 1e20;
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = sources[i] ? 0 : FAR;
  const longest = Math.max(width, height);
  const line = new Float64Array(longest);
  const result = new Float64Array(longest);
  const apexes = new Int32Array(longest);
  const bounds = new Float64Array(longest + 1);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) line[y] = out[y * width + x];
    lowerEnvelope(line, height, result, apexes, bounds);
    for (let y = 0; y < height; y++) out[y * width + x] = result[y];
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) line[x] = out[row + x];
    lowerEnvelope(line, width, result, apexes, bounds);
    for (let x = 0; x < width; x++) out[row + x] = result[x];
  }
  return out;
}

/** One dimension of the transform: the lower envelope of parabolas rooted at (q, f[q]). */
function lowerEnvelope(f, n, d, v, z) {
  const meet = (q, p) => ((f[q] + q * q) - (f[p] + p * p)) / (2 * q - 2 * p);
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = meet(q, v[k]);
    while (s <= z[k]) {
      k--;
      s = meet(q, v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}
