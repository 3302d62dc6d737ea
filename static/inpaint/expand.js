// "Extend the picture" on the canvas: an outline of the extended size over the stage, a handle on each edge to drag
// it out, and the presets; all of them write the form's four scale fields (the API's names), which the server
// checks again. The geometry is expand-geometry.js's.
import { gettext, interpolate } from "./i18n.js";
import { expandDrag, expandedSize, expandPresetAspect, expandPresetScale } from "./expand-geometry.js";

const EDGES = { top_scale: [0, -1], bottom_scale: [0, 1], left_scale: [-1, 0], right_scale: [1, 0] };
// Each handle's name for a screen reader, whole sentences so that each language can word its own.
const HANDLE_LABELS = {
  top_scale: gettext("Drag to extend the top edge"), bottom_scale: gettext("Drag to extend the bottom edge"),
  left_scale: gettext("Drag to extend the left edge"), right_scale: gettext("Drag to extend the right edge"),
};

/** Wire the outline and handles into ``stage`` for ``editor``; returns refresh(), to call when anything moved. */
export function expandWire(stage, editor, options) {
  const expand = options.expand;
  const outline = document.createElement("div");
  outline.className = "expand-outline";
  outline.dataset.testid = "expand-outline";
  outline.hidden = true;
  const handles = Object.fromEntries(Object.keys(EDGES).map((side) => {
    const handle = document.createElement("button");
    handle.type = "button";
    handle.className = "expand-handle";
    handle.dataset.testid = `expand-handle-${side.split("_")[0]}`;
    handle.setAttribute("aria-label", HANDLE_LABELS[side]);
    handle.hidden = true;
    stage.append(handle);
    return [side, handle];
  }));
  stage.append(outline);

  const form = () => document.getElementById("job-form");
  const field = (side) => form().querySelector(`[name=${side}]`);
  const scales = () => Object.fromEntries(expand.sides.map((side) => [side, Number(field(side).value) || expand.min]));
  // Chosen, for an engine that takes it (studio.js hides the controls of the others).
  const chosen = () => {
    const choice = form().querySelector("[name=function]:checked");
    const control = form().querySelector("[data-control=function]");
    return Boolean(choice && choice.value === "expand" && control && !control.hidden);
  };
  const write = (values) => {
    for (const [side, value] of Object.entries(values)) field(side).value = String(value);
    refresh();
  };

  function refresh() {
    const panel = form().querySelector("[data-expand-controls]");
    if (panel) panel.hidden = !chosen();
    // The whole picture is sent: how much context around a painted area it gets means nothing here.
    const context = form().querySelector("[data-control=context]");
    if (context && chosen()) context.hidden = true;
    const on = chosen() && editor.state.loaded;
    outline.hidden = !on;
    Object.values(handles).forEach((handle) => { handle.hidden = !on; });
    const sizeNote = form().querySelector("[data-expand-size]");
    if (!on) {
      if (sizeNote) sizeNote.textContent = "";
      return;
    }
    const { pictureWidth: width, pictureHeight: height } = editor.state;
    const canvas = stage.querySelector("[data-mask]").getBoundingClientRect();
    const box = stage.getBoundingClientRect();
    const unit = canvas.width / width; // screen pixels a picture pixel
    const size = expandedSize(width, height, scales());
    const left = canvas.left - box.left - size.left * unit;
    const top = canvas.top - box.top - size.top * unit;
    Object.assign(outline.style, { left: `${left}px`, top: `${top}px`, width: `${size.width * unit}px`,
                                   height: `${size.height * unit}px` });
    // Each handle sits at its edge's middle, kept on the stage when the outline reaches past it.
    const inside = (value, limit) => Math.min(limit - 12, Math.max(12, value));
    for (const [side, [dx, dy]] of Object.entries(EDGES)) {
      const x = dx === 0 ? left + (size.width * unit) / 2 : left + (dx > 0 ? size.width * unit : 0);
      const y = dy === 0 ? top + (size.height * unit) / 2 : top + (dy > 0 ? size.height * unit : 0);
      Object.assign(handles[side].style, { left: `${inside(x, box.width)}px`, top: `${inside(y, box.height)}px` });
    }
    if (sizeNote) {
      sizeNote.textContent = interpolate(gettext("The extended picture: %(width)s × %(height)s pixels."),
                                         { width: size.width, height: size.height });
    }
  }

  for (const [side, [dx, dy]] of Object.entries(EDGES)) {
    const handle = handles[side];
    let drag = null;
    handle.addEventListener("pointerdown", (event) => {
      event.stopPropagation();
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      const unit = stage.querySelector("[data-mask]").getBoundingClientRect().width / editor.state.pictureWidth;
      drag = { x: event.clientX, y: event.clientY, start: scales()[side], unit };
    });
    handle.addEventListener("pointermove", (event) => {
      event.stopPropagation();
      if (!drag) return;
      const outwards = ((event.clientX - drag.x) * dx + (event.clientY - drag.y) * dy) / drag.unit;
      const { pictureWidth: width, pictureHeight: height } = editor.state;
      write({ [side]: expandDrag(expand, side, drag.start, outwards, width, height) });
    });
    const end = (event) => { event.stopPropagation(); drag = null; };
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  document.addEventListener("click", (event) => {
    const preset = event.target.closest("[data-expand-scale], [data-expand-aspect]");
    if (!preset || !editor.state.loaded) return;
    const { pictureWidth: width, pictureHeight: height } = editor.state;
    write(preset.dataset.expandScale ? expandPresetScale(expand, Number(preset.dataset.expandScale))
      : expandPresetAspect(expand, width, height, preset.dataset.expandAspect.split(":").map(Number)));
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("#job-form [name=function]")) refresh();
  });
  document.addEventListener("input", (event) => {
    if (expand.sides.includes(event.target.name)) refresh();
  });
  window.addEventListener("resize", refresh);
  return refresh;
}
