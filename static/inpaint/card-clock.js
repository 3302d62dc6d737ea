// A job card's clock: the elapsed seconds and the time bar move on the page, so a poll that finds nothing
// new changes nothing and is answered 304 (inpaint.card_polls) instead of a freshly rendered card.
import { gettext, interpolate } from "./i18n.js";

const TICK_MS = 1000;
// The bar never reaches its end before the job does (studio.css caps it the same way).
const BAR_MAX_PERCENT = 96;

/** What the card shows ``secondsSince`` after it was rendered with ``elapsed`` (and ``estimate``, if known). */
export function cardClockRead(elapsed, estimate, secondsSince) {
  const now = elapsed + Math.max(0, secondsSince);
  const reading = { label: interpolate(gettext("%(seconds)s s"), { seconds: Math.round(now) }), barPercent: null };
  if (estimate > 0) reading.barPercent = Math.min(BAR_MAX_PERCENT, Math.round((now / estimate) * 100));
  return reading;
}

// When each card element was put on the page: a card swapped in by a poll is a new element.
const renderedAt = new WeakMap();

function cardTick(card, now) {
  if (!renderedAt.has(card)) renderedAt.set(card, now);
  const { label, barPercent } = cardClockRead(Number(card.dataset.elapsed), Number(card.dataset.estimate || 0),
                                              (now - renderedAt.get(card)) / 1000);
  const elapsed = card.querySelector(".elapsed");
  if (elapsed) elapsed.textContent = label;
  const bar = card.querySelector(".timebar span");
  if (bar && barPercent !== null) bar.style.width = `${barPercent}%`;
}

export function cardClocksStart(doc = document) {
  const tickAll = () => doc.querySelectorAll("[data-job][data-elapsed]").forEach((card) => cardTick(card, performance.now()));
  tickAll();
  return setInterval(tickAll, TICK_MS);
}
