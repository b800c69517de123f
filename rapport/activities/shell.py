"""What activities add to the shell: my day, the calendar and the activity list in the navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

# My day and the calendar are a person's own activities: for those who log them. The list reads
# whatever the access policy shows (analysts and marketers read everyone's).
navigation.register(
    navigation.NavItem(
        key="my-day",
        label=_("My day"),
        url_name="activities:my-day",
        icon="clock",
        order=5,
        visible=access.can_log_activities,
    )
)
navigation.register(
    navigation.NavItem(
        key="calendar",
        label=_("Calendar"),
        url_name="activities:calendar",
        icon="calendar",
        order=40,
        visible=access.can_log_activities,
    )
)
navigation.register(
    navigation.NavItem(
        key="activities", label=_("Activities"), url_name="activities:activity-list", icon="activity", order=45
    )
)
