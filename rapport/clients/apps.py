from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "rapport.clients"
    label = "clients"
    verbose_name = _("Client base")

    def ready(self) -> None:
        from rapport.clients import shell  # noqa: F401  (registers the client search)
