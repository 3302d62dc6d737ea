// How far "Extend the picture" (wanx2.1-imageedit function=expand) takes each edge: the presets, a dragged
// handle, and the extended size, as the server computes it (inpaint/images_expand.py, expansion_of). Pure
// functions of the page's options (options.expand), checked by Node's test runner (tests/js/expand-geometry.test.mjs).

const HUNDREDTHS = 100;

function clampScale(expand, scale) {
  return Math.round(Math.min(expand.max, Math.max(expand.min, scale)) * HUNDREDTHS) / HUNDREDTHS;
}

/** The four sides' scales by their API names, every side at ``scale``'s share of its axis (1 = not extended). */
function scalesOf(expand, { x = 1, y = 1 }) {
  const half = (factor) => clampScale(expand, 1 + (factor - 1) / 2);
  return { top_scale: half(y), bottom_scale: half(y), left_scale: half(x), right_scale: half(x) };
}

/** The scale preset: the picture times ``factor`` each way, its own pixels in the middle. */
export function expandPresetScale(expand, factor) {
  return scalesOf(expand, { x: factor, y: factor });
}

/** The shape preset: the picture extended on its short way, evenly on both sides, to width:height ``aspect``. */
export function expandPresetAspect(expand, width, height, [aspectWidth, aspectHeight]) {
  const wanted = aspectWidth / aspectHeight;
  return width / height < wanted ? scalesOf(expand, { x: (height * wanted) / width })
    : scalesOf(expand, { y: width / wanted / height });
}

/** The scale of ``side`` (e.g. "left_scale") once its handle has moved ``outwards`` picture pixels from ``start``. */
export function expandDrag(expand, side, start, outwards, width, height) {
  const length = side === "left_scale" || side === "right_scale" ? width : height;
  return clampScale(expand, start + outwards / length);
}

/** The extended picture's size and where the picture lies in it, rounded as the server rounds. */
export function expandedSize(width, height, scales) {
  return {
    width: Math.round(width * (scales.left_scale + scales.right_scale - 1)),
    height: Math.round(height * (scales.top_scale + scales.bottom_scale - 1)),
    left: Math.round(width * (scales.left_scale - 1)),
    top: Math.round(height * (scales.top_scale - 1)),
  };
}
