// The rectangle tool from the keyboard (issue 22): with the tool chosen and the picture focused, a box shows in the
// middle of the picture; the arrow keys move it, Shift with the arrows changes its size, Enter marks it (Alt+Enter
// erases it) and Esc puts it away. The box is in the mask canvas's own pixels, as the pointer's rectangles are.

// One press moves or resizes the box by this share of the picture's longer side.
const STEP_SHARE = 0.02;
const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** The box a keyboard rectangle starts as: the middle half of a width × height picture. */
export function keyRectStart(width, height) {
  return { x0: Math.round(width / 4), y0: Math.round(height / 4), x1: Math.round(width * 3 / 4), y1: Math.round(height * 3 / 4) };
}

/**
 * The box after ``key`` (an arrow) is pressed: moved, or with ``resize`` its right and bottom edges moved, always
 * inside the picture and at least one step wide and high. Null for a key that is not an arrow.
 */
export function keyRectMove(box, key, resize, width, height) {
  const move = MOVES[key];
  if (!move) return null;
  const step = Math.max(1, Math.round(Math.max(width, height) * STEP_SHARE));
  const [dx, dy] = move.map((unit) => unit * step);
  if (resize) {
    return { ...box, x1: Math.min(width, Math.max(box.x0 + step, box.x1 + dx)),
             y1: Math.min(height, Math.max(box.y0 + step, box.y1 + dy)) };
  }
  const shiftX = Math.min(width - box.x1, Math.max(-box.x0, dx));
  const shiftY = Math.min(height - box.y1, Math.max(-box.y0, dy));
  return { x0: box.x0 + shiftX, y0: box.y0 + shiftY, x1: box.x1 + shiftX, y1: box.y1 + shiftY };
}

/**
 * Listen to the keys on ``stage`` while the editor's tool is the rectangle: ``showRect(a, b, erase)`` and
 * ``hideRect()`` draw the box the pointer's rectangles use, and ``layer.fillRect`` marks it.
 */
export function keyboardRectWire({ stage, state, layer, showRect, hideRect }) {
  let box = null;
  const active = () => state.loaded && state.tool === "rect";
  // Only a keyboard focus shows the box: a click on the picture focuses the stage too, and there the pointer draws.
  const keyboardFocused = () => document.activeElement === stage && stage.matches(":focus-visible");
  const show = (erase = false) => showRect({ x: box.x0, y: box.y0 }, { x: box.x1, y: box.y1 }, erase);
  const putAway = () => { box = null; hideRect(); };

  stage.addEventListener("focus", () => { if (active() && keyboardFocused()) { box = keyRectStart(state.width, state.height); show(); } });
  stage.addEventListener("blur", () => { if (box) putAway(); });
  stage.addEventListener("keydown", (event) => {
    if (!active() || !box) return;
    const moved = keyRectMove(box, event.key, event.shiftKey, state.width, state.height);
    if (moved) {
      box = moved;
      show();
    } else if (event.key === "Enter") {
      layer.fillRect({ x: box.x0, y: box.y0 }, { x: box.x1, y: box.y1 }, event.altKey);
    } else if (event.key === "Escape") {
      putAway();
    } else {
      return;
    }
    // The page's own shortcuts (the arrows step through results, Esc fits the picture) wait for the box.
    event.preventDefault();
    event.stopPropagation();
  });
  return {
    /** A tool chosen while the picture has the focus: the box shows at once for the rectangle, or goes. */
    toolChanged() {
      if (active() && !box && keyboardFocused()) {
        box = keyRectStart(state.width, state.height);
        show();
      } else if (box && !active()) {
        putAway();
      }
    },
  };
}
