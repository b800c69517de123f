"""What plans add to the shell: the plans page in the navigation (imported by MotivationConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="plans", label=_("Plans"), url_name="motivation:plans", icon="flag", order=48, visible=access.sees_plans
    )
)
