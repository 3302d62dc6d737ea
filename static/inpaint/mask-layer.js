// The mask layer: the canvas that shows the mask over the picture, what is drawn on it, and its
// undo history.
//
// The canvas keeps the mask in its alpha channel, drawn in the overlay colour; anything at alpha
// >= 128 is "repaint". Everything else keeps alpha only, one byte a pixel (mask.js): the committed
// mask and, per action, the before and after of the rectangle it touched, for undo and redo (a
// full-size RGBA snapshot per stroke would cost 50 MB at 4096 × 3072). Between actions the
// committed alpha is what the canvas shows, so whole-mask work (grow, invert, export) reads it and
// never the canvas; the canvas is read and written in bands of rows, so no full-size RGBA copy is
// held beside it.

import {
  alphaRegion, alphaRegionPut, alphaToRgba, flagsToMask, greyPng, hexToRgb, maskCoverage, maskExport, maskGrow,
  maskInvert, rgbaAlpha,
} from "./mask.js";

const HISTORY_LIMIT = 60;
// Rows read or written at a time: a 4096-wide band is 4 MB of RGBA.
const BAND_ROWS = 256;

/** Widen ``box`` ({x0, y0, x1, y1}) to take in a circle of radius ``r`` around ``p``. */
export function growBox(box, p, r) {
  box.x0 = Math.min(box.x0, p.x - r); box.y0 = Math.min(box.y0, p.y - r);
  box.x1 = Math.max(box.x1, p.x + r); box.y1 = Math.max(box.y1, p.y + r);
}

