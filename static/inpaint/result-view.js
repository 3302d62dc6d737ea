// A finished result shown on the editor's canvas, in the picture's place (issue 23). A designer judges a result
// where it lands: the result lies in the same view as the picture, so it keeps the zoom and pan; holding O (or
// the Original button) shows the picture under it at the same spot, H still shows or hides where the mask was,
// and ← and → step through the job's other results.
//
// For a picture the editor holds at full size (up to the proxy side, options.js) the result's own lossless
// file is shown, so at 100 % and beyond its own pixels are on the screen; a larger picture is shown from the
// result's proxy, as the picture itself is. The result is shown only over its own job's picture: another
// picture in the editor is first replaced by the job's picture and mask.

/**
 * ``container`` is the editor; ``editor`` its API; ``jobOpen(card)`` opens a job's picture and mask in it
 * (job-cards.js); ``proxyMaxSide`` is the editor's proxy side.
 */
export function resultViewWire({ container, editor, jobOpen, proxyMaxSide }) {
  const image = container.querySelector("[data-result]");
  const bar = container.querySelector("[data-result-bar]");
  const label = bar.querySelector("[data-result-label]");
  const download = bar.querySelector("[data-result-download]");
  let pictureJob = null; // the job whose picture the editor shows, when known
  let shown = null; // { job, slot } of the result on the canvas
  let loading = 0; // results asked for so far: only the latest is shown

  const card = (job) => document.getElementById(`job-${job}`);
  const buttons = (job) => [...(card(job)?.querySelectorAll("[data-show-on-canvas]") ?? [])];

  function hide() {
    shown = null;
    image.hidden = true;
    image.removeAttribute("src"); // the decoded result is dropped, not kept beside the next one
    bar.hidden = true;
    delete container.dataset.result;
  }

  async function show(button) {
    const jobCard = button.closest("[data-job]");
    const job = jobCard.dataset.job;
    const asked = ++loading;
    if (pictureJob !== job) {
      if (!(await jobOpen(jobCard))) return;
      pictureJob = job;
    }
    const { pictureWidth, pictureHeight } = editor.state;
    const url = Math.max(pictureWidth, pictureHeight) > proxyMaxSide ? button.dataset.editorUrl : button.dataset.fileUrl;
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = reject;
      image.src = url;
    }).catch(() => null);
    if (asked !== loading || !image.complete || !image.naturalWidth) return;
    const all = buttons(job);
    const slot = Number(button.dataset.slot);
    shown = { job, slot };
    image.hidden = false;
    image.alt = button.dataset.alt;
    container.dataset.result = String(slot);
    label.textContent = `Result ${all.indexOf(button) + 1} of ${all.length} on the canvas`;
    download.href = button.dataset.downloadUrl;
    bar.hidden = false;
  }

  /** Show the result after (step 1) or before (-1) the one shown, among its job's results. */
  function step(by) {
    if (!shown) return;
    const all = buttons(shown.job);
    const index = all.findIndex((button) => Number(button.dataset.slot) === shown.slot);
    const next = all[(index + by + all.length) % all.length];
    if (next) show(next);
  }

  /** While ``held``, the picture under the result shows through, at the same spot. */
  function originalHold(held) {
    if (shown) image.hidden = held;
    container.toggleAttribute("data-original-held", held && Boolean(shown));
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-show-on-canvas]");
    if (button) show(button);
    if (event.target.closest("[data-result-close]")) hide();
    const use = event.target.closest("[data-result-use]");
    if (use && shown) card(shown.job)?.querySelector(`[data-use-as-base][data-slot="${shown.slot}"]`)?.click();
  });
  const hold = bar.querySelector("[data-original-hold]");
  hold.addEventListener("pointerdown", () => originalHold(true));
  for (const name of ["pointerup", "pointerleave", "pointercancel"]) hold.addEventListener(name, () => originalHold(false));
  document.addEventListener("keyup", (event) => { if (event.key.toLowerCase() === "o") originalHold(false); });
  window.addEventListener("blur", () => originalHold(false));
  // The card of a new job shows the picture the editor holds.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.requestConfig?.elt?.id !== "job-form") return;
    const created = event.detail.target.querySelector("[data-job]");
    if (created) pictureJob = created.dataset.job;
  });

  return {
    /** The editor took another picture: no result belongs over it. */
    pictureChanged() { pictureJob = null; hide(); },
    originalHold: () => originalHold(true),
    next: () => step(1),
    previous: () => step(-1),
  };
}
