from django.apps import AppConfig


class InpaintConfig(AppConfig):
    name = "inpaint"
    verbose_name = "Inpaint Studio"
