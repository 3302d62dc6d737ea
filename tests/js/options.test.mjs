// Reading the page's options (static/inpaint/options.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { brushClamp, controlsShown, engineOptions, maskColoursParse, optionsRead } from "../../static/inpaint/options.js";

// What inpaint.options.options_for_page writes for two engines (tests/test_options.py checks the server's side).
const OPTIONS = {
  brush: { min: 1, max: 500, default: 40 },
  proxy_max_side: 4096,
  mask_colours: {
    tolerance: 8,
    messages: { syntax: "Write the mask colours as a list.", values: "Each mask colour must be three numbers." },
  },
  controls: ["context", "edge_softness", "n", "size", "style"],
  engines: {
    painter: { controls: ["context", "edge_softness", "n", "size", "style"], follows_prompt: true, max_prompt: 75 },
    editor: { controls: ["context", "edge_softness", "n", "size"], follows_prompt: true, max_prompt: 800 },
  },
};

test("the options are read from the page's json_script block", () => {
  const doc = { getElementById: (id) => (id === "inpaint-options" ? { textContent: JSON.stringify(OPTIONS) } : null) };
  assert.deepEqual(optionsRead(doc), OPTIONS);
});

test("an engine shows the controls it declares and no other", () => {
  assert.deepEqual(controlsShown(OPTIONS, "painter"), { context: true, edge_softness: true, n: true, size: true, style: true });
  assert.deepEqual(controlsShown(OPTIONS, "editor"), { context: true, edge_softness: true, n: true, size: true, style: false });
});

test("an engine the page does not know shows no optional control", () => {
  assert.equal(engineOptions(OPTIONS, "gone"), null);
  assert.ok(Object.values(controlsShown(OPTIONS, "gone")).every((shown) => !shown));
});

test("the brush stays within its range, in whole pixels", () => {
  assert.equal(brushClamp(OPTIONS, 0), 1);
  assert.equal(brushClamp(OPTIONS, 499.6), 500);
  assert.equal(brushClamp(OPTIONS, 900), 500);
  assert.equal(brushClamp(OPTIONS, 33.4), 33);
});

test("mask colours are a list of red, green, blue; the refusals are the server's messages", () => {
  assert.deepEqual(maskColoursParse(OPTIONS, "  "), []);
  assert.deepEqual(maskColoursParse(OPTIONS, "[[0, 0, 0], [134, 134, 134]]"), [[0, 0, 0], [134, 134, 134]]);
  assert.throws(() => maskColoursParse(OPTIONS, "[[0, 0"), { message: OPTIONS.mask_colours.messages.syntax });
  for (const text of ["[[0, 0, 256]]", "[[0, 0]]", "[[0.5, 0, 0]]", "{\"r\": 0}", "[0, 0, 0]"]) {
    assert.throws(() => maskColoursParse(OPTIONS, text), { message: OPTIONS.mask_colours.messages.values }, text);
  }
});
