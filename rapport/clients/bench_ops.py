"""The client base's benchmark operations (targets from shared/DESIGN.md), signed in as the demo manager."""

from __future__ import annotations

from urllib.parse import quote

from django.db.models import Count

from rapport.clients.models import Company, Contact, ContactPoint
from rapport.core import bench


def _managers_contact(context: bench.BenchContext) -> Contact:
    contact = context.objects(Contact).filter(owner__username="manager", company__isnull=False).order_by("pk").first()
    if contact is None:
        raise LookupError("the demo manager owns no contact: load the demo data first")
    return contact


def _phone_tail(context: bench.BenchContext) -> str:
    point = context.objects(ContactPoint).filter(contact=_managers_contact(context), kind="phone").first()
    assert point is not None
    return point.value[-9:]  # "345-67-89", as a manager types what they remember


def _name_fragment(context: bench.BenchContext) -> str:
    return _managers_contact(context).last_name[:4]


def _company_card(context: bench.BenchContext) -> str:
    """The demo manager's company with the longest history: its card shows a full timeline."""
    company = (
        context.objects(Company)
        .filter(owner__username="manager")
        .annotate(owner_changes=Count("transfers"))
        .order_by("-owner_changes", "pk")
        .first()
    )
    assert company is not None
    return f"/clients/companies/{company.pk}/"


# The search box asks as the user types: htmx fetches the results partial, not the page.
SEARCH_BOX = {"HX-Request": "true", "HX-Target": "global-search-results"}

bench.register(
    bench.BenchOperation(
        key="search: phone tail",
        title="search box: the last digits of a phone",
        path=lambda context: f"/search/?q={quote(_phone_tail(context))}",
        target_ms=30,
        headers=SEARCH_BOX,
    )
)
bench.register(
    bench.BenchOperation(
        key="search: name fragment",
        title="search box: a name fragment",
        path=lambda context: f"/search/?q={quote(_name_fragment(context))}",
        target_ms=30,
        headers=SEARCH_BOX,
    )
)
bench.register(bench.BenchOperation(key="client card", title="company card", path=_company_card, target_ms=40))

for model in ("clients.Company", "clients.Contact", "clients.ContactPoint"):
    bench.register_table(model)

bench.register(
    bench.BenchOperation(
        key="client list",
        title="contact list: mine, active, oldest contact first",
        path=lambda context: "/clients/contacts/?owner=me&status=active&sort=last_contact",
        target_ms=30,
    )
)
bench.register(
    bench.BenchOperation(
        key="client list (head)",
        title="company list of a head's whole team",
        path=lambda context: "/clients/companies/",
        user="head",
        target_ms=30,
    )
)
