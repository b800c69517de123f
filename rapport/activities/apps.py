from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "rapport.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from rapport.activities import (
            admin_shell,  # noqa: F401  (the activity settings in the admin menu)
            owner_moves,  # noqa: F401  (planned activities follow their client to a new owner)
            shell,  # noqa: F401  (my day, the calendar and the activity list in the navigation)
            timeline,  # noqa: F401  (adds activities to the client timeline and merge)
        )
