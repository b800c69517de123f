from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "rapport.supervision"
    label = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        # Each part registers what it adds to the shell (navigation, my day, the dashboard) in its own module.
        from rapport.supervision import shell  # noqa: F401
