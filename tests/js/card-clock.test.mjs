import { test } from "node:test";
import assert from "node:assert/strict";
import { cardClockRead } from "../../static/inpaint/card-clock.js";

test("the elapsed time moves on from what the card was rendered with", () => {
  assert.equal(cardClockRead(12.4, 0, 0).label, "12 s");
  assert.equal(cardClockRead(12.4, 0, 3.2).label, "16 s");
});

test("the time bar follows the estimate and never reaches its end before the job does", () => {
  assert.equal(cardClockRead(5, 20, 5).barPercent, 50);
  assert.equal(cardClockRead(5, 20, 60).barPercent, 96);
});

test("without an estimate the bar is left to its own animation", () => {
  assert.equal(cardClockRead(5, 0, 1).barPercent, null);
});

test("a clock read before the card was rendered does not run backwards", () => {
  assert.equal(cardClockRead(7, 10, -2).label, "7 s");
});
