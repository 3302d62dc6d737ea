"""The signed-in person's API keys for the gateway (inpaint.api): make one with a name, see them, revoke one.

A new key is shown once, in the answer to the post that made it (never stored, never cached); afterwards the page
knows only its prefix. Another person's key is answered like one that does not exist.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from inpaint import api
from inpaint.api.keys import KEY_START, api_key_create, api_key_revoke
from inpaint.models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("What the key is for"), max_length=ApiKey._meta.get_field("name").max_length,
                           help_text=_("e.g. the script's name, so you know which key to revoke."))


@sensitive_variables("key")
@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    key = ""
    if request.method == "POST" and form.is_valid():
        key = api_key_create(request.user, form.cleaned_data["name"])[1]
        form = ApiKeyForm()
    response = render(request, "inpaint/api_keys.html", {
        "form": form, "new_key": key, "keys": ApiKey.objects.filter(user=request.user), "key_start": KEY_START,
        "base_url": request.build_absolute_uri("/" + api.PATH_PREFIX).rstrip("/")})
    if key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = ApiKey.objects.filter(user=request.user, pk=pk).first()
    if api_key is None:
        raise Http404("No such key")
    api_key_revoke(api_key)
    return redirect(reverse("inpaint:api-keys"))
