"""The job form. Field names are the DashScope API's own; the picture checks live in inpaint.images."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict

from inpaint import images, options
from inpaint.engines import engine_default, engines_listed
from inpaint.files import serving

# Room for every allowed colour written with generous spaces; a longer text is refused before the
# JSON parser sees it, because deep nesting ("[[[[…") makes that parser recurse until it breaks.
MASK_COLOR_MAX_CHARS = options.MAX_MASK_COLOURS * 32


class JobForm(forms.Form):
    engine = forms.ChoiceField(label="Engine")
    base_image = forms.FileField(label="Picture", required=False)
    # Instead of the file, a picture the server already holds for this person: "result:<job id>:<slot>"
    # (Use as new base) or "job:<job id>" (a job's own picture). A finished photo is often larger than
    # any upload may be, and sending it back would cost the upload time again.
    base_source = forms.CharField(required=False, widget=forms.HiddenInput)
    mask_image = forms.FileField(label="Mask", help_text="White (or the mask colours) marks the area to repaint.")
    prompt = forms.CharField(label="What should be there", required=False, max_length=800,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    style = forms.ChoiceField(label="Style", choices=options.STYLES, initial=options.STYLE_DEFAULT)
    size = forms.ChoiceField(label="Output size", choices=options.SIZES, initial=options.SIZE_DEFAULT, required=False)
    context = forms.ChoiceField(label="Context around the painted area", choices=options.CONTEXTS,
                                initial=options.CONTEXT_DEFAULT, required=False,
                                help_text="How much of the picture around your painting the engine looks at.")
    edge_softness = forms.IntegerField(label="Edge softness", min_value=0, max_value=options.EDGE_SOFTNESS_MAX,
                                       initial=options.EDGE_SOFTNESS_DEFAULT, required=False,
                                       help_text="Pixels over which the painted area blends into your picture.")
    n = forms.TypedChoiceField(label="Images", choices=[(i, str(i)) for i in options.COUNTS], coerce=int,
                               initial=options.COUNT_DEFAULT)
    mask_color = forms.CharField(label="Mask colours", required=False, max_length=MASK_COLOR_MAX_CHARS,
                                 error_messages={"max_length": options.MASK_COLOUR_MESSAGES["too_long"]},
                                 help_text='Only for coloured masks, e.g. [[0, 0, 0], [134, 134, 134]].')

    def __init__(self, *args, owned_jobs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owned_jobs = owned_jobs
        self.fields["engine"].choices = [(engine.key, engine.label) for engine in engines_listed()]
        default = engine_default()
        if default is not None:
            self.fields["engine"].initial = default.key
        self.prepared_base: images.PreparedImage | None = None
        self.mask_png: bytes = b""

    def refuse_unchecked(self, message: str) -> None:
        """Answer the post with ``message`` alone, without checking (or decoding) what it sent."""
        self.cleaned_data, self._errors = {}, ErrorDict()
        self.add_error(None, message)

    def clean_mask_color(self) -> list[list[int]]:
        raw = self.cleaned_data["mask_color"].strip()
        if not raw:
            return []
        try:
            colours = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(options.MASK_COLOUR_MESSAGES["syntax"]) from None
        if isinstance(colours, list) and len(colours) > options.MAX_MASK_COLOURS:
            raise forms.ValidationError(f"Name at most {options.MAX_MASK_COLOURS} mask colours; "
                                        f"this list has {len(colours)}.")
        valid = isinstance(colours, list) and all(
            isinstance(c, list) and len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colours)
        if not valid:
            raise forms.ValidationError(options.MASK_COLOUR_MESSAGES["values"])
        return colours

    def clean(self):
        cleaned = super().clean()
        engine_key = cleaned.get("engine")
        if not engine_key:
            return cleaned
        engine = next(engine for engine in engines_listed() if engine.key == engine_key)
        if not engine.is_configured():
            self.add_error("engine", "This server has no DashScope key, so cloud models are switched off. "
                                     "Choose the offline engine, or ask the administrator to add a key.")
            return cleaned
        self._check_prompt(engine, cleaned.get("prompt", ""))
        self._prepare_pictures(cleaned)
        # Fields a form may leave out take their defaults, like the page's own initial values.
        cleaned["size"] = cleaned.get("size") or options.SIZE_DEFAULT
        cleaned["context"] = cleaned.get("context") or options.CONTEXT_DEFAULT
        if cleaned.get("edge_softness") is None:
            cleaned["edge_softness"] = options.EDGE_SOFTNESS_DEFAULT
        # A control the engine does not take is checked like any other, then ignored (the page hides it).
        for control in options.CONTROLS - engine.controls:
            cleaned[control] = options.CONTROL_DEFAULTS[control]
        cleaned["engine_obj"] = engine
        return cleaned

    def _check_prompt(self, engine, prompt: str) -> None:
        if engine.follows_prompt and not prompt.strip():
            self.add_error("prompt", "Say in a few words what should appear in the painted area.")
        elif len(prompt) > engine.limits.max_prompt_chars:
            self.add_error("prompt", f"The prompt is {len(prompt)} characters; this model reads at most "
                                     f"{engine.limits.max_prompt_chars}. Shorten it.")

    def _prepare_pictures(self, cleaned) -> None:
        # The app's own limits: the engine's are met by the work region, never by the person.
        base_upload, mask_upload = cleaned.get("base_image"), cleaned.get("mask_image")
        limits = {"max_bytes": settings.INPAINT_MAX_UPLOAD_BYTES, "max_pixels": settings.INPAINT_MAX_PIXELS}
        try:
            if base_upload is not None:
                images.check_file_size(base_upload.size, what="picture", max_bytes=limits["max_bytes"])
                self.prepared_base = images.prepare_base_image(base_upload.read(), min_side=settings.INPAINT_MIN_SIDE,
                                                               **limits)
            elif cleaned.get("base_source"):
                held = self._held_picture(cleaned["base_source"])
                # The app made or took this file itself: the upload's byte limit is not the person's to meet.
                self.prepared_base = images.prepare_base_image(held, min_side=settings.INPAINT_MIN_SIDE, max_bytes=len(held),
                                                               max_pixels=limits["max_pixels"])
            else:
                self.add_error("base_image", "Choose a picture to paint on.")
        except images.ImageRefused as refusal:
            self.add_error("base_image", str(refusal))
        if mask_upload is not None and self.prepared_base is not None and "mask_color" in cleaned:
            try:
                images.check_file_size(mask_upload.size, what="mask", max_bytes=limits["max_bytes"])
                self.mask_png = images.prepare_mask(
                    mask_upload.read(), base_size=(self.prepared_base.width, self.prepared_base.height),
                    mask_color=cleaned["mask_color"], **limits)
            except images.ImageRefused as refusal:
                self.add_error("mask_image", str(refusal))

    def _held_picture(self, source: str) -> bytes:
        """The bytes of a picture the server holds for this person (see ``base_source``)."""
        try:
            return serving.job_held_picture_read(self.owned_jobs, source)
        except serving.NoSuchFile:
            raise images.ImageRefused("That picture is no longer here (its job may have been deleted); "
                                      "choose a picture again.") from None
