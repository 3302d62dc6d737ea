// The studio page: wires the mask editor to the job form, the job card and the history.
import { batchWire } from "./batch.js";
import { createMaskEditor, TOOLS } from "./editor.js";
import { cardAnnouncerStart } from "./card-announcer.js";
import { cardClocksStart } from "./card-clock.js";
import { expandWire } from "./expand.js";
import { upscaleWire } from "./upscale.js";
import { firstVisitWire } from "./first-visit.js";
import { jobCardsWire } from "./job-cards.js";
import { controlsShown, engineOptions, maskColoursParse, optionsRead } from "./options.js";
import { heldPictureProxy, pictureFetch, pictureOpen, PictureRefused } from "./picture.js";
import { resultViewWire } from "./result-view.js";
import { shortcutKeys, shortcutsList, shortcutsListen, typingIn } from "./shortcuts.js";
import { gettext, interpolate } from "./i18n.js";

const root = document.querySelector("[data-editor]");
const options = optionsRead();
const $ = (selector, scope = document) => scope.querySelector(selector);
const pictureInput = $("#id_base_image");
const baseSource = $("#id_base_source"); // set instead of the file for a picture the server holds
const maskInput = $("[data-mask-input]");
let pictureFile = null; // the File behind the picture in the editor
let openings = 0; // pictures asked for so far: only the latest one is shown
let resultView = null; // a result on the canvas (result-view.js), wired once the job cards are

let refreshExpand = () => {}; // the extension's outline follows every change of the picture and the view
const editor = createMaskEditor(root, { options, onChange: (what) => { refreshEditorUi(what); refreshExpand(); } });
refreshExpand = expandWire($("[data-stage]", root), editor, options);
const refreshUpscale = upscaleWire(editor, options);

// ---- engine, limits and prompt -------------------------------------------------------------

/** The key of the engine chosen in the form, or null. */
function currentEngineKey() {
  const select = $("[data-engine-select]");
  const option = select && select.selectedOptions[0];
  return option ? option.value : null;
}

// The app's own limits: the engines' limits are absorbed by the work region on the server.
function pictureLimits() {
  const d = $("[data-picture-limits]").dataset;
  return {
    minSide: Number(d.minSide), maxPixels: Number(d.maxPixels), maxBytes: Number(d.maxBytes),
    proxyMaxSide: options.proxy_max_side, uploadNames: options.upload_names,
  };
}

function refreshForm() {
  const key = currentEngineKey();
  const engine = key && engineOptions(options, key);
  const prompt = $("[data-testid=prompt]");
  if (!engine || !prompt) return;
  document.querySelectorAll("[data-engine-note]").forEach((note) => { note.hidden = note.dataset.engineNote !== key; });
  const counter = $("[data-prompt-counter]");
  const note = $("[data-prompt-note]");
  const field = $("[data-prompt-field]");
  prompt.disabled = !engine.follows_prompt;
  field.classList.toggle("ignored", !engine.follows_prompt);
  const length = [...prompt.value].length;
  const tooLong = engine.follows_prompt && length > engine.max_prompt;
  field.classList.toggle("too-long", tooLong);
  prompt.setAttribute("aria-invalid", tooLong ? "true" : "false");
  if (!engine.follows_prompt) {
    counter.textContent = "";
    note.textContent = gettext("The offline engine fills the painted area from the rest of the picture and does not read the prompt.");
  } else {
    counter.textContent = `${length} / ${engine.max_prompt}`;
    note.textContent = tooLong
      ? interpolate(gettext("Too long: %(length)s characters, and this engine reads at most %(max)s. Shorten it before you generate."),
        { length, max: engine.max_prompt })
      : "";
  }
  note.classList.toggle("bad", tooLong);
  // A control the engine does not take is hidden; the server ignores what it sends.
  const shown = controlsShown(options, key);
  document.querySelectorAll("#job-form [data-control]").forEach((control) => { control.hidden = !shown[control.dataset.control]; });
  refreshSizes();
  refreshExpand();
  refreshUpscale();
}

