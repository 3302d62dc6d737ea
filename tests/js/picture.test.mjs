// Recognising pictures and the app's limits (static/inpaint/picture.js), run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { heldPictureProxy, pictureFetch, PictureRefused, pictureType, sizeProblem } from "../../static/inpaint/picture.js";

const bytes = (...parts) => Uint8Array.from(parts.flatMap((part) => (typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part)));

test("pictures are recognised by their first bytes, whatever they are called", () => {
  assert.equal(pictureType(bytes([0xff, 0xd8, 0xff, 0xe0]), "image/png"), "image/jpeg");
  assert.equal(pictureType(bytes([0x89], "PNG\r\n", [0x1a, 0x0a])), "image/png");
  assert.equal(pictureType(bytes("BM", [0, 0, 0, 0])), "image/bmp");
  assert.equal(pictureType(bytes("RIFF", [1, 2, 3, 4], "WEBP")), "image/webp");
  assert.equal(pictureType(bytes("II*", [0])), "image/tiff");
  assert.equal(pictureType(bytes("MM", [0], "*")), "image/tiff");
  assert.equal(pictureType(bytes([0, 0, 0, 0x1c], "ftypheic")), "image/heic");
  assert.equal(pictureType(bytes([0, 0, 0, 0x18], "ftypmif1")), "image/heic");
});

test("other files are not pictures, unless they say they are one we read", () => {
  assert.equal(pictureType(bytes("RIFF", [1, 2, 3, 4], "WAVE")), null);
  assert.equal(pictureType(bytes("GIF89a"), "image/gif"), null);
  assert.equal(pictureType(bytes("%PDF-1.7")), null);
  assert.equal(pictureType(bytes([0, 0, 0, 0]), "image/heif"), "image/heif");
});

test("the app's limits: 32 px a side at least, 100 megapixels at most, in one plain sentence", () => {
  const limits = { minSide: 32, maxPixels: 100_000_000 };
  assert.equal(sizeProblem(8064, 6048, limits), null);
  assert.equal(sizeProblem(200, 20, limits), "This picture is 200 × 20 pixels; each side must be at least 32 pixels.");
  assert.equal(sizeProblem(12000, 9000, limits),
    "This picture has 108.0 megapixels (12000 × 9000), over the limit of 100 megapixels.");
});

// The server's answers, as fetch would give them; every request is recorded.
function serve(answer) {
  const requests = [];
  globalThis.fetch = async (url, init) => {
    requests.push({ url, ...init });
    return answer;
  };
  return requests;
}

test("a held picture's proxy is fetched, never sent, and carries the full picture's size", async () => {
  const requests = serve(new Response(new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: "image/jpeg" }), {
    headers: { "X-Picture-Width": "6000", "X-Picture-Height": "4000" },
  }));
  const picture = await heldPictureProxy("/jobs/1/results/0/editor/");
  assert.deepEqual([picture.width, picture.height, picture.blob.size], [6000, 4000, 3]);
  assert.deepEqual(requests, [{ url: "/jobs/1/results/0/editor/", credentials: "same-origin" }]);
});

test("a held picture the server refuses is refused in its words", async () => {
  serve(new Response("That picture is no longer here.", { status: 400 }));
  await assert.rejects(heldPictureProxy("/x/"), (error) => error instanceof PictureRefused
    && error.message === "That picture is no longer here.");
});

test("a file of the app's own comes back as a named File, and a failed answer throws", async () => {
  serve(new Response(new Blob(["png"], { type: "image/png" })));
  const file = await pictureFetch("/jobs/1/mask/", "mask.png");
  assert.deepEqual([file.name, file.type, file.size], ["mask.png", "image/png", 3]);
  serve(new Response("gone", { status: 404 }));
  await assert.rejects(pictureFetch("/jobs/1/mask/", "mask.png"), /404/);
});
