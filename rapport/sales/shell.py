"""What sales adds to the shell: the deal list and the board in the navigation.

Deals are not in the global search yet: matching a title fragment scans every deal the user
may see (no index serves ``LIKE '%…%'``), which on data set M cost 20 ms for a manager and
about a second for an admin, against the search box's 30 ms. It needs a folded search column
with an index first, as clients have (``search_text``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.core import navigation

# Everyone signed in sees deals: the access policy decides which (an operator or analyst reads them all).
navigation.register(
    navigation.NavItem(key="deals", label=_("Deals"), url_name="sales:deal-list", icon="briefcase", order=30)
)
navigation.register(
    navigation.NavItem(key="board", label=_("Board"), url_name="sales:board-default", icon="columns", order=35)
)
