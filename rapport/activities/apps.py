from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "rapport.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from rapport.activities import (
            timeline,  # noqa: F401  (adds activities to the client timeline and merge)
        )
