from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "rapport.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from rapport.api import shell  # noqa: F401  (registers the admins' menu entry)