/** Half and quarter size mean something only for a picture at least size_smaller_min_side long. */
function refreshSizes() {
  const { pictureWidth, pictureHeight } = editor.state;
  const small = Math.max(pictureWidth, pictureHeight) < options.size_smaller_min_side;
  const size = $("#job-form [name=size]");
  for (const option of size.options) if (option.value !== "original") option.hidden = option.disabled = small;
  if (size.selectedOptions[0].disabled) size.value = "original";
}

function showPictureMessage(text) {
  const message = $("[data-picture-message]");
  message.hidden = !text;
  message.textContent = text || "";
}

document.addEventListener("input", (event) => {
  if (event.target.matches("[data-testid=prompt]")) refreshForm();
});
document.addEventListener("change", (event) => {
  // What to do changes which controls mean something: "Extend the picture" has no context (expand.js).
  if (event.target.matches("[data-engine-select], #job-form [name=function], #job-form [name=upscale_factor], #job-form [name=n]")) refreshForm();
});

// ---- getting the picture in ----------------------------------------------------------------

/** Check a file, show it, and make it the form's picture. Returns true if taken. */
function openPicture(file) {
  return showPicture(file.name || gettext("Pasted picture"), () => pictureOpen(file, pictureLimits(), {
    previewUrl: root.dataset.previewUrl, csrfToken: $("#job-form [name=csrfmiddlewaretoken]").value,
  }), { file });
}

// A picture the server already holds for this person (a result, a job's picture) becomes the base
// without being sent back: a finished photo is often over the upload limit, and would cost its upload again.
function openHeldPicture({ fileUrl, editorUrl, source, name, width, height }) {
  return showPicture(name, async () => {
    if (Math.max(width, height) > options.proxy_max_side) return heldPictureProxy(editorUrl);
    return { blob: await pictureFetch(fileUrl, name), width, height };
  }, { source });
}

async function showPicture(name, open, { file = null, source = "" }) {
  const opening = ++openings;
  const info = $("[data-picture-info]");
  const shown = info.textContent;
  info.textContent = interpolate(gettext("Opening %(name)s…"), { name });
  let picture;
  try {
    picture = await open();
  } catch (error) {
    if (opening === openings) info.textContent = shown;
    if (!(error instanceof PictureRefused)) throw error;
    if (opening === openings) refusePicture(error.message);
    return false;
  }
  if (opening !== openings) return false; // a later picture was chosen meanwhile
  pictureFile = file;
  setFiles(pictureInput, file);
  baseSource.value = source;
  await editor.loadImage(picture.blob, picture);
  showPictureMessage(null);
  $("[data-mask-message]").hidden = true;
  const { width, height } = editor.state;
  const size = interpolate(gettext("%(width)s × %(height)s px"), { width: picture.width, height: picture.height });
  const proxy = width === picture.width ? "" : ` · ${interpolate(gettext("painted at %(width)s × %(height)s"), { width, height })}`;
  info.textContent = `${name} · ${size}${proxy}`;
  return true;
}

function refusePicture(message) {
  showPictureMessage(message);
  // Keep the picture that was there before, if any, in the form.
  setFiles(pictureInput, pictureFile);
}

function setFiles(input, file) {
  const transfer = new DataTransfer();
  if (file) transfer.items.add(file);
  input.files = transfer.files;
}

pictureInput.addEventListener("change", () => {
  const [file] = pictureInput.files;
  if (file && file !== pictureFile) openPicture(file);
  else if (!file) setFiles(pictureInput, pictureFile); // a cancelled dialog keeps the picture
});

function imageFromTransfer(transfer) {
  if (!transfer) return null;
  return [...transfer.files].find((file) => file.type.startsWith("image/") || file.type === "")
    ?? [...transfer.items || []].filter((item) => item.kind === "file").map((item) => item.getAsFile()).find(Boolean)
    ?? null;
}

