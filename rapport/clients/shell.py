"""What clients adds to the shell: the company and contact lists, and both in the global search."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.clients.search import find_clients
from rapport.core import navigation, search


def _primary_phone(owner_field: str) -> Subquery:
    """The client's primary phone as written, read in the same query as the client."""
    phones = ContactPoint.objects.filter(
        **{owner_field: OuterRef("pk")}, kind=ContactPointKind.PHONE, is_primary=True
    ).order_by()
    return Subquery(phones.values("value")[:1])


def _phone_of(client: object) -> str:
    return str(getattr(client, "primary_phone", None) or "")


def search_companies(user: User, query: str, limit: int) -> list[search.SearchHit]:
    companies = (
        access.companies_visible_to(user)
        .select_related("owner")
        .only("name", "tax_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(primary_phone=_primary_phone("company"))
    )
    found = find_clients(companies, query, limit=limit)
    return [
        search.SearchHit(
            title=company.name,
            url=company.get_absolute_url(),
            subtitle=" · ".join(
                part
                for part in [
                    company.tax_id,
                    _phone_of(company),
                    company.owner.display_name if company.owner else "",
                ]
                if part
            ),
        )
        for company in sorted(found, key=lambda company: (company.name, company.pk))
    ]


def search_contacts(user: User, query: str, limit: int) -> list[search.SearchHit]:
    contacts = (
        access.contacts_visible_to(user)
        .select_related("company")
        .only("last_name", "first_name", "middle_name", "position", "company__name")
        .annotate(primary_phone=_primary_phone("contact"))
    )
    found = find_clients(contacts, query, limit=limit)
    return [
        search.SearchHit(
            title=contact.display_name,
            url=contact.get_absolute_url(),
            subtitle=" · ".join(
                part
                for part in [contact.company.name if contact.company else contact.position, _phone_of(contact)]
                if part
            ),
        )
        for contact in sorted(found, key=lambda contact: (contact.display_name, contact.pk))
    ]


search.register(
    search.SearchProvider(key="contacts", label=_("Contacts"), icon="user", search=search_contacts, order=10)
)
search.register(
    search.SearchProvider(key="companies", label=_("Companies"), icon="building", search=search_companies, order=20)
)

navigation.register(
    navigation.NavItem(key="contacts", label=_("Contacts"), url_name="clients:contact-list", icon="user", order=10)
)
navigation.register(
    navigation.NavItem(
        key="companies", label=_("Companies"), url_name="clients:company-list", icon="building", order=20
    )
)
navigation.register(
    navigation.NavItem(
        key="trash",
        label=_("Trash"),
        url_name="clients:trash",
        icon="trash",
        order=40,
        visible=access.can_see_trash,
        group="settings",
    )
)
