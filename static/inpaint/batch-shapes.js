// What a batch sends (pure, unit-tested with node --test): the photos in name order, the first one the mask
// is painted on, and of the others those of its shape, those of another shape (skipped or sent to have the
// mask placed relative to them, as the person chooses), and those whose size the browser cannot read (HEIC,
// say), which are sent for the server to measure.

const NAME_ORDER = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** The pictures among `files`, in the order a file manager lists them ("2.jpg" before "10.jpg"). */
export function batchPhotosSorted(files, isPicture) {
  return [...files].filter(isPicture).sort((a, b) => NAME_ORDER.compare(a.name, b.name));
}

/** Whether two [width, height] have one shape, within `tolerance` of their aspect ratios (as the server checks). */
export function shapeMatches([width, height], [otherWidth, otherHeight], tolerance) {
  return Math.abs((width / height) / (otherWidth / otherHeight) - 1) <= tolerance;
}

/**
 * The plan for photos [{ file, size }] (size null when unknown), the first one the mask's:
 * { send: files to send after the first, other: files of another shape, count: photos in the batch }.
 */
export function batchPlan(photos, { relative, tolerance }) {
  const [first, ...rest] = photos;
  const other = rest.filter((photo) => photo.size && first.size && !shapeMatches(photo.size, first.size, tolerance));
  const send = rest.filter((photo) => relative || !other.includes(photo));
  return { send: send.map((photo) => photo.file), other: other.map((photo) => photo.file), count: 1 + send.length };
}
