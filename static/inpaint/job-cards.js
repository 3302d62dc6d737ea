// The job cards and the history: the before/after slider, a result or a job's picture and mask taken
// back into the editor, and the card of a job deleted from the history.
import { pictureFetch } from "./picture.js";
import { gettext } from "./i18n.js";
import { optionsRead } from "./options.js";
import { upscaleChoose } from "./upscale.js";

/**
 * ``openHeldPicture`` opens a picture the server holds in the editor (resolves false if refused);
 * ``loadJobMask(file, prompt)`` puts a job's mask and prompt back; ``showEditor`` brings the editor into
 * view; ``showPictureMessage`` says what went wrong.
 */
export function jobCardsWire({ openHeldPicture, loadJobMask, showEditor, showPictureMessage }) {
  /** Open a job's picture, mask and prompt in the editor (its card is ``card``); resolves whether it did. */
  async function jobOpen(card) {
    try {
      const { job, pictureUrl, pictureEditorUrl, maskUrl, width, height } = card.dataset;
      const opened = await openHeldPicture({ fileUrl: pictureUrl, editorUrl: pictureEditorUrl, source: `job:${job}`,
                                             name: `job-${job.slice(0, 8)}.png`, width: Number(width), height: Number(height) });
      if (!opened) return false;
      const text = card.querySelector(".job-prompt").lastChild.textContent.trim();
      await loadJobMask(await pictureFetch(maskUrl, "mask.png"), text === gettext("(no prompt)") ? "" : text);
      return true;
    } catch {
      showPictureMessage(gettext("This job's picture could not be loaded into the editor."));
      return false;
    }
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-compare]")) {
      event.target.closest(".compare").style.setProperty("--pos", `${event.target.value}%`);
    }
  });

  // A job deleted from the history may be the one whose card is open.
  document.addEventListener("job-deleted", (event) => document.getElementById(`job-${event.detail.id}`)?.remove());

  const options = optionsRead();
  // A result's "Upscale ×N" appears once its card is in the page, when an engine here can run it.
  const upscaleShow = () => document.querySelectorAll("[data-upscale-actions]").forEach((actions) => {
    actions.hidden = !options.upscale.engine;
  });
  upscaleShow();
  document.addEventListener("htmx:afterSettle", upscaleShow);

  /** Open the result behind ``useButton`` in the editor; resolves whether it did. */
  async function resultOpen(useButton) {
    useButton.disabled = true;
    try {
      const { useAsBase, editorUrl, source, name, width, height } = useButton.dataset;
      return await openHeldPicture({ fileUrl: useAsBase, editorUrl, source, name,
                                     width: Number(width), height: Number(height) });
    } catch {
      showPictureMessage(gettext("This result could not be loaded into the editor. Try again."));
      return false;
    } finally {
      useButton.disabled = false;
    }
  }

  document.addEventListener("click", async (event) => {
    const useButton = event.target.closest("[data-use-as-base]");
    if (useButton) {
      if (await resultOpen(useButton)) showEditor();
      return;
    }
    const upscaleButton = event.target.closest("[data-upscale-result]");
    if (upscaleButton) {
      // The result becomes the picture, and the upscale of it is sent at once: one click, one job.
      const use = upscaleButton.closest(".result").querySelector("[data-use-as-base]");
      if (await resultOpen(use) && upscaleChoose(options, upscaleButton.dataset.upscaleResult)) {
        document.getElementById("job-form").requestSubmit();
      }
      return;
    }
    const reuseButton = event.target.closest("[data-reuse-job]");
    if (reuseButton && await jobOpen(reuseButton.closest("[data-job]"))) showEditor();
  });
  return { jobOpen };
}
