from django.apps import AppConfig


class InpaintConfig(AppConfig):
    name = "inpaint"
    verbose_name = "Inpaint Studio"

    def ready(self) -> None:
        # Django's documented place to connect signal receivers, once the models are loaded.
        from inpaint.services import owners, retention  # noqa: F401
