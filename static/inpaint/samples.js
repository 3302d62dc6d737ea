// Sample photos for people who brought none. A sample is fetched from the app's static files and
// handed to the picture chooser as a file, so it takes exactly the path a chosen file takes: the
// same checks in the page, the same upload and the same checks on the server.

export async function sampleFile(url, name, fetcher = fetch) {
  const response = await fetcher(url);
  if (!response.ok) throw new Error(`The sample picture could not be loaded (${response.status}).`);
  const blob = await response.blob();
  return new File([blob], name, { type: blob.type || "image/jpeg" });
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest("[data-sample]");
  if (!button) return;
  const input = document.getElementById(button.dataset.input);
  const file = await sampleFile(button.dataset.sample, button.dataset.name);
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});
