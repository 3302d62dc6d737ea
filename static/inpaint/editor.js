// The mask editor: a picture and a mask painted over it, at the picture's own resolution, or for a
// picture over the proxy side (4096 px, inpaint/options.py) on its long side, at a proxy of the same shape (mask.js, proxySize): a 48 MP
// photo would need some 600 MB of canvases at full size. The server scales the proxy-size mask
// back up to the picture, nearest-neighbour.
//
// Mask pixels are canvas pixels. The canvases are never resized to the screen; zoom and pan
// are a CSS transform on their common parent, and every pointer position is mapped through the
// mask canvas's getBoundingClientRect(), so page zoom, CSS scaling and the device pixel ratio
// all cancel out and the brush paints exactly under the cursor.
//
// The mask itself, what is drawn on it and its undo history live in mask-layer.js. The picture is
// an <img>, which the browser decodes at the scale it is shown. The pointer gestures live in
// editor-gestures.js.

import { createMaskLayer } from "./mask-layer.js";
import { proxySize, selectMaskPixels } from "./mask.js";
import { gesturesWire } from "./editor-gestures.js";
import { keyboardRectWire } from "./keyboard-rect.js";
import { brushClamp } from "./options.js";
import { gettext, interpolate } from "./i18n.js";

const MIN_SCALE_FACTOR = 0.25; // of the fit scale
const MAX_SCALE = 16;

export const TOOLS = ["brush", "eraser", "rect", "lasso"];

/**
 * The editor in ``container``. ``options`` are the page's (static/inpaint/options.js): the brush's
 * range, the proxy side and the mask-colour tolerance come from there.
 */
export function createMaskEditor(container, { options, onChange = () => {} }) {
  const stage = container.querySelector("[data-stage]");
  const view = container.querySelector("[data-view]");
  const picture = container.querySelector("[data-picture]");
  const maskCanvas = container.querySelector("[data-mask]");
  const cursor = container.querySelector("[data-cursor]");
  const layer = createMaskLayer(maskCanvas, { onChange });
  let gestures = null; // the pointer gestures (editor-gestures.js), wired below
  let keyboardRect = null; // the rectangle tool from the keyboard (keyboard-rect.js), wired below

  const state = {
    width: 0, height: 0, pictureWidth: 0, pictureHeight: 0, loaded: false,
    tool: "brush", brushSize: options.brush.default, colour: "#ff2d55", opacity: 0.55, visible: true,
    scale: 1, tx: 0, ty: 0,
  };

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
    gestures?.viewChanged();
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

  /** A zoom kept between a share of the fit scale and MAX_SCALE. */
  function clampScale(scale) {
    return Math.min(MAX_SCALE, Math.max(fitScale() * MIN_SCALE_FACTOR, scale));
  }

  /** Zoom by factor keeping the stage point (sx, sy) (layout px) fixed. */
  function zoomAround(sx, sy, factor) {
    const scale = clampScale(state.scale * factor);
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
   * a blob over the proxy side is itself painted on at proxy size. Resolves to the full picture's size.
   */
  async function loadImage(blob, pictureSize = null) {
    const previous = picture.src;
    await showPicture(URL.createObjectURL(blob));
    if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
    const proxy = proxySize(picture.naturalWidth, picture.naturalHeight, options.proxy_max_side);
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
   * with mask colours, a pixel within the tolerance per channel of one is repaint; without, a mask with
   * any transparency is repaint where opaque, else where luminance >= 128. A mask of another
   * size but the same shape is scaled nearest-neighbour. Returns null or a plain-words refusal.
   */
  async function loadMask(blob, colours = []) {
    if (!state.loaded) return gettext("Choose the picture first, then its mask.");
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob, { imageOrientation: "from-image", premultiplyAlpha: "none", colorSpaceConversion: "none" });
    } catch {
      return gettext("This mask file cannot be read: use a PNG, JPEG or BMP picture.");
    }
    const { width, height } = bitmap;
    if (Math.abs(width / height / (state.width / state.height) - 1) > 0.01) {
      bitmap.close();
      return interpolate(gettext("The mask is %(mask_width)s × %(mask_height)s pixels but the picture is %(width)s × %(height)s; the mask must have the picture's shape."),
        { mask_width: width, mask_height: height, width: state.pictureWidth, height: state.pictureHeight });
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
    const selected = selectMaskPixels(sourceCtx.getImageData(0, 0, source.width, source.height).data, colours,
      options.mask_colours.tolerance);
    if (!layer.useFlags(selected, source.width, source.height)) {
      return colours.length
        ? gettext("The mask has no pixels of the chosen mask colours; check the colours.")
        : gettext("The mask file is empty: it marks nothing to repaint.");
    }
    return null;
  }

  // ---- settings ----------------------------------------------------------------------------

  function setTool(tool) {
    if (!TOOLS.includes(tool)) throw new Error(`Unknown tool ${tool}`);
    state.tool = tool;
    container.dataset.tool = tool;
    keyboardRect?.toolChanged();
    onChange("tool");
  }

  function setBrushSize(size) {
    state.brushSize = brushClamp(options, size);
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
    // The stroke in progress (live-stroke.js) shows as the mask will.
    container.style.setProperty("--mask-opacity", maskCanvas.style.opacity);
    onChange("overlay");
  }

  function setVisible(visible) {
    state.visible = visible;
    setOpacity(state.opacity);
  }

  // ---- the brush cursor --------------------------------------------------------------------

  function updateCursorSize() {
    if (!state.loaded) return;
    const { k } = toStage(0, 0);
    const diameter = state.brushSize * screenScale() * k;
    cursor.style.width = cursor.style.height = `${diameter}px`;
  }

  gestures = gesturesWire({
    container, stage, cursor, layer, state, toImage, toStage, clampScale, applyView, zoomAround, updateCursorSize,
    setBrushSize, rectPreview: container.querySelector("[data-rect-preview]"),
    liveCanvas: container.querySelector("[data-live-stroke]"),
    lassoPreview: container.querySelector("[data-lasso-preview]"),
  });
  keyboardRect = keyboardRectWire({ stage, state, layer, showRect: gestures.showRect, hideRect: gestures.hideRect });
  new ResizeObserver(() => { if (state.loaded && !gestures.busy()) fit(); }).observe(stage);

  return {
    loadImage, loadMask, fit, actualSize,
    maskBlob: () => (state.loaded ? layer.png() : Promise.reject(new Error("No picture"))),
    maskCoverage: () => layer.coverage(),
    clear: () => layer.clear(),
    invert: () => layer.invert(),
    growMask: (pixels) => layer.grow(pixels),
    undo: () => layer.undo(),
    redo: () => layer.redo(),
    setTool, setBrushSize, setColour, setOpacity, setVisible, setSpaceHeld: gestures.setSpaceHeld,
    zoomBy: (factor) => { const { w, h } = stageSize(); zoomAround(w / 2, h / 2, factor); },
    get state() {
      return {
        width: state.width, height: state.height, pictureWidth: state.pictureWidth, pictureHeight: state.pictureHeight,
        loaded: state.loaded, tool: state.tool,
        brushSize: state.brushSize, colour: state.colour, opacity: state.opacity, visible: state.visible,
        scale: state.scale, tx: state.tx, ty: state.ty, canUndo: layer.canUndo, canRedo: layer.canRedo,
      };
    },
  };
}