let dragDepth = 0;
const dropHint = $("[data-drop-hint]");
document.addEventListener("dragenter", (event) => {
  if (![...event.dataTransfer.types].includes("Files")) return;
  dragDepth++;
  dropHint.hidden = false;
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropHint.hidden = true;
});
document.addEventListener("dragover", (event) => {
  if ([...event.dataTransfer.types].includes("Files")) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  dragDepth = 0;
  dropHint.hidden = true;
  const file = imageFromTransfer(event.dataTransfer);
  if (!file) return;
  event.preventDefault();
  if (event.target.closest && event.target.closest(".mask-file")) loadMaskFile(file);
  else openPicture(file);
});
document.addEventListener("paste", (event) => {
  if (typingIn(event.target) && event.clipboardData.types.includes("text/plain")) return;
  const file = imageFromTransfer(event.clipboardData);
  if (!file) return; // text pastes into the prompt as usual
  event.preventDefault();
  openPicture(file);
});

// ---- mask files ----------------------------------------------------------------------------

let maskFile = null;
async function loadMaskFile(file) {
  const message = $("[data-mask-message]");
  maskFile = file;
  let text;
  try {
    const colours = maskColoursParse(options, $("[data-mask-colours]").value);
    text = await editor.loadMask(file, colours);
    if (!text) {
      text = interpolate(gettext("Mask “%(name)s” loaded: %(share)s of the picture will be repainted."),
        { name: file.name, share: `${Math.round(editor.maskCoverage() * 100)} %` });
    }
  } catch (error) {
    text = error.message;
  }
  message.hidden = false;
  message.textContent = text;
}

$("[data-mask-file]").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) loadMaskFile(file);
});
$("[data-mask-colours]").addEventListener("change", () => { if (maskFile) loadMaskFile(maskFile); });

// ---- toolbar -------------------------------------------------------------------------------

const brushSlider = $("[data-brush-size]");

function refreshEditorUi(what) {
  const state = editor.state;
  if (what === "picture") resultView?.pictureChanged();
  if (what === "view") resultView?.viewChanged();
  if (what === "tool" || what === "picture") {
    document.querySelectorAll("[data-tool-button]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.toolButton === state.tool));
    });
  }
  if (what === "brush") {
    brushSlider.value = String(state.brushSize);
    $("[data-brush-size-value]").textContent = interpolate(gettext("%(size)s px"), { size: state.brushSize });
  }
  if (what === "mask" || what === "picture") {
    $("[data-action=undo]").disabled = !state.canUndo;
    $("[data-action=redo]").disabled = !state.canRedo;
  }
  if (what === "overlay") {
    const toggle = $("[data-action=toggle-mask]");
    toggle.setAttribute("aria-pressed", String(state.visible));
  }
  if (what === "view") $("[data-zoom-info]").textContent = state.loaded ? `${Math.round(state.scale * 100)} %` : "";
  if (what === "picture") {
    root.style.setProperty("--picture-aspect", `${state.width} / ${state.height}`);
    $("[data-change-picture]").hidden = false;
    $("[data-action=download-mask]").hidden = false;
    refreshForm();
  }
}

/** How far one press of Grow or Shrink moves the mask's edge: 1 % of the picture's shorter side. */
function maskStep() {
  const { width, height } = editor.state;
  return Math.max(2, Math.round(Math.min(width, height) / 100));
}

const actions = {
  ...Object.fromEntries(TOOLS.map((tool) => [tool, () => editor.setTool(tool)])),
  "brush-smaller": () => editor.setBrushSize(editor.state.brushSize * 0.85 - 1),
  "brush-larger": () => editor.setBrushSize(editor.state.brushSize * 1.15 + 1),
  undo: () => editor.undo(),
  redo: () => editor.redo(),
  clear: () => editor.clear(),
  invert: () => editor.invert(),
  "grow-mask": () => editor.growMask(maskStep()),
  "shrink-mask": () => editor.growMask(-maskStep()),
  "toggle-mask": () => editor.setVisible(!editor.state.visible),
  fit: () => editor.fit(),
  "actual-size": () => editor.actualSize(),
  "zoom-in": () => editor.zoomBy(1.25),
  "zoom-out": () => editor.zoomBy(0.8),
  "download-mask": downloadMask,
  shortcuts: () => { const list = $("[data-shortcuts]"); list.open = !list.open; },
  generate: () => $("#job-form").requestSubmit(),
};

