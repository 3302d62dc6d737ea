from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's own sign-in, sign-out and password change, styled like the app (templates/registration/).
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("inpaint.urls")),
]
