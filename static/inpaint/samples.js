// Sample photos for people who brought none. A sample is fetched from the app's static files and
// handed to the picture chooser as a file, so it takes exactly the path a chosen file takes: the
// same checks in the page, the same upload and the same checks on the server.
import { gettext } from "./i18n.js";

export async function sampleFile(url, name, fetcher = fetch) {
  const response = await fetcher(url);
  if (!response.ok) throw new Error(`sample ${url}: HTTP ${response.status}`);
  const blob = await response.blob();
  return new File([blob], name, { type: blob.type || "image/jpeg" });
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest("[data-sample]");
  if (!button) return;
  const input = document.getElementById(button.dataset.input);
  let file;
  try {
    file = await sampleFile(button.dataset.sample, button.dataset.name);
  } catch {
    // The picture's own message line, where a refused picture is explained too.
    const message = document.querySelector("[data-picture-message]");
    message.textContent = gettext("The sample photo could not be loaded. Check your connection and try again, or choose a picture of your own.");
    message.hidden = false;
    return;
  }
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});
