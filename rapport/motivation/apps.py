from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MotivationConfig(AppConfig):
    name = "rapport.motivation"
    label = "motivation"
    verbose_name = _("Motivation")

    def ready(self) -> None:
        from rapport.motivation import (
            counters,  # noqa: F401  (the plan counters at the top of my day)
            shell,  # noqa: F401  (data quality in the navigation)
            shell_bonus,  # noqa: F401  (statements in the navigation)
            shell_bonus_rules,  # noqa: F401  (bonus rules in the administration navigation)
            shell_plans,  # noqa: F401  (plans in the navigation)
        )
