// What "Upscale" (wanx2.1-imageedit function=super_resolution) makes of a picture, as the server reckons it
// (inpaint/images_upscale.py): the finished size, and whether the engine takes the picture whole. A pure function
// of the engine's sides (options.engines[key].sides), checked by Node's test runner (tests/js/upscale-size.test.mjs).

/**
 * ``width`` × ``height`` upscaled ``factor`` times by an engine of ``[minSide, maxSide]``: the finished size, and
 * ``largest``, the longest side it takes whole (a picture under minSide is first scaled up to it).
 */
export function upscaleSize(width, height, factor, [minSide, maxSide]) {
  const scale = Math.max(1, minSide / Math.min(width, height));
  const sentLonger = Math.max(minSide, Math.round(Math.max(width, height) * scale));
  return { width: width * factor, height: height * factor, fits: sentLonger * factor <= maxSide,
           largest: Math.max(1, Math.round(maxSide / factor / scale)) };
}
