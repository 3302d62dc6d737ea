// The job card's stage changes, said once each to a screen reader (issue 22). The card is replaced by its poll
// whenever anything on it changes (its place in the queue, a note), so a live region around the card would read
// the whole card again each time; a polite region of its own says only the new stage, and only when it changes.
// Errors are not said here: the card's error is an alert of its own, read at once.

/**
 * What to say about the card now shown, given what was said last (``said``, or null): the card's stage when it
 * is new for that job, else null. ``card`` is {job, stage}, the job's id and its stage as the card words it.
 */
export function cardAnnouncement(said, card) {
  if (!card || !card.stage) return null;
  if (said && said.job === card.job && said.stage === card.stage) return null;
  return { job: card.job, stage: card.stage };
}

/** Keep ``region`` (a polite live region outside the cards) saying the stage of the card in ``container``. */
export function cardAnnouncerStart(region, container) {
  const cardRead = () => {
    const card = container.querySelector("[data-job]");
    return card && { job: card.dataset.job, stage: card.querySelector("[data-testid=job-status]")?.textContent.trim() };
  };
  // The card the page opened with is not news.
  let said = cardRead();
  document.addEventListener("htmx:afterSettle", () => {
    const news = cardAnnouncement(said, cardRead());
    if (!news) return;
    said = news;
    region.textContent = news.stage;
  });
}
