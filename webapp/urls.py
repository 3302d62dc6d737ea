from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from inpaint import api
from inpaint.signin_forms import AdminSigninForm, SigninForm

# Mail that really leaves the machine: with Django's console or memory backends a reset mail reaches no one.
MAIL_BACKENDS_THAT_SEND_NOTHING = ("django.core.mail.backends.console.EmailBackend",
                                   "django.core.mail.backends.locmem.EmailBackend",
                                   "django.core.mail.backends.dummy.EmailBackend")


def urlpatterns_build() -> list:
    """The routes for the current settings: the admin in open mode only when a setting asks for it, and
    password reset only when mail is configured, so no stranger can send reset mails or reach a login form
    they have no use for."""
    patterns = []
    # The admin's own sign-in form is throttled like the app's.
    admin.site.login_form = AdminSigninForm
    if settings.INPAINT_ACCESS == "login" or settings.INPAINT_ADMIN_IN_OPEN_MODE:
        patterns.append(path("admin/", admin.site.urls))
    # Django's own sign-in, sign-out and password change, styled like the app (templates/registration/).
    patterns += [
        path("accounts/login/", auth_views.LoginView.as_view(authentication_form=SigninForm), name="login"),
        path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
        path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
        path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
             name="password_change_done"),
    ]
    # The language switch and the scripts' strings serve the sign-in page too, so they need no sign-in.
    patterns += [
        path("i18n/setlang/", login_not_required(set_language), name="set_language"),
        path("i18n/catalogue.js", login_not_required(JavaScriptCatalog.as_view(packages=["inpaint"])),
             name="javascript-catalogue"),
    ]
    mail_backend = (getattr(settings, "MAILERS", None) or {}).get("default", {}).get("BACKEND", "")
    if mail_backend and mail_backend not in MAIL_BACKENDS_THAT_SEND_NOTHING:
        patterns.append(path("accounts/", include("django.contrib.auth.urls")))
    # The DashScope-compatible gateway for scripts (inpaint.api): keyed, no session.
    patterns.append(path(api.PATH_PREFIX, include("inpaint.api.urls")))
    return patterns + [path("", include("inpaint.urls"))]


urlpatterns = urlpatterns_build()
