"""Sign-in forms (the app's and the admin's) that refuse while too many sign-ins failed (inpaint.services.signins)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext, gettext_noop

from inpaint.services import addresses, owners, signins

# Translated as it is raised, so tests and logs may compare the English.
SIGNIN_PAUSED_MESSAGE = gettext_noop("Too many sign-ins failed for this account or from this network. "
                                     "Wait a quarter of an hour, then try again.")


class ThrottledSigninMixin:
    def clean(self):
        username = self.data.get("username", "")
        network = owners.address_network(addresses.request_client_address(self.request))
        if not signins.signin_allowed(username, network):
            raise forms.ValidationError(gettext(SIGNIN_PAUSED_MESSAGE), code="signin_paused")
        try:
            return super().clean()
        except forms.ValidationError:
            signins.signin_failure_count(username, network)
            raise


class SigninForm(ThrottledSigninMixin, AuthenticationForm):
    pass


class AdminSigninForm(ThrottledSigninMixin, AdminAuthenticationForm):
    pass
