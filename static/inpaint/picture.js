// Opening a person's picture for the editor: check it against the app's limits, and get something
// the browser can paint on. The browser decodes JPEG, PNG, BMP and WebP itself; HEIC and TIFF,
// and anything over 4096 px, come back from the server as an upright JPEG proxy with the picture's
// full size (views.picture_preview), because Chromium cannot decode the first and should not hold
// a 48 MP photo in full. The file itself is what the form sends.

import { gettext, interpolate } from "./i18n.js";

/** The formats the app reads, by MIME type, with the ones the browser shows itself. */
export const PICTURE_TYPES = {
  "image/jpeg": { name: "JPEG", browser: true },
  "image/png": { name: "PNG", browser: true },
  "image/bmp": { name: "BMP", browser: true },
  "image/webp": { name: "WebP", browser: true },
  "image/tiff": { name: "TIFF", browser: false },
  "image/heic": { name: "HEIC", browser: false },
  "image/heif": { name: "HEIF", browser: false },
};

const HEIF_BRANDS = ["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1"];
const MB = 1024 * 1024;

/** A refusal to show the person: one plain sentence. */
export class PictureRefused extends Error {}

/** The picture type of a file from its first 12 bytes, else from its declared type, else null. */
export function pictureType(head, declaredType = "") {
  const text = (from, to) => String.fromCharCode(...head.slice(from, to));
  if (head[0] === 0xff && head[1] === 0xd8) return "image/jpeg";
  if (text(1, 4) === "PNG" && head[0] === 0x89) return "image/png";
  if (text(0, 2) === "BM") return "image/bmp";
  if (text(0, 4) === "RIFF" && text(8, 12) === "WEBP") return "image/webp";
  if (text(0, 4) === "II*\0" || text(0, 4) === "MM\0*") return "image/tiff";
  if (text(4, 8) === "ftyp" && HEIF_BRANDS.includes(text(8, 12))) return "image/heic";
  return PICTURE_TYPES[declaredType] ? declaredType : null;
}

/** Why a width × height picture is outside the app's limits, or null. */
export function sizeProblem(width, height, limits) {
  if (Math.min(width, height) < limits.minSide) {
    return interpolate(gettext("This picture is %(width)s × %(height)s pixels; each side must be at least %(min_side)s pixels."),
      { width, height, min_side: limits.minSide });
  }
  if (width * height > limits.maxPixels) {
    return interpolate(gettext("This picture has %(megapixels)s megapixels (%(width)s × %(height)s), over the limit of %(limit)s megapixels."),
      { megapixels: (width * height / 1e6).toFixed(1), width, height, limit: limits.maxPixels / 1e6 });
  }
  return null;
}

/** The upright size of a picture the browser can read, from its header: an <img> that is never
 * painted is never decoded, so this costs no pixel memory. */
function browserSize(file) {
  const url = URL.createObjectURL(file);
  const image = new Image();
  return new Promise((resolve, reject) => {
    image.onload = () => resolve({ width: image.naturalWidth, height: image.naturalHeight });
    image.onerror = reject;
    image.src = url;
  }).finally(() => URL.revokeObjectURL(url));
}

function serverProxy(file, { previewUrl, csrfToken }) {
  const body = new FormData();
  body.append("picture", file);
  body.append("csrfmiddlewaretoken", csrfToken);
  return proxyFetch(previewUrl, { method: "POST", body });
}

/** A file of the app's own (a result, a job's picture or mask) as a File named ``name``. */
export async function pictureFetch(url, name) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status}`);
  const blob = await response.blob();
  return new File([blob], name, { type: blob.type });
}

/**
 * The editor's proxy of a picture the server already holds (a job's picture or result), as pictureOpen
 * resolves: nothing is uploaded, and the full file (often over the upload limit) is never downloaded.
 */
export function heldPictureProxy(url) {
  return proxyFetch(url, {});
}

async function proxyFetch(url, init) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: "same-origin" });
  } catch {
    throw new PictureRefused(gettext("No connection to the server to open this picture; check your network and try again."));
  }
  if (response.status === 400) throw new PictureRefused(await response.text());
  if (!response.ok) throw new PictureRefused(gettext("The server could not open this picture right now; try again in a moment."));
  return {
    blob: await response.blob(),
    width: Number(response.headers.get("X-Picture-Width")), height: Number(response.headers.get("X-Picture-Height")),
  };
}

/**
 * Check ``file`` against ``limits`` ({minSide, maxPixels, maxBytes, proxyMaxSide, uploadNames}) and
 * open it: resolves to {blob, width, height}, a blob the browser shows upright and at most
 * proxyMaxSide a side (the file itself, or the server's proxy), width and height the full picture's.
 * Rejects with PictureRefused, whose refusal of an unknown file names the uploadNames.
 */
export async function pictureOpen(file, limits, server) {
  const name = file.name || gettext("This picture");
  const type = pictureType(new Uint8Array(await file.slice(0, 12).arrayBuffer()), file.type);
  if (!type) {
    throw new PictureRefused(interpolate(gettext("“%(name)s” is not a picture this app can read: choose a %(formats)s file."),
      { name, formats: limits.uploadNames }));
  }
  if (file.size > limits.maxBytes) {
    throw new PictureRefused(interpolate(
      gettext("“%(name)s” is %(size)s MB, over the limit of %(limit)s MB: save it smaller or as JPEG and try again."),
      { name, size: (file.size / MB).toFixed(1), limit: Math.round(limits.maxBytes / MB) }));
  }
  if (PICTURE_TYPES[type].browser) {
    const size = await browserSize(file).catch(() => {
      throw new PictureRefused(interpolate(gettext("“%(name)s” cannot be opened; the file may be damaged."), { name }));
    });
    const problem = sizeProblem(size.width, size.height, limits);
    if (problem) throw new PictureRefused(problem);
    if (Math.max(size.width, size.height) <= limits.proxyMaxSide) return { blob: file, ...size };
  }
  const opened = await serverProxy(file, server);
  const problem = sizeProblem(opened.width, opened.height, limits);
  if (problem) throw new PictureRefused(problem);
  return opened;
}