root.addEventListener("click", (event) => {
  const toolButton = event.target.closest("[data-tool-button]");
  if (toolButton) editor.setTool(toolButton.dataset.toolButton);
  const actionButton = event.target.closest("[data-action]");
  if (actionButton) actions[actionButton.dataset.action]();
});
brushSlider.addEventListener("input", () => editor.setBrushSize(Number(brushSlider.value)));
$("[data-overlay-colour]").addEventListener("input", (event) => editor.setColour(event.target.value));
$("[data-overlay-opacity]").addEventListener("input", (event) => editor.setOpacity(Number(event.target.value) / 100));

async function downloadMask() {
  const blob = await editor.maskBlob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  const stem = (pictureFile && pictureFile.name.replace(/\.[^.]+$/, "")) || "picture";
  link.download = `${stem}-mask.png`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// ---- keyboard ------------------------------------------------------------------------------

shortcutsListen({ actions, root, setSpaceHeld: editor.setSpaceHeld });

// ---- sending the job -----------------------------------------------------------------------

// htmx:confirm fires before htmx reads the form, and may wait: the mask PNG is made here.
document.addEventListener("htmx:confirm", (event) => {
  if (event.detail.elt.id !== "job-form") return;
  event.preventDefault();
  const hint = $("[data-generate-hint]");
  if (!editor.state.loaded) {
    hint.textContent = gettext("First choose a picture, then paint over the part to change.");
    hint.classList.add("bad");
    return;
  }
  hint.textContent = "";
  hint.classList.remove("bad");
  setFiles(pictureInput, pictureFile);
  editor.maskBlob().then((blob) => {
    setFiles(maskInput, new File([blob], "mask.png", { type: "image/png" }));
    event.detail.issueRequest(true);
  });
});

// A refused form comes back into #form-slot (the server retargets it), with a fresh engine select.
const narrowScreen = window.matchMedia("(max-width: 1000px)");
// Scrolling glides, unless the person asked their system for less motion.
const scrollBehaviour = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");
document.addEventListener("htmx:afterSettle", (event) => {
  refreshForm();
  if (event.detail.target.id === "current-job" && narrowScreen.matches) {
    $("#current-job").closest("section").scrollIntoView({ behavior: scrollBehaviour(), block: "start" });
  }
});
// A job deleted from the history may be the one whose card is open.
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.requestConfig.elt.id !== "job-form") return;
  const hint = $("[data-generate-hint]");
  hint.textContent = gettext("The server could not take this job right now. Try again in a moment.");
  hint.classList.add("bad");
});
document.addEventListener("htmx:sendError", () => {
  const hint = $("[data-generate-hint]");
  hint.textContent = gettext("No connection to the server. Check your network and try again.");
  hint.classList.add("bad");
});

// ---- results -------------------------------------------------------------------------------

firstVisitWire($("[data-first-visit]"));
batchWire({ root: $("[data-batch]"), openPicture, options });
cardClocksStart();
cardAnnouncerStart($("[data-job-announcer]"), $("#current-job"));
const { jobOpen } = jobCardsWire({
  openHeldPicture,
  async loadJobMask(file, prompt) {
    await editor.loadMask(file, []);
    const promptField = $("[data-testid=prompt]");
    if (promptField && prompt) promptField.value = prompt;
    refreshForm();
  },
  showEditor: () => root.scrollIntoView({ behavior: scrollBehaviour(), block: "start" }),
  showPictureMessage,
});
resultView = resultViewWire({ container: root, editor, jobOpen, proxyMaxSide: options.proxy_max_side,
                             partMaxSide: options.tile_max_side });
Object.assign(actions, {
  "original-hold": resultView.originalHold, "result-next": resultView.next, "result-previous": resultView.previous,
});

shortcutsList($("[data-shortcuts] dl"));
document.querySelectorAll("[data-action], [data-tool-button]").forEach((button) => {
  const keys = shortcutKeys(button.dataset.action ?? button.dataset.toolButton);
  if (keys) button.title = `${button.title} (${keys})`;
});
refreshForm();
root.dataset.ready = "true";
