// The options and limits the page shares with the server (inpaint/options.py, options_for_page),
// from the page's one json_script block. Everything but optionsRead takes the parsed object, so
// Node's test runner checks it without a DOM (tests/js/options.test.mjs).

/** The page's options: the parsed content of <script id="inpaint-options">. */
export function optionsRead(doc = document) {
  return JSON.parse(doc.getElementById("inpaint-options").textContent);
}

/** The engine ``key`` as the page knows it: {controls, follows_prompt, max_prompt}, or null. */
export function engineOptions(options, key) {
  return options.engines[key] ?? null;
}

/** Each optional form control, true when the engine ``key`` takes it (none for an unknown engine). */
export function controlsShown(options, key) {
  const engine = engineOptions(options, key);
  return Object.fromEntries(options.controls.map((control) => [control, Boolean(engine && engine.controls.includes(control))]));
}

/** A brush size kept within the brush's range, in whole pixels. */
export function brushClamp(options, size) {
  return Math.round(Math.min(options.brush.max, Math.max(options.brush.min, size)));
}

/**
 * The mask colours written in ``text`` (a JSON list of [red, green, blue]), [] for none; throws an
 * Error with the form's own message (inpaint/forms.py, clean_mask_color) when they are not such a list.
 */
export function maskColoursParse(options, text) {
  const { messages } = options.mask_colours;
  if (!text.trim()) return [];
  let colours;
  try {
    colours = JSON.parse(text);
  } catch {
    throw new Error(messages.syntax);
  }
  const valid = Array.isArray(colours) && colours.every((c) => Array.isArray(c) && c.length === 3
    && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  if (!valid) throw new Error(messages.values);
  return colours;
}