export function createMaskLayer(canvas, { onChange = () => {} } = {}) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let width = 0, height = 0, colour = "#ff2d55";
  // The mask's alpha as it was after the last finished action: the "before" of the next one.
  let committed = new Uint8Array(0);
  let undoStack = [], redoStack = [];

  /** A new, empty mask of width × height; the history is forgotten. */
  function reset(newWidth, newHeight) {
    canvas.width = width = newWidth;
    canvas.height = height = newHeight;
    committed = new Uint8Array(width * height);
    undoStack = [];
    redoStack = [];
  }

  function clampBox(box) {
    const x0 = Math.max(0, Math.floor(box.x0)), y0 = Math.max(0, Math.floor(box.y0));
    const x1 = Math.min(width, Math.ceil(box.x1)), y1 = Math.min(height, Math.ceil(box.y1));
    return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
  }

  const fullArea = () => ({ x: 0, y: 0, w: width, h: height });

  /** The canvas's alpha inside ``area``, read a band of rows at a time. */
  function readAlpha(area) {
    const out = new Uint8Array(area.w * area.h);
    for (let row = 0; row < area.h; row += BAND_ROWS) {
      const rows = Math.min(BAND_ROWS, area.h - row);
      out.set(rgbaAlpha(ctx.getImageData(area.x, area.y + row, area.w, rows).data), row * area.w);
    }
    return out;
  }

  /** Draw ``alpha`` (area.w × area.h) into the canvas at ``area``, in the overlay colour. */
  function writeAlpha(area, alpha) {
    const rgb = hexToRgb(colour);
    for (let row = 0; row < area.h; row += BAND_ROWS) {
      const rows = Math.min(BAND_ROWS, area.h - row);
      const band = alphaToRgba(alpha.subarray(row * area.w, (row + rows) * area.w), rgb);
      ctx.putImageData(new ImageData(band, area.w, rows), area.x, area.y + row);
    }
  }

  /** Record what the last drawing on the canvas changed inside box, so it can be undone. */
  function commit(box) {
    const area = clampBox(box);
    if (area) record(area, readAlpha(area));
  }

  /** Make ``after`` the committed mask inside ``area``, as one undoable action. */
  function record(area, after) {
    const before = alphaRegion(committed, width, area);
    if (before.every((v, i) => v === after[i])) return;
    alphaRegionPut(committed, width, area, after);
    undoStack.push({ area, before, after });
    if (undoStack.length > HISTORY_LIMIT) undoStack.shift();
    redoStack = [];
    onChange("mask");
  }

  /** Throw away the drawing in progress inside box: put back the committed pixels. */
  function revert(box) {
    const area = clampBox(box);
    if (area) writeAlpha(area, alphaRegion(committed, width, area));
  }

  function step(from, to, key) {
    const entry = from.pop();
    if (!entry) return false;
    writeAlpha(entry.area, entry[key]);
    alphaRegionPut(committed, width, entry.area, entry[key]);
    to.push(entry);
    onChange("mask");
    return true;
  }

  function clear() {
    ctx.clearRect(0, 0, width, height);
    record(fullArea(), new Uint8Array(committed.length));
  }

  /** Swap painted and unpainted, every pixel fully in or out, so what is shown is what is sent. */
  function invert() {
    const alpha = committed.slice();
    maskInvert(alpha);
    writeAlpha(fullArea(), alpha);
    record(fullArea(), alpha);
  }

  /** Grow the mask by ``pixels`` canvas pixels all round (shrink it when negative), as one undoable action. */
  function grow(pixels) {
    const alpha = committed.slice();
    const area = maskGrow(alpha, width, height, pixels);
    if (!area) return;
    const grown = alphaRegion(alpha, width, area);
    writeAlpha(area, grown);
    record(area, grown);
  }

  /** A brush stroke from ``from`` to ``to`` (a dot when they are the same point), not yet committed. */
  function paintSegment(from, to, erase, lineWidth) {
    ctx.save();
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.lineWidth = lineWidth;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    if (from.x === to.x && from.y === to.y) {
      ctx.arc(to.x, to.y, lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Fill (or, with erase, clear) the rectangle between corners ``a`` and ``b``, as one undoable action. */
  function fillRect(a, b, erase) {
    const area = clampBox({ x0: Math.round(Math.min(a.x, b.x)), y0: Math.round(Math.min(a.y, b.y)),
      x1: Math.round(Math.max(a.x, b.x)), y1: Math.round(Math.max(a.y, b.y)) });
    if (!area) return;
    ctx.save();
    ctx.fillStyle = colour;
    if (erase) ctx.clearRect(area.x, area.y, area.w, area.h);
    else ctx.fillRect(area.x, area.y, area.w, area.h);
    ctx.restore();
    record(area, readAlpha(area));
  }

  /** Fill (or, with erase, clear) the closed outline through ``points``, as one undoable action. */
  function fillLasso(points, erase) {
    if (points.length < 3) return;
    const box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    for (const p of points) growBox(box, p, 2);
    ctx.save();
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (const p of points.slice(1)) ctx.lineTo(p.x, p.y);
    ctx.closePath();
    ctx.fill();
    ctx.restore();
    commit(box);
  }

  /** Make flags (1 = repaint) of a sourceWidth × sourceHeight grid the mask, scaled nearest-neighbour,
   * as one undoable action. Returns whether anything is to be repainted. */
  function useFlags(flags, sourceWidth, sourceHeight) {
    const { alpha, any } = flagsToMask(flags, sourceWidth, sourceHeight, width, height);
    writeAlpha(fullArea(), alpha);
    record(fullArea(), alpha);
    return any;
  }

  /** The mask as the server stores it: a greyscale PNG, white (255) = repaint on black, the canvas's size. */
  async function png() {
    return new Blob([await greyPng(maskExport(committed), width, height)], { type: "image/png" });
  }

  function setColour(newColour) {
    colour = newColour;
    ctx.save();
    ctx.globalCompositeOperation = "source-in";
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  }

  return {
    reset, commit, revert, clear, invert, grow, paintSegment, fillRect, fillLasso, useFlags, png, setColour,
    undo: () => step(undoStack, redoStack, "before"),
    redo: () => step(redoStack, undoStack, "after"),
    coverage: () => maskCoverage(committed),
    get canUndo() { return undoStack.length > 0; },
    get canRedo() { return redoStack.length > 0; },
  };
}
