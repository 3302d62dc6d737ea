// The first visit's hint (issue 22): the three steps, picture, paint, describe, until the person dismisses it.
// It is remembered in the browser, so a person who has seen it once is not shown it on every visit.

const SEEN_KEY = "inpaint.firstVisitSeen";

/** Show ``hint`` unless ``storage`` remembers its dismissal; its dismiss button hides it and remembers. */
export function firstVisitWire(hint, storage = window.localStorage) {
  const seen = () => {
    try {
      return storage.getItem(SEEN_KEY) === "1";
    } catch {
      return false; // storage refused (a private window's settings): the hint shows, and goes when dismissed
    }
  };
  hint.hidden = seen();
  hint.querySelector("[data-first-visit-dismiss]").addEventListener("click", () => {
    hint.hidden = true;
    try {
      storage.setItem(SEEN_KEY, "1");
    } catch {
      // Not remembered: the hint comes back on the next visit, which is all that is lost.
    }
  });
}
