// Many photos at once: the first opens in the editor for its mask, the job form then starts a batch
// (inpaint.batch_views.batch_create) instead of a job, and the other photos follow one post each, so no post
// is larger than a single job's. The batch's card (batch_card.html) polls itself; this only sends.
import { batchPhotosSorted, batchPlan } from "./batch-shapes.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

const $ = (selector, scope = document) => scope.querySelector(selector);
// A photo whose post found the server busy or unreachable is sent again, a few times, after a pause.
const SEND_ATTEMPTS = 5;
const RETRY_MS = 2000;

const wait = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** The photo's [width, height] as the browser shows it (upright), or null when it cannot read it. */
function photoSize(file) {
  return new Promise((resolve) => {
    const image = new Image();
    const url = URL.createObjectURL(file);
    const done = (size) => { URL.revokeObjectURL(url); resolve(size); };
    image.onload = () => done([image.naturalWidth, image.naturalHeight]);
    image.onerror = () => done(null);
    image.src = url;
  });
}

export function batchWire({ root, openPicture, options }) {
  const panel = $("[data-batch-panel]", root);
  const count = $("[data-batch-count]", root);
  const accepted = options.upload_accept.split(",");
  const isPicture = (file) => accepted.some((kind) => (kind.startsWith(".")
    ? file.name.toLowerCase().endsWith(kind) : file.type === kind));
  const tolerance = Number(root.dataset.aspectTolerance);
  const maxPhotos = Number(root.dataset.maxPhotos);
  let photos = null; // [{ file, size }] while a batch is being prepared
  let plan = null;
  let note = "";

  const relative = () => $("[name=other_shapes][value=relative]", root).checked;

  function refresh() {
    const preparing = Boolean(photos);
    count.disabled = !preparing;
    $("[data-batch-clear]", root).hidden = !preparing;
    if (!preparing) {
      for (const part of ["[data-batch-summary]", "[data-batch-cost]"]) $(part, root).textContent = "";
      $("[data-batch-other]", root).hidden = true;
      return;
    }
    plan = batchPlan(photos, { relative: relative(), tolerance });
    count.value = String(plan.count);
    panel.hidden = false;
    $("[data-batch-summary]", root).textContent = `${interpolate(ngettext(
      "%(count)s photo in this batch. Paint the mask on the first one; it is used on each, with one prompt and one set of options.",
      "%(count)s photos in this batch. Paint the mask on the first one; it is used on each, with one prompt and one set of options.",
      plan.count), { count: plan.count })} ${note}`.trim();
    $("[data-batch-other]", root).hidden = !plan.other.length;
    $("[data-batch-other-list]", root).textContent = interpolate(ngettext(
      "%(count)s photo has another shape than the first: %(names)s.",
      "%(count)s photos have another shape than the first: %(names)s.", plan.other.length),
    { count: plan.other.length, names: plan.other.map((file) => file.name).join(", ") });
    const engine = options.engines[$("[data-engine-select]")?.value];
    const perPhoto = Number($("#job-form [name=n]:checked")?.value || 1);
    const images = plan.count * perPhoto;
    $("[data-batch-cost]", root).textContent = engine?.remote ? interpolate(ngettext(
      "It will make up to %(images)s cloud image, counted against this month's before it starts.",
      "It will make up to %(images)s cloud images, counted against this month's before it starts.", images),
    { images }) : "";
  }

  function clear() {
    photos = null;
    plan = null;
    refresh();
  }

  async function choose(files) {
    let sorted = batchPhotosSorted(files, isPicture);
    if (!sorted.length) return;
    note = "";
    if (sorted.length > maxPhotos) {
      note = interpolate(gettext("A batch takes at most %(limit)s photos: the first %(limit)s are taken."), { limit: maxPhotos });
      sorted = sorted.slice(0, maxPhotos);
    }
    clear();
    if (!(await openPicture(sorted[0])) || sorted.length === 1) return; // a refused first photo says why itself
    photos = sorted.map((file) => ({ file, size: null }));
    refresh();
    const sizes = await Promise.all(sorted.map(photoSize));
    if (photos?.[0].file !== sorted[0]) return; // another choice was made meanwhile
    photos.forEach((photo, index) => { photo.size = sizes[index]; });
    refresh();
  }

  const sending = $("[data-batch-sending]", root);
  const refusals = [];

  async function sendOne(url, file) {
    for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt += 1) {
      const body = new FormData();
      body.append("base_image", file);
      body.append("csrfmiddlewaretoken", $("#job-form [name=csrfmiddlewaretoken]").value);
      let response = null;
      try {
        response = await fetch(url, { method: "POST", body, headers: { "HX-Request": "true" } });
      } catch {
        response = null; // no connection: tried again below
      }
      if (response?.ok) return true;
      if (response?.status === 409) return false; // the batch takes no more: cancelled
      if (response && response.status < 500) {
        refusals.push(`${file.name}: ${await response.text()}`);
        return true;
      }
      await wait((Number(response?.headers.get("Retry-After")) * 1000) || RETRY_MS);
    }
    refusals.push(interpolate(gettext("%(name)s: it could not be sent; the server did not answer."), { name: file.name }));
    return true;
  }

  async function send(url, files) {
    refusals.length = 0;
    for (const [index, file] of files.entries()) {
      sending.textContent = interpolate(gettext("Sending photo %(number)s of %(count)s: %(name)s…"),
        { number: index + 2, count: files.length + 1, name: file.name });
      if (!(await sendOne(url, file))) break;
    }
    sending.textContent = [gettext("Every photo of the batch has been sent."), ...refusals].join(" ");
  }

  for (const input of root.querySelectorAll("[data-batch-files], [data-batch-folder]")) {
    input.addEventListener("change", () => { choose(input.files); input.value = ""; });
  }
  root.addEventListener("change", (event) => { if (event.target.name === "other_shapes") refresh(); });
  document.addEventListener("change", (event) => {
    if (event.target.id === "id_base_image") clear(); // one photo chosen again: no batch
    else if (event.target.matches("[data-engine-select], #job-form [name=n]")) refresh();
  });
  $("[data-batch-clear]", root).addEventListener("click", () => { clear(); panel.hidden = true; });

  // While a batch is prepared, the job form starts it instead of a single job.
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.id === "job-form" && photos) event.detail.path = root.dataset.createUrl;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const card = event.detail.target.id === "current-job" && $("[data-batch-card]", event.detail.target);
    if (!card || !plan) return;
    const { send: rest } = plan;
    clear();
    send(card.dataset.photosUrl, rest);
  });
}
