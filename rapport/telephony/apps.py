from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "rapport.telephony"
    label = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from rapport.telephony import shell  # noqa: F401  (registers the settings' navigation)
