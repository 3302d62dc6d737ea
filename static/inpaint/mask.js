// Pure pixel operations on masks: no DOM, so Node's test runner checks them (tests/js/mask.test.mjs).
//
// A mask here is RGBA data as a canvas holds it: a pixel is "repaint" when its alpha is at least
// 128, drawn in the overlay colour. What goes to the server is one channel, 255 = repaint.

/** The server's mask rule, for previews of uploaded masks (inpaint/images.py, MASK_COLOUR_TOLERANCE). */
export const MASK_COLOUR_TOLERANCE = 8;

/** Longest side the editor paints at; larger pictures are shown and painted on a proxy this size. */
export const PROXY_MAX_SIDE = 4096;

const OPAQUE = 128;

export function hexToRgb(hex) {
  const value = parseInt(hex.replace("#", ""), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * The size to paint a width × height picture at: the picture's own size when its long side fits
 * in ``maxSide``, else scaled to fit, same shape (the server scales a mask of the same shape back
 * up). ``scale`` is proxy pixels per picture pixel.
 */
export function proxySize(width, height, maxSide = PROXY_MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale === 1) return { width, height, scale };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** The box of the repaint pixels, {x0, y0, x1, y1} inclusive, or null for an empty mask. */
export function maskBounds(rgba, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgba[(y * width + x) * 4 + 3] < OPAQUE) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/**
 * Grow the mask in ``rgba`` (width × height) by ``pixels`` all round, or shrink it when negative,
 * in place, painting kept pixels in ``rgb``. Exact Euclidean distances: a grown square gets round
 * corners, and a stroke thinner than twice the amount disappears when shrunk. The picture's edge
 * does not eat into the mask. Returns the rectangle {x, y, w, h} that may have changed, or null.
 */
export function maskGrow(rgba, width, height, pixels, rgb) {
  const bounds = pixels ? maskBounds(rgba, width, height) : null;
  if (!bounds) return null;
  // Only the mask's box (grown by the amount, or by one pixel to see its outside) can change.
  const margin = pixels > 0 ? Math.ceil(pixels) : 1;
  const x = Math.max(0, bounds.x0 - margin), y = Math.max(0, bounds.y0 - margin);
  const w = Math.min(width, bounds.x1 + 1 + margin) - x, h = Math.min(height, bounds.y1 + 1 + margin) - y;
  const inMask = new Uint8Array(w * h);
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) inMask[row * w + col] = rgba[((y + row) * width + x + col) * 4 + 3] >= OPAQUE ? 1 : 0;
  }
  const grow = pixels > 0;
  const distances = squaredDistances(grow ? inMask : inMask.map((v) => 1 - v), w, h);
  const limit = pixels * pixels;
  const [r, g, b] = rgb;
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      const i = row * w + col;
      const keep = grow ? distances[i] <= limit : inMask[i] === 1 && distances[i] > limit;
      const o = ((y + row) * width + x + col) * 4;
      rgba[o] = r; rgba[o + 1] = g; rgba[o + 2] = b; rgba[o + 3] = keep ? 255 : 0;
    }
  }
  return { x, y, w, h };
}

/** Snap every pixel to in or out, in place, so what is shown is exactly what is sent. */
export function maskHarden(rgba) {
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = rgba[i] >= OPAQUE ? 255 : 0;
}

/** One byte a pixel, 255 = repaint, 0 = keep: the mask as the server stores it. */
export function maskExport(rgba) {
  const out = new Uint8Array(rgba.length / 4);
  for (let p = 0; p < out.length; p++) out[p] = rgba[p * 4 + 3] >= OPAQUE ? 255 : 0;
  return out;
}

/** Single-channel data as opaque grey RGBA, for a canvas to encode as PNG. */
export function greyToRgba(grey) {
  const out = new Uint8ClampedArray(grey.length * 4);
  for (let p = 0; p < grey.length; p++) {
    const o = p * 4;
    out[o] = out[o + 1] = out[o + 2] = grey[p];
    out[o + 3] = 255;
  }
  return out;
}

/** The share of pixels to repaint, 0 to 1. */
export function maskCoverage(rgba) {
  const n = rgba.length / 4;
  if (!n) return 0;
  let count = 0;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] >= OPAQUE) count++;
  return count / n;
}

/** One flag a pixel: 1 = repaint, by the server's rule (inpaint/images.py, prepare_mask). */
export function selectMaskPixels(rgba, colours) {
  const n = rgba.length / 4;
  const selected = new Uint8Array(n);
  if (colours.length) {
    const near = (i, [r, g, b]) => Math.abs(rgba[i] - r) <= MASK_COLOUR_TOLERANCE
      && Math.abs(rgba[i + 1] - g) <= MASK_COLOUR_TOLERANCE && Math.abs(rgba[i + 2] - b) <= MASK_COLOUR_TOLERANCE;
    for (let p = 0; p < n; p++) selected[p] = colours.some((colour) => near(p * 4, colour)) ? 1 : 0;
    return selected;
  }
  let transparent = false;
  for (let p = 0; p < n && !transparent; p++) transparent = rgba[p * 4 + 3] < 255;
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    selected[p] = transparent
      ? (rgba[i + 3] >= OPAQUE ? 1 : 0)
      : (0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2] >= 127.5 ? 1 : 0);
  }
  return selected;
}

/**
 * Flags of a source grid scaled to width × height nearest-neighbour, as RGBA in ``rgb`` (canvas
 * scaling would interpolate the edge). Returns {rgba, any}: ``any`` says whether anything is set.
 */
export function flagsToMask(flags, sourceWidth, sourceHeight, width, height, rgb) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  const [r, g, b] = rgb;
  let any = false;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(sourceHeight - 1, Math.floor((y * sourceHeight) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(sourceWidth - 1, Math.floor((x * sourceWidth) / width));
      if (!flags[sy * sourceWidth + sx]) continue;
      const i = (y * width + x) * 4;
      rgba[i] = r; rgba[i + 1] = g; rgba[i + 2] = b; rgba[i + 3] = 255;
      any = true;
    }
  }
  return { rgba, any };
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
