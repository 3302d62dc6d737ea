// The mask editor's pointer gestures (editor.js): painting, rectangles, lassos, panning, pinching
// and the wheel, with a pen's pressure and palm rejection. Every position goes through the editor's
// coordinate mapping (``toImage``, ``toStage``), so the brush paints exactly under the cursor.

import { createLiveStroke } from "./live-stroke.js";
import { growBox } from "./mask-layer.js";

// A pen's lightest touch still paints this share of the brush size.
const MIN_PEN_SHARE = 0.15;

/**
 * Listen to the stage's pointers for the editor ``editor``: its elements, mask layer, live state and
 * view functions (see createMaskEditor). Returns {busy, setSpaceHeld, showRect, hideRect}: ``busy()`` says
 * whether a gesture is in progress, ``setSpaceHeld`` makes the primary button pan while Space is down, and
 * ``showRect(a, b, erase)`` / ``hideRect()`` draw the rectangle preview (also for the keyboard's rectangle).
 */
export function gesturesWire(editor) {
  const {
    container, stage, cursor, rectPreview, lassoPreview, liveCanvas, layer, state,
    toImage, toStage, clampScale, applyView, zoomAround, updateCursorSize, setBrushSize,
  } = editor;
  // A brush stroke is drawn on the stage-sized canvas until it ends; the eraser shows on the mask itself.
  const live = createLiveStroke(liveCanvas, stage);
  const lassoOutline = lassoPreview.querySelector("svg");
  const lassoPath = lassoOutline.querySelector("polyline");
  const pointers = new Map(); // pointerId -> {x, y, type}
  let action = null; // the gesture in progress: {kind: "paint"|"rect"|"lasso"|"pan"|"pinch", ...}
  let penSeen = false;
  let spaceHeld = false;

  /** The brush's width for a pointer event: its full size, or for a pen, scaled by the pressure. */
  function strokeWidth(event) {
    if (event.pointerType !== "pen" || !(event.pressure > 0)) return state.brushSize;
    return state.brushSize * Math.max(MIN_PEN_SHARE, Math.min(1, event.pressure));
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
    if (!erase) live.begin(state.colour);
    paintSegment(point, point, strokeWidth(event));
  }

  function paintSegment(from, to, width) {
    if (action.erase) layer.paintSegment(from, to, true, width);
    else live.segment(from, to, width, state);
  }

  /** The stroke in progress laid into the mask, once, as one undoable action. */
  function paintEnd() {
    for (const { from, to, width } of live.end()) layer.paintSegment(from, to, false, width);
    layer.commit(action.box);
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
      const scale = clampScale(action.scale * (Math.hypot(a.x - b.x, a.y - b.y) / action.distance));
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
        paintSegment(action.last, point, strokeWidth(e));
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
    if (action.kind === "paint") paintEnd();
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
    if (action.kind === "paint") {
      live.end();
      layer.revert(action.box);
    }
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

  function setSpaceHeld(held) {
    spaceHeld = held;
    container.classList.toggle("space-pan", held);
  }

  return {
    busy: () => action !== null, setSpaceHeld, showRect: showRectPreview, hideRect: () => { rectPreview.hidden = true; },
    /** The view changed: a stroke in progress is drawn again where the picture now is. */
    viewChanged: () => { if (live.active) live.redraw(state); },
  };
}
