// The mask editor: a picture and a mask painted over it, at the picture's own resolution, or for a
// picture over 4096 px on its long side, at a proxy of the same shape (mask.js, proxySize): a 48 MP
// photo would need some 600 MB of canvases at full size. The server scales the proxy-size mask
// back up to the picture, nearest-neighbour.
//
// Mask pixels are canvas pixels. The canvases are never resized to the screen; zoom and pan
// are a CSS transform on their common parent, and every pointer position is mapped through the
// mask canvas's getBoundingClientRect(), so page zoom, CSS scaling and the device pixel ratio
// all cancel out and the brush paints exactly under the cursor.
//
// The mask itself, what is drawn on it and its undo history live in mask-layer.js. The picture is
// an <img>, which the browser decodes at the scale it is shown.

import { createMaskLayer, growBox } from "./mask-layer.js";
import { proxySize, selectMaskPixels } from "./mask.js";

const MIN_SCALE_FACTOR = 0.25; // of the fit scale
const MAX_SCALE = 16;
const MIN_BRUSH = 1;
const MAX_BRUSH = 500;
// A pen's lightest touch still paints this share of the brush size.
const MIN_PEN_SHARE = 0.15;

export const TOOLS = ["brush", "eraser", "rect", "lasso"];

export function createMaskEditor(container, { onChange = () => {} } = {}) {
  const stage = container.querySelector("[data-stage]");
  const view = container.querySelector("[data-view]");
  const picture = container.querySelector("[data-picture]");
  const maskCanvas = container.querySelector("[data-mask]");
  const cursor = container.querySelector("[data-cursor]");
  const rectPreview = container.querySelector("[data-rect-preview]");
  const lassoPreview = container.querySelector("[data-lasso-preview]");
  const lassoOutline = lassoPreview.querySelector("svg");
  const lassoPath = lassoOutline.querySelector("polyline");
  const layer = createMaskLayer(maskCanvas, { onChange });

  const state = {
    width: 0, height: 0, pictureWidth: 0, pictureHeight: 0, loaded: false,
    tool: "brush", brushSize: 40, colour: "#ff2d55", opacity: 0.55, visible: true,
    scale: 1, tx: 0, ty: 0,
  };
  const pointers = new Map(); // pointerId -> {x, y, type}
  let action = null; // the gesture in progress: {kind: "paint"|"rect"|"lasso"|"pan"|"pinch", ...}
  let penSeen = false;
  let spaceHeld = false;

  // ---- coordinates -------------------------------------------------------------------------

  function toImage(clientX, clientY) {
    const rect = maskCanvas.getBoundingClientRect();
    return {
      x: ((clientX - rect.left) / rect.width) * state.width,
      y: ((clientY - rect.top) / rect.height) * state.height,
    };
  }

  /** Screen pixels (CSS px, in the stage's own space) per picture pixel. */
  function screenScale() {
    const rect = maskCanvas.getBoundingClientRect();
    return rect.width / state.width;
  }

  function applyView() {
    view.style.transform = `translate(${state.tx}px, ${state.ty}px) scale(${state.scale})`;
    container.dataset.zoom = String(Math.round(state.scale * 100));
    onChange("view");
  }

  function stageSize() {
    // offsetWidth/Height are layout sizes, unaffected by transforms: the space the view lives in.
    return { w: stage.clientWidth, h: stage.clientHeight };
  }

  function fitScale() {
    const { w, h } = stageSize();
    return Math.min(w / state.width, h / state.height);
  }

  function fit() {
    if (!state.loaded) return;
    const { w, h } = stageSize();
    state.scale = fitScale();
    state.tx = (w - state.width * state.scale) / 2;
    state.ty = (h - state.height * state.scale) / 2;
    applyView();
  }

  function actualSize() {
    if (!state.loaded) return;
    const { w, h } = stageSize();
    zoomAround(w / 2, h / 2, 1 / state.scale);
  }

  /** Zoom by factor keeping the stage point (sx, sy) (layout px) fixed. */
  function zoomAround(sx, sy, factor) {
    const min = fitScale() * MIN_SCALE_FACTOR;
    const scale = Math.min(MAX_SCALE, Math.max(min, state.scale * factor));
    const k = scale / state.scale;
    state.tx = sx - (sx - state.tx) * k;
    state.ty = sy - (sy - state.ty) * k;
    state.scale = scale;
    applyView();
  }

  /** Client coordinates to the stage's layout coordinates (CSS zoom on ancestors divides out). */
  function toStage(clientX, clientY) {
    const rect = stage.getBoundingClientRect();
    const k = stage.clientWidth / rect.width || 1;
    return { x: (clientX - rect.left) * k, y: (clientY - rect.top) * k, k };
  }

  /** The brush's width for a pointer event: its full size, or for a pen, scaled by the pressure. */
  function strokeWidth(event) {
    if (event.pointerType !== "pen" || !(event.pressure > 0)) return state.brushSize;
    return state.brushSize * Math.max(MIN_PEN_SHARE, Math.min(1, event.pressure));
  }

  // ---- loading -----------------------------------------------------------------------------

  /** Show ``url`` in the picture <img>; resolves once its size is known, rejects if it cannot be read. */
  function showPicture(url) {
    return new Promise((resolve, reject) => {
      picture.onload = resolve;
      picture.onerror = () => reject(new Error("The picture cannot be read"));
      picture.src = url;
    });
  }

  /**
   * Show a picture (a Blob the browser can read) upright; the mask is cleared and history
   * forgotten. ``pictureSize`` is the full picture's size when the blob is a smaller proxy of it;
   * a blob over 4096 px is itself painted on at proxy size. Resolves to the full picture's size.
   */
  async function loadImage(blob, pictureSize = null) {
    const previous = picture.src;
    await showPicture(URL.createObjectURL(blob));
    if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
    const proxy = proxySize(picture.naturalWidth, picture.naturalHeight);
    state.width = proxy.width;
    state.height = proxy.height;
    state.pictureWidth = pictureSize ? pictureSize.width : picture.naturalWidth;
    state.pictureHeight = pictureSize ? pictureSize.height : picture.naturalHeight;
    layer.reset(state.width, state.height);
    view.style.width = `${state.width}px`;
    view.style.height = `${state.height}px`;
    state.loaded = true;
    container.dataset.loaded = "true";
    setBrushSize(Math.round(Math.max(8, Math.min(state.width, state.height) / 18)));
    fit();
    onChange("picture");
    onChange("mask");
    return { width: state.pictureWidth, height: state.pictureHeight };
  }

  /**
   * Use a mask file as the mask, as an undoable action. Colours follow the server's rule:
   * with mask colours, a pixel within 8 per channel of one is repaint; without, a mask with
   * any transparency is repaint where opaque, else where luminance >= 128. A mask of another
   * size but the same shape is scaled nearest-neighbour. Returns null or a plain-words refusal.
   */
  async function loadMask(blob, colours = []) {
    if (!state.loaded) return "Choose the picture first, then its mask.";
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob, { imageOrientation: "from-image", premultiplyAlpha: "none", colorSpaceConversion: "none" });
    } catch {
      return "This mask file cannot be read: use a PNG, JPEG or BMP picture.";
    }
    const { width, height } = bitmap;
    if (Math.abs(width / height / (state.width / state.height) - 1) > 0.01) {
      bitmap.close();
      return `The mask is ${width} × ${height} pixels but the picture is ${state.pictureWidth} × ${state.pictureHeight}; the mask must have the picture's shape.`;
    }
    // A mask larger than the canvas (a full-size mask over a proxy) is sampled down at once,
    // nearest-neighbour, so its full-size pixels are never held.
    const larger = width > state.width && height > state.height;
    const source = document.createElement("canvas");
    source.width = larger ? state.width : width;
    source.height = larger ? state.height : height;
    const sourceCtx = source.getContext("2d", { willReadFrequently: true });
    sourceCtx.imageSmoothingEnabled = false;
    sourceCtx.drawImage(bitmap, 0, 0, source.width, source.height);
    bitmap.close();
    const selected = selectMaskPixels(sourceCtx.getImageData(0, 0, source.width, source.height).data, colours);
    if (!layer.useFlags(selected, source.width, source.height)) {
      return colours.length
        ? "The mask has no pixels of the chosen mask colours; check the colours."
        : "The mask file is empty: it marks nothing to repaint.";
    }
    return null;
  }

  // ---- settings ----------------------------------------------------------------------------

  function setTool(tool) {
    if (!TOOLS.includes(tool)) throw new Error(`Unknown tool ${tool}`);
    state.tool = tool;
    container.dataset.tool = tool;
    onChange("tool");
  }

  function setBrushSize(size) {
    state.brushSize = Math.round(Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, size)));
    updateCursorSize();
    onChange("brush");
  }

  function setColour(colour) {
    state.colour = colour;
    layer.setColour(colour);
    onChange("overlay");
  }

  function setOpacity(opacity) {
    state.opacity = opacity;
    maskCanvas.style.opacity = state.visible ? String(opacity) : "0";
    onChange("overlay");
  }

  function setVisible(visible) {
    state.visible = visible;
    setOpacity(state.opacity);
  }

  // ---- pointer input -----------------------------------------------------------------------

  function updateCursorSize() {
    if (!state.loaded) return;
    const { k } = toStage(0, 0);
    const diameter = state.brushSize * screenScale() * k;
    cursor.style.width = cursor.style.height = `${diameter}px`;
  }

  function moveCursor(event) {
    const { x, y } = toStage(event.clientX, event.clientY);
    cursor.style.transform = `translate(${x}px, ${y}px) translate(-50%, -50%)`;
    updateCursorSize();
  }

  function touchPointers() {
    return [...pointers.values()].filter((p) => p.type === "touch");
  }

  function startPinch() {
    if (action && ["paint", "rect", "lasso"].includes(action.kind)) cancelAction();
    const [a, b] = touchPointers();
    const mid = toStage((a.x + b.x) / 2, (a.y + b.y) / 2);
    action = {
      kind: "pinch", distance: Math.hypot(a.x - b.x, a.y - b.y) || 1,
      scale: state.scale, tx: state.tx, ty: state.ty, mid,
    };
  }

  function onPointerDown(event) {
    if (!state.loaded) return;
    if (event.pointerType === "pen") penSeen = true;
    // Palm rejection: once a pen has been seen, touches are hands, not brushes.
    if (event.pointerType === "touch" && penSeen) return;
    if (event.pointerType === "mouse" && event.button !== 0 && event.button !== 1) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, type: event.pointerType });
    if (event.pointerType === "touch" && touchPointers().length >= 2) {
      startPinch();
      return;
    }
    if (action) return;
    if (spaceHeld || event.button === 1) {
      action = { kind: "pan", id: event.pointerId, x: event.clientX, y: event.clientY, tx: state.tx, ty: state.ty };
      container.dataset.panning = "true";
      return;
    }
    const point = toImage(event.clientX, event.clientY);
    const erase = state.tool === "eraser" || (["rect", "lasso"].includes(state.tool) && event.altKey);
    if (state.tool === "rect") {
      action = { kind: "rect", id: event.pointerId, start: point, end: point, erase };
      showRectPreview(point, point, erase);
      return;
    }
    if (state.tool === "lasso") {
      action = { kind: "lasso", id: event.pointerId, points: [point], erase };
      showLassoPreview(action.points, erase);
      return;
    }
    const r = state.brushSize / 2 + 2;
    action = { kind: "paint", id: event.pointerId, last: point, erase, box: { x0: point.x - r, y0: point.y - r, x1: point.x + r, y1: point.y + r } };
    layer.paintSegment(point, point, erase, strokeWidth(event));
  }

  function onPointerMove(event) {
    if (event.pointerType !== "touch") moveCursor(event);
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, type: event.pointerType });
    if (!action) return;
    if (action.kind === "pinch") {
      const [a, b] = touchPointers();
      if (!a || !b) return;
      const mid = toStage((a.x + b.x) / 2, (a.y + b.y) / 2);
      const min = fitScale() * MIN_SCALE_FACTOR;
      const scale = Math.min(MAX_SCALE, Math.max(min, action.scale * (Math.hypot(a.x - b.x, a.y - b.y) / action.distance)));
      // The picture point under the first midpoint follows the fingers' midpoint.
      const k = scale / action.scale;
      state.scale = scale;
      state.tx = mid.x - (action.mid.x - action.tx) * k;
      state.ty = mid.y - (action.mid.y - action.ty) * k;
      applyView();
      return;
    }
    if (event.pointerId !== action.id) return;
    if (action.kind === "pan") {
      const { k } = toStage(0, 0);
      state.tx = action.tx + (event.clientX - action.x) * k;
      state.ty = action.ty + (event.clientY - action.y) * k;
      applyView();
      return;
    }
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const point = toImage(e.clientX, e.clientY);
      if (action.kind === "rect") {
        action.end = point;
      } else if (action.kind === "lasso") {
        action.points.push(point);
      } else {
        layer.paintSegment(action.last, point, action.erase, strokeWidth(e));
        growBox(action.box, point, state.brushSize / 2 + 2);
        action.last = point;
      }
    }
    if (action.kind === "rect") showRectPreview(action.start, action.end, action.erase);
    if (action.kind === "lasso") showLassoPreview(action.points, action.erase);
  }

  function onPointerUp(event) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (!action) return;
    if (action.kind === "pinch") {
      if (touchPointers().length < 2) action = null;
      return;
    }
    if (event.pointerId !== action.id) return;
    if (action.kind === "paint") layer.commit(action.box);
    if (action.kind === "rect") {
      rectPreview.hidden = true;
      layer.fillRect(action.start, toImage(event.clientX, event.clientY), action.erase);
    }
    if (action.kind === "lasso") {
      lassoPreview.hidden = true;
      layer.fillLasso([...action.points, toImage(event.clientX, event.clientY)], action.erase);
    }
    if (action.kind === "pan") delete container.dataset.panning;
    action = null;
  }

  function cancelAction() {
    if (!action) return;
    if (action.kind === "paint") layer.revert(action.box);
    if (action.kind === "rect") rectPreview.hidden = true;
    if (action.kind === "lasso") lassoPreview.hidden = true;
    delete container.dataset.panning;
    action = null;
  }

  function onPointerCancel(event) {
    pointers.delete(event.pointerId);
    cancelAction();
  }

  function showRectPreview(a, b, erase) {
    rectPreview.hidden = false;
    rectPreview.classList.toggle("erase", erase);
    Object.assign(rectPreview.style, {
      left: `${Math.min(a.x, b.x)}px`, top: `${Math.min(a.y, b.y)}px`,
      width: `${Math.abs(a.x - b.x)}px`, height: `${Math.abs(a.y - b.y)}px`,
      borderWidth: `${Math.max(1, 1.5 / state.scale)}px`,
    });
  }

  function showLassoPreview(points, erase) {
    lassoPreview.hidden = false;
    lassoPreview.classList.toggle("erase", erase);
    lassoOutline.setAttribute("viewBox", `0 0 ${state.width} ${state.height}`);
    lassoPath.setAttribute("points", points.map((p) => `${p.x},${p.y}`).join(" "));
  }

  function onWheel(event) {
    if (!state.loaded) return;
    event.preventDefault();
    if (event.altKey) {
      setBrushSize(state.brushSize * Math.exp(-event.deltaY * 0.002));
      return;
    }
    const { x, y } = toStage(event.clientX, event.clientY);
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    zoomAround(x, y, Math.exp(-delta * (event.ctrlKey ? 0.01 : 0.0015)));
    moveCursor(event);
  }

  stage.addEventListener("pointerdown", onPointerDown);
  stage.addEventListener("pointermove", onPointerMove);
  stage.addEventListener("pointerup", onPointerUp);
  stage.addEventListener("pointercancel", onPointerCancel);
  stage.addEventListener("lostpointercapture", (event) => {
    if (pointers.has(event.pointerId)) onPointerUp(event);
  });
  stage.addEventListener("pointerleave", () => container.classList.remove("hovering"));
  stage.addEventListener("pointerenter", () => container.classList.add("hovering"));
  stage.addEventListener("wheel", onWheel, { passive: false });
  stage.addEventListener("contextmenu", (event) => event.preventDefault());
  new ResizeObserver(() => { if (state.loaded && !action) fit(); }).observe(stage);

  function setSpaceHeld(held) {
    spaceHeld = held;
    container.classList.toggle("space-pan", held);
  }

  return {
    loadImage, loadMask, fit, actualSize,
    maskBlob: () => (state.loaded ? layer.png() : Promise.reject(new Error("No picture"))),
    maskCoverage: () => layer.coverage(),
    clear: () => layer.clear(),
    invert: () => layer.invert(),
    growMask: (pixels) => layer.grow(pixels),
    undo: () => layer.undo(),
    redo: () => layer.redo(),
    setTool, setBrushSize, setColour, setOpacity, setVisible, setSpaceHeld,
    zoomBy: (factor) => { const { w, h } = stageSize(); zoomAround(w / 2, h / 2, factor); },
    get state() {
      return {
        width: state.width, height: state.height, pictureWidth: state.pictureWidth, pictureHeight: state.pictureHeight,
        loaded: state.loaded, tool: state.tool,
        brushSize: state.brushSize, colour: state.colour, opacity: state.opacity, visible: state.visible,
        scale: state.scale, canUndo: layer.canUndo, canRedo: layer.canRedo,
      };
    },
  };
}
