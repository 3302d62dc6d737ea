"""The job form: each field checked on its own, without reading a picture or storage. Field names are the DashScope
API's own; what only the server can check (the engine's key and prompt length, the pictures, a held picture's owner)
is inpaint.services.job_requests's."""

from __future__ import annotations

import json

from django import forms
from django.forms.utils import ErrorDict

from inpaint import options
from inpaint.engines import engine_default, engines_listed

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
    # Required to repaint, not to extend the picture (inpaint.services.job_requests checks which).
    mask_image = forms.FileField(label="Mask", required=False,
                                 help_text="White (or the mask colours) marks the area to repaint.")
    function = forms.ChoiceField(label="What to do", choices=options.FUNCTIONS, initial=options.FUNCTION_EDIT,
                                 required=False)
    prompt = forms.CharField(label="What should be there", required=False, max_length=800,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    negative_prompt = forms.CharField(label="What should not be there", required=False,
                                      max_length=options.NEGATIVE_PROMPT_MAX_CHARS,
                                      initial=options.NEGATIVE_PROMPT_DEFAULT,
                                      widget=forms.TextInput(attrs={"autocomplete": "off"}),
                                      help_text="Optional, e.g. text, a watermark, extra fingers.")
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for side in options.EXPAND_SIDES:
            self.fields[side] = _expand_scale_field(side.split("_")[0])
        self.fields["engine"].choices = [(engine.key, engine.label) for engine in engines_listed()]
        default = engine_default()
        if default is not None:
            self.fields["engine"].initial = default.key

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
        # Fields a form may leave out take their defaults, like the page's own initial values.
        cleaned["size"] = cleaned.get("size") or options.SIZE_DEFAULT
        cleaned["context"] = cleaned.get("context") or options.CONTEXT_DEFAULT
        if cleaned.get("edge_softness") is None:
            cleaned["edge_softness"] = options.EDGE_SOFTNESS_DEFAULT
        cleaned["function"] = cleaned.get("function") or options.FUNCTION_EDIT
        for side in options.EXPAND_SIDES:
            if side not in self.errors and cleaned.get(side) is None:
                cleaned[side] = options.EXPAND_SCALE_MIN
        return cleaned


def _expand_scale_field(edge: str) -> forms.FloatField:
    """How far ``expand`` extends the picture past its ``edge`` (top, bottom, left, right), as the API takes it."""
    limits = f"from {options.EXPAND_SCALE_MIN:g} (not at all) to {options.EXPAND_SCALE_MAX:g} (the picture's own " \
             f"{'height' if edge in ('top', 'bottom') else 'width'} again)"
    return forms.FloatField(
        label=f"Extend the {edge} edge", required=False, min_value=options.EXPAND_SCALE_MIN,
        max_value=options.EXPAND_SCALE_MAX, initial=options.EXPAND_SCALE_MIN,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        error_messages={
            "max_value": f"The {edge} edge can be extended at most to {options.EXPAND_SCALE_MAX:g} times the "
                         "picture; extend it less, or extend the finished picture again.",
            "min_value": f"The {edge} edge can be extended {limits}.",
            "invalid": f"The {edge} edge can be extended {limits}; write a number such as 1.5.",
        })
