// A finished result shown on the editor's canvas, in the picture's place (issue 23). A designer judges a result
// where it lands: the result lies in the same view as the picture, so it keeps the zoom and pan; holding O (or
// the Original button) shows the picture under it at the same spot, H still shows or hides where the mask was,
// and ← and → step through the job's other results.
//
// For a picture the editor holds at full size (up to the proxy side, options.js) the result's own lossless
// file is shown, so at 100 % and beyond its own pixels are on the screen. A larger picture is shown from the
// result's proxy, as the picture itself is, and once the zoom shows more than the proxy holds, the visible
// part is fetched at the result's own pixels (inpaint.views.job_result_part) and laid over it: a 48 MP result
// is inspected at 400 % without the whole file going to the browser. The result is shown only over its own
// job's picture: another picture in the editor is first replaced by the job's picture and mask.

import { gettext, interpolate } from "./i18n.js";

// Screen pixels per result pixel from which the visible part is fetched at the result's own pixels.
const PART_FROM_ZOOM = 0.75;
// How long the view must rest before its part is asked for: a pan or a wheel zoom asks once, at its end.
const PART_WAIT_MS = 150;

/**
 * The box (left, top, right, bottom, in result pixels) of the result that the stage shows, for a view of
 * ``view`` (tx, ty, scale: stage px per canvas px) over a canvas of ``canvas`` (width, height) for a result of
 * ``result`` (width, height) on a stage of ``stage`` (width, height); null when the zoom shows no more than the
 * canvas holds, or the visible part is larger than ``maxSide``.
 */
export function partBox(view, canvas, result, stage, maxSide) {
  const factor = result.width / canvas.width; // result pixels per canvas pixel
  if (view.scale / factor < PART_FROM_ZOOM || factor <= 1) return null;
  const left = Math.max(0, Math.floor((-view.tx / view.scale) * factor));
  const top = Math.max(0, Math.floor((-view.ty / view.scale) * factor));
  const right = Math.min(result.width, Math.ceil(((stage.width - view.tx) / view.scale) * factor));
  const bottom = Math.min(result.height, Math.ceil(((stage.height - view.ty) / view.scale) * factor));
  if (right <= left || bottom <= top || Math.max(right - left, bottom - top) > maxSide) return null;
  return { left, top, right, bottom };
}

/**
 * ``container`` is the editor; ``editor`` its API; ``jobOpen(card)`` opens a job's picture and mask in it
 * (job-cards.js); ``proxyMaxSide`` is the editor's proxy side, ``partMaxSide`` the largest part served.
 */
export function resultViewWire({ container, editor, jobOpen, proxyMaxSide, partMaxSide }) {
  const image = container.querySelector("[data-result]");
  const part = container.querySelector("[data-result-part]");
  const stage = container.querySelector("[data-stage]");
  let partTimer = 0;
  const bar = container.querySelector("[data-result-bar]");
  const label = bar.querySelector("[data-result-label]");
  const download = bar.querySelector("[data-result-download]");
  let pictureJob = null; // the job whose picture the editor shows, when known
  let shown = null; // { job, slot } of the result on the canvas
  let loading = 0; // results asked for so far: only the latest is shown

  const card = (job) => document.getElementById(`job-${job}`);
  const buttons = (job) => [...(card(job)?.querySelectorAll("[data-show-on-canvas]") ?? [])];

  function partHide() {
    clearTimeout(partTimer);
    part.hidden = true;
    part.removeAttribute("src");
    delete part.dataset.box;
  }

  /** Lay the visible part of the result at its own pixels over its proxy, when the zoom asks for more. */
  async function partShow() {
    const button = shown && buttons(shown.job).find((candidate) => Number(candidate.dataset.slot) === shown.slot);
    const state = editor.state;
    const box = button && partBox(state, state, { width: state.pictureWidth, height: state.pictureHeight },
                                  { width: stage.clientWidth, height: stage.clientHeight }, partMaxSide);
    if (!box) {
      partHide();
      return;
    }
    const asked = shown;
    const key = `${shown.job}:${shown.slot}:${box.left},${box.top},${box.right},${box.bottom}`;
    if (part.dataset.box === key) return;
    const url = `${button.dataset.fileUrl}part/?left=${box.left}&top=${box.top}&right=${box.right}&bottom=${box.bottom}`;
    const loaded = new Image();
    loaded.src = url;
    try {
      await loaded.decode();
    } catch {
      return; // the proxy stays; the next view change asks again
    }
    if (shown !== asked) return; // another result, or none, is shown by now
    const factor = state.pictureWidth / state.width;
    Object.assign(part.style, {
      left: `${box.left / factor}px`, top: `${box.top / factor}px`,
      width: `${(box.right - box.left) / factor}px`, height: `${(box.bottom - box.top) / factor}px`,
    });
    part.src = url;
    part.dataset.box = key;
    part.hidden = image.hidden;
  }

  function hide() {
    shown = null;
    partHide();
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
    label.textContent = interpolate(gettext("Result %(number)s of %(count)s on the canvas"),
                                    { number: all.indexOf(button) + 1, count: all.length });
    download.href = button.dataset.downloadUrl;
    bar.hidden = false;
    partHide();
    partShow();
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
    if (shown && part.dataset.box) part.hidden = held;
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
    /** The zoom or pan changed: the part at the result's own pixels follows, once the view rests. */
    viewChanged() {
      if (!shown) return;
      clearTimeout(partTimer);
      partTimer = setTimeout(partShow, PART_WAIT_MS);
    },
    originalHold: () => originalHold(true),
    next: () => step(1),
    previous: () => step(-1),
  };
}
