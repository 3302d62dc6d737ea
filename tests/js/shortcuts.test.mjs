// The shortcut table's matching (static/inpaint/shortcuts.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SHORTCUTS, arrowsMoveIn, shortcutFor, shortcutKeys } from "../../static/inpaint/shortcuts.js";

const press = (key, mods = {}) => ({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
const actionOf = (event) => shortcutFor(event)?.action ?? null;

test("letters need the exact modifiers: G grows, Shift+G shrinks, Alt+G and Ctrl+G do nothing", () => {
  assert.equal(actionOf(press("g")), "grow-mask");
  assert.equal(actionOf(press("G", { shiftKey: true })), "shrink-mask");
  assert.equal(actionOf(press("g", { altKey: true })), null);
  assert.equal(actionOf(press("g", { ctrlKey: true })), null);
});

test("Ctrl and ⌘ are the same: undo, and redo two ways", () => {
  assert.equal(actionOf(press("z", { ctrlKey: true })), "undo");
  assert.equal(actionOf(press("z", { metaKey: true })), "undo");
  assert.equal(actionOf(press("Z", { ctrlKey: true, shiftKey: true })), "redo");
  assert.equal(actionOf(press("y", { ctrlKey: true })), "redo");
  assert.equal(actionOf(press("z")), null);
});

test("symbols match whatever Shift the keyboard layout needs to type them", () => {
  assert.equal(actionOf(press("?", { shiftKey: true })), "shortcuts");
  assert.equal(actionOf(press("+", { shiftKey: true })), "zoom-in");
  assert.equal(actionOf(press("=")), "zoom-in");
  assert.equal(actionOf(press("-")), "zoom-out");
  assert.equal(actionOf(press("Escape")), "fit");
  assert.equal(actionOf(press("]")), "brush-larger");
});

test("the arrows step through a job's results, and O holds the original under one", () => {
  assert.equal(actionOf(press("ArrowLeft")), "result-previous");
  assert.equal(actionOf(press("ArrowRight")), "result-next");
  assert.ok(shortcutFor(press("ArrowRight")).notOnArrowControls);
  assert.equal(actionOf(press("o")), "original-hold");
  assert.equal(shortcutKeys("result-next"), "→");
});

test("gestures and keys the browser handles itself are listed but never taken", () => {
  assert.equal(shortcutFor(press("v", { ctrlKey: true })), null);
  assert.equal(shortcutFor(press(" ")), null);
  assert.ok(SHORTCUTS.some((entry) => entry.gesture === "Wheel, pinch"));
});

test("Ctrl+Enter is the prompt's own shortcut", () => {
  const shortcut = shortcutFor(press("Enter", { ctrlKey: true }));
  assert.equal(shortcut.action, "generate");
  assert.equal(shortcut.inPrompt, true);
});

test("every key combination belongs to one shortcut only", () => {
  const seen = new Map();
  for (const entry of SHORTCUTS) {
    for (const combo of entry.keys) {
      assert.ok(!seen.has(combo), `${combo} is both "${seen.get(combo)}" and "${entry.does}"`);
      seen.set(combo, entry.does);
    }
  }
});

test("tooltips show the keys of an action", () => {
  assert.equal(shortcutKeys("redo"), "Shift+Ctrl+Z or Ctrl+Y");
  assert.equal(shortcutKeys("brush"), "B");
  assert.equal(shortcutKeys("clear"), "");
});

test("sliders, radio buttons and lists keep their arrow keys; buttons and the canvas do not", () => {
  const element = (selectorMatched) => ({ matches: (selectors) => selectors.split(", ").includes(selectorMatched) });
  for (const control of ["input[type=range]", "input[type=radio]", "select", "[role=slider]", "[role=radio]"]) {
    assert.ok(arrowsMoveIn(element(control)), control);
  }
  assert.ok(!arrowsMoveIn(element("button")));
});
