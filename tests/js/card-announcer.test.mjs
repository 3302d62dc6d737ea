// What the job card's own live region says (static/inpaint/card-announcer.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { cardAnnouncement } from "../../static/inpaint/card-announcer.js";

test("a new job's first stage is said", () => {
  assert.deepEqual(cardAnnouncement(null, { job: "a", stage: "Waiting in the queue" }), { job: "a", stage: "Waiting in the queue" });
});

test("a card replaced with the same stage says nothing again", () => {
  const said = { job: "a", stage: "Painting" };
  assert.equal(cardAnnouncement(said, { job: "a", stage: "Painting" }), null);
});

test("the next stage of the job is said", () => {
  assert.deepEqual(cardAnnouncement({ job: "a", stage: "Painting" }, { job: "a", stage: "Done" }), { job: "a", stage: "Done" });
});

test("another job in the same stage is news", () => {
  assert.deepEqual(cardAnnouncement({ job: "a", stage: "Done" }, { job: "b", stage: "Done" }), { job: "b", stage: "Done" });
});

test("no card, or one without a stage, says nothing", () => {
  assert.equal(cardAnnouncement(null, null), null);
  assert.equal(cardAnnouncement(null, { job: "a", stage: "" }), null);
});
