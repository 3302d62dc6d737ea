"""The job form: each field checked on its own, without reading a picture or storage. Field names are the DashScope
API's own; what only the server can check (the engine's key and prompt length, the pictures, a held picture's owner)
is inpaint.services.job_requests's."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.translation import gettext
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from inpaint import options
from inpaint.engines import engine_default, engines_listed
from inpaint.models import Batch

# Room for every allowed colour written with generous spaces; a longer text is refused before the
# JSON parser sees it, because deep nesting ("[[[[…") makes that parser recurse until it breaks.
MASK_COLOR_MAX_CHARS = options.MAX_MASK_COLOURS * 32


def _mask_colour_message(key: str) -> str:
    return options.mask_colour_messages(gettext)[key]


def _choices(pairs) -> list:
    # inpaint.options keeps its labels in English; they are translated where they are shown.
    return [(value, _(label)) for value, label in pairs]


class JobForm(forms.Form):
    engine = forms.ChoiceField(label=_("Engine"))
    base_image = forms.FileField(label=_("Picture"), required=False)
    # Instead of the file, a picture the server already holds for this person: "result:<job id>:<slot>"
    # (Use as new base) or "job:<job id>" (a job's own picture). A finished photo is often larger than
    # any upload may be, and sending it back would cost the upload time again.
    base_source = forms.CharField(required=False, widget=forms.HiddenInput)
    # Required to repaint, not to extend the picture (inpaint.services.job_requests checks which).
    mask_image = forms.FileField(label=_("Mask"), required=False,
                                 help_text=_("White (or the mask colours) marks the area to repaint."))
    function = forms.ChoiceField(label=_("What to do"), choices=_choices(options.FUNCTIONS), initial=options.FUNCTION_EDIT,
                                 required=False)
    upscale_factor = forms.TypedChoiceField(
        label=_("Upscale by"), choices=[(factor, f"×{factor}") for factor in options.UPSCALE_FACTORS], coerce=int,
        initial=options.UPSCALE_FACTOR_DEFAULT, required=False)
    prompt = forms.CharField(label=_("What should be there"), required=False, max_length=800,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    negative_prompt = forms.CharField(label=_("What should not be there"), required=False,
                                      max_length=options.NEGATIVE_PROMPT_MAX_CHARS,
                                      initial=options.NEGATIVE_PROMPT_DEFAULT,
                                      widget=forms.TextInput(attrs={"autocomplete": "off"}),
                                      help_text=_("Optional, e.g. text, a watermark, extra fingers."))
    style = forms.ChoiceField(label=_("Style"), choices=_choices(options.STYLES), initial=options.STYLE_DEFAULT)
    size = forms.ChoiceField(label=_("Output size"), choices=_choices(options.SIZES), initial=options.SIZE_DEFAULT, required=False)
    context = forms.ChoiceField(label=_("Context around the painted area"), choices=_choices(options.CONTEXTS),
                                initial=options.CONTEXT_DEFAULT, required=False,
                                help_text=_("How much of the picture around your painting the engine looks at."))
    edge_softness = forms.IntegerField(label=_("Edge softness"), min_value=0, max_value=options.EDGE_SOFTNESS_MAX,
                                       initial=options.EDGE_SOFTNESS_DEFAULT, required=False,
                                       help_text=_("Pixels over which the painted area blends into your picture."))
    n = forms.TypedChoiceField(label=_("Images"), choices=[(i, str(i)) for i in options.COUNTS], coerce=int,
                               initial=options.COUNT_DEFAULT)
    mask_color = forms.CharField(label=_("Mask colours"), required=False, max_length=MASK_COLOR_MAX_CHARS,
                                 error_messages={"max_length": lazy(_mask_colour_message, str)("too_long")},
                                 help_text=_('Only for coloured masks, e.g. [[0, 0, 0], [134, 134, 134]].'))

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
            raise forms.ValidationError(_mask_colour_message("syntax")) from None
        if isinstance(colours, list) and len(colours) > options.MAX_MASK_COLOURS:
            raise forms.ValidationError(gettext("Name at most %(limit)d mask colours; this list has %(count)d.")
                                        % {"limit": options.MAX_MASK_COLOURS, "count": len(colours)})
        valid = isinstance(colours, list) and all(
            isinstance(c, list) and len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colours)
        if not valid:
            raise forms.ValidationError(_mask_colour_message("values"))
        return colours

    def clean(self):
        cleaned = super().clean()
        # Fields a form may leave out take their defaults, like the page's own initial values.
        cleaned["size"] = cleaned.get("size") or options.SIZE_DEFAULT
        cleaned["context"] = cleaned.get("context") or options.CONTEXT_DEFAULT
        if cleaned.get("edge_softness") is None:
            cleaned["edge_softness"] = options.EDGE_SOFTNESS_DEFAULT
        cleaned["function"] = cleaned.get("function") or options.FUNCTION_EDIT
        if "upscale_factor" not in self.errors and not cleaned.get("upscale_factor"):
            cleaned["upscale_factor"] = options.UPSCALE_FACTOR_DEFAULT
        for side in options.EXPAND_SIDES:
            if side not in self.errors and cleaned.get(side) is None:
                cleaned[side] = options.EXPAND_SCALE_MIN
        return cleaned


class BatchForm(forms.Form):
    """What a batch's first post says beside the job form: how many photos will come, and what to do with those of
    another shape than the first."""

    photo_count = forms.IntegerField(min_value=1)
    other_shapes = forms.ChoiceField(choices=Batch.OtherShapes.choices, initial=Batch.OtherShapes.SKIP, required=False)

    def clean_photo_count(self) -> int:
        count, limit = self.cleaned_data["photo_count"], settings.INPAINT_BATCH_MAX_PHOTOS
        if count > limit:
            raise forms.ValidationError(gettext("A batch takes at most %(limit)d photos; choose fewer.")
                                        % {"limit": limit})
        return count

    def clean_other_shapes(self) -> str:
        return self.cleaned_data["other_shapes"] or Batch.OtherShapes.SKIP


# The edges' names, for the labels of their scale fields.
EDGE_NAMES = {"top": _("top"), "bottom": _("bottom"), "left": _("left"), "right": _("right")}


def _expand_scale_field(edge: str) -> forms.FloatField:
    """How far ``expand`` extends the picture past its ``edge`` (top, bottom, left, right), as the API takes it."""
    names = {"edge": EDGE_NAMES[edge], "min": f"{options.EXPAND_SCALE_MIN:g}", "max": f"{options.EXPAND_SCALE_MAX:g}"}
    within = format_lazy(_("The {edge} edge can be extended from {min} (not at all) to {max} (the picture's own "
                           "size again); write a number such as 1.5."), **names)
    return forms.FloatField(
        label=format_lazy(_("Extend the {edge} edge"), edge=EDGE_NAMES[edge]), required=False,
        min_value=options.EXPAND_SCALE_MIN, max_value=options.EXPAND_SCALE_MAX, initial=options.EXPAND_SCALE_MIN,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        error_messages={
            "max_value": format_lazy(_("The {edge} edge can be extended at most to {max} times the picture; extend "
                                       "it less, or extend the finished picture again."), **names),
            "min_value": within,
            "invalid": within,
        })
