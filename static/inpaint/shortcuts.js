// The keyboard shortcuts: one table, from which the key handler, the help list on the page and the
// buttons' tooltips are all made, so they cannot disagree.
//
// ``keys`` are combinations as shown ("Shift+Ctrl+Z"; Ctrl also means ⌘ on a Mac); ``action`` names
// what studio.js runs, the same name as the button's data-action or data-tool-button. Entries
// without an action are gestures handled elsewhere, listed for the person only. ``inPrompt``
// shortcuts work only while typing in the prompt; all others are off while typing.

import { gettext } from "./i18n.js";

export const SHORTCUTS = [
  { keys: ["B"], does: gettext("Brush"), action: "brush" },
  { keys: ["E"], does: gettext("Eraser"), action: "eraser" },
  { keys: ["R"], does: gettext("Rectangle (hold Alt to erase one)"), action: "rect" },
  { keys: ["L"], does: gettext("Lasso: draw around an area to fill it (hold Alt to erase it)"), action: "lasso" },
  { keys: ["["], does: gettext("Smaller brush (also Alt+wheel)"), action: "brush-smaller" },
  { keys: ["]"], does: gettext("Larger brush; with a pen, pressing lighter paints thinner"), action: "brush-larger" },
  { keys: ["Ctrl+Z"], does: gettext("Undo the last stroke"), action: "undo" },
  { keys: ["Shift+Ctrl+Z", "Ctrl+Y"], does: gettext("Redo"), action: "redo" },
  { keys: ["I"], does: gettext("Invert the mask"), action: "invert" },
  // xgettext:no-javascript-format (the "1 %" is a share, not a placeholder)
  { keys: ["G"], does: gettext("Grow the mask by 1 % of the picture"), action: "grow-mask" },
  // xgettext:no-javascript-format
  { keys: ["Shift+G"], does: gettext("Shrink the mask by 1 % of the picture"), action: "shrink-mask" },
  { keys: ["H"], does: gettext("Hide or show the mask"), action: "toggle-mask" },
  { keys: [], gesture: gettext("Wheel, pinch"), does: gettext("Zoom") },
  { keys: ["+", "="], does: gettext("Zoom in"), action: "zoom-in" },
  { keys: ["-"], does: gettext("Zoom out"), action: "zoom-out" },
  { keys: ["Space"], gesture: gettext("drag, or two fingers"), does: gettext("Move the picture") },
  { keys: ["0", "Esc"], does: gettext("Fit the picture"), action: "fit" },
  { keys: ["1"], does: gettext("Actual pixels"), action: "actual-size" },
  { keys: ["O"], does: gettext("Hold to see the original under the result on the canvas"), action: "original-hold" },
  // A focused slider, radio button or list keeps its arrow keys.
  { keys: ["←"], does: gettext("The job's previous result on the canvas"), action: "result-previous", notOnArrowControls: true },
  { keys: ["→"], does: gettext("The job's next result on the canvas"), action: "result-next", notOnArrowControls: true },
  { keys: [], gesture: gettext("Arrows, then Enter"),
    does: gettext("Rectangle from the keyboard, with the picture focused: Shift+arrows size it, Alt+Enter erases it") },
  { keys: ["Ctrl+V"], does: gettext("Paste a picture") },
  { keys: ["Ctrl+Enter"], does: gettext("Generate (in the prompt)"), action: "generate", inPrompt: true },
  { keys: ["?"], does: gettext("Show or hide this list"), action: "shortcuts" },
];

const KEY_NAMES = { esc: "escape", space: " ", "←": "arrowleft", "→": "arrowright" };

function parse(combo) {
  const parts = combo.split(/\+(?=.)/);
  const key = parts.pop().toLowerCase();
  const mods = new Set(parts.map((part) => part.toLowerCase()));
  return { key: KEY_NAMES[key] ?? key, ctrl: mods.has("ctrl"), shift: mods.has("shift"), alt: mods.has("alt") };
}

function matches(combo, event) {
  const want = parse(combo);
  if (event.key.toLowerCase() !== want.key) return false;
  if ((event.ctrlKey || event.metaKey) !== want.ctrl || event.altKey !== want.alt) return false;
  // Shift tells G from Shift+G; on "?" or "+" it is only how the layout types the key.
  return !/^[a-z]$/.test(want.key) || event.shiftKey === want.shift;
}

/** The shortcut a keydown event (or anything with key, ctrlKey, metaKey, altKey, shiftKey) asks for, or null. */
export function shortcutFor(event, table = SHORTCUTS) {
  return table.find((entry) => entry.action && entry.keys.some((combo) => matches(combo, event))) ?? null;
}

/** The keys of the shortcut for ``action``, as shown in a tooltip ("Shift+Ctrl+Z or Ctrl+Y"), or "". */
export function shortcutKeys(action, table = SHORTCUTS) {
  const entry = table.find((candidate) => candidate.action === action);
  return entry ? entry.keys.join(gettext(" or ")) : "";
}

/** Fill a <dl> with the table: each combination as <kbd> keys, then what it does. */
export function shortcutsList(dl, table = SHORTCUTS) {
  const doc = dl.ownerDocument;
  dl.replaceChildren();
  for (const entry of table) {
    const term = doc.createElement("dt");
    entry.keys.forEach((combo, i) => {
      if (i) term.append(gettext(" or "));
      combo.split(/\+(?=.)/).forEach((key, j) => {
        if (j) term.append("+");
        const kbd = doc.createElement("kbd");
        kbd.textContent = key;
        term.append(kbd);
      });
    });
    if (entry.gesture) term.append(entry.keys.length ? `+${entry.gesture}` : entry.gesture);
    const description = doc.createElement("dd");
    description.textContent = entry.does;
    dl.append(term, description);
  }
}

/** Whether a key pressed in (or a paste into) ``target`` is typing: shortcuts are off there. */
export function typingIn(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.matches("textarea, select")) return true;
  return target.matches("input") && !["range", "checkbox", "radio", "button", "submit", "color", "file"].includes(target.type);
}

/** Whether ``target`` moves with the arrow keys itself (a slider, a radio button, a list), so it keeps them. */
export function arrowsMoveIn(target) {
  return target.matches("input[type=range], input[type=radio], select, [role=slider], [role=radio]");
}

/**
 * Run ``actions[shortcut.action]()`` for each shortcut pressed on the page; Space held down (outside text) pans
 * the editor in ``root`` through ``setSpaceHeld``.
 */
export function shortcutsListen({ actions, root, setSpaceHeld }, table = SHORTCUTS) {
  document.addEventListener("keydown", (event) => {
    const shortcut = shortcutFor(event, table);
    if (typingIn(event.target)) {
      if (shortcut && shortcut.inPrompt && event.target.matches("[data-testid=prompt]")) {
        event.preventDefault();
        actions[shortcut.action]();
      }
      return;
    }
    if (event.key === " " && !(event.ctrlKey || event.metaKey || event.altKey)) {
      if (!event.repeat) setSpaceHeld(true);
      if (event.target === document.body || root.contains(event.target)) event.preventDefault();
      return;
    }
    if (!shortcut || shortcut.inPrompt || (shortcut.notOnArrowControls && arrowsMoveIn(event.target))) return;
    event.preventDefault();
    actions[shortcut.action]();
  });
  document.addEventListener("keyup", (event) => { if (event.key === " ") setSpaceHeld(false); });
  window.addEventListener("blur", () => setSpaceHeld(false));
}
