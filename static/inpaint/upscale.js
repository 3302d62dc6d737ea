// "Upscale" in the form: the factor's choice shows only for that function, and says before Generate how large
// the finished picture will be and how many images are billed; a result card's "Upscale ×N" does it in one click.
import { gettext, interpolate, ngettext } from "./i18n.js";
import { upscaleSize } from "./upscale-size.js";

const UPSCALE = "super_resolution";

/** Wire the factor's panel for ``editor``; returns refresh(), to call when the engine, function or picture changed. */
export function upscaleWire(editor, options) {
  const form = () => document.getElementById("job-form");
  const chosen = () => {
    const choice = form().querySelector("[name=function]:checked");
    const control = form().querySelector("[data-control=function]");
    return Boolean(choice && choice.value === UPSCALE && control && !control.hidden);
  };
  return function refresh() {
    const panel = form().querySelector("[data-upscale-controls]");
    if (!panel) return;
    const on = chosen();
    panel.hidden = !on;
    if (!on) return;
    // The whole picture is sent and the factor is its size: context and output size mean nothing here.
    for (const name of ["context", "size"]) {
      const control = form().querySelector(`[data-control=${name}]`);
      if (control) control.hidden = true;
    }
    const note = panel.querySelector("[data-upscale-size]");
    const engine = options.engines[form().querySelector("[data-engine-select]").value];
    if (!editor.state.loaded || !engine) {
      note.textContent = "";
      return;
    }
    const factor = Number(form().querySelector("[name=upscale_factor]:checked")?.value || options.upscale.factors[0]);
    const count = Number(form().querySelector("[name=n]:checked")?.value || 1);
    const size = upscaleSize(editor.state.pictureWidth, editor.state.pictureHeight, factor, engine.sides);
    note.classList.toggle("bad", !size.fits);
    note.textContent = size.fits
      ? interpolate(ngettext("The upscaled picture: %(width)s × %(height)s pixels; %(count)s image is billed.",
                             "The upscaled picture: %(width)s × %(height)s pixels; %(count)s images are billed.", count),
                    { width: size.width, height: size.height, count })
      : interpolate(gettext("This engine upscales ×%(factor)s pictures of at most %(largest)s pixels on their longer side. Choose a smaller factor."),
                    { factor, largest: size.largest });
  };
}

/** Choose upscaling ×``factor`` in the form, on the first engine that offers it; false when none does. */
export function upscaleChoose(options, factor) {
  if (!options.upscale.engine) return false;
  const form = document.getElementById("job-form");
  const select = form.querySelector("[data-engine-select]");
  select.value = options.upscale.engine;
  form.querySelector(`[name=function][value=${UPSCALE}]`).checked = true;
  form.querySelector(`[name=upscale_factor][value="${factor}"]`).checked = true;
  select.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}
