// The first visit's hint (static/inpaint/first-visit.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { firstVisitWire } from "../../static/inpaint/first-visit.js";

function hintMade() {
  const listeners = {};
  const button = { addEventListener: (kind, listener) => { listeners[kind] = listener; } };
  return { hidden: true, querySelector: () => button, dismiss: () => listeners.click() };
}

function storageMade(values = {}) {
  return { getItem: (key) => values[key] ?? null, setItem: (key, value) => { values[key] = value; }, values };
}

test("the hint shows until dismissed, and the dismissal is remembered", () => {
  const storage = storageMade();
  const hint = hintMade();
  firstVisitWire(hint, storage);
  assert.equal(hint.hidden, false);
  hint.dismiss();
  assert.equal(hint.hidden, true);
  const again = hintMade();
  firstVisitWire(again, storage);
  assert.equal(again.hidden, true);
});

test("a browser that refuses storage still sees the hint and can dismiss it", () => {
  const refusing = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("denied"); } };
  const hint = hintMade();
  firstVisitWire(hint, refusing);
  assert.equal(hint.hidden, false);
  hint.dismiss();
  assert.equal(hint.hidden, true);
});
