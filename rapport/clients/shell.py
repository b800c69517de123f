"""What clients adds to the shell: the company and contact lists, and both in the global search."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import Company, Contact
from rapport.clients.search import find_clients
from rapport.core import navigation, search


def _primary_phone(client: Company | Contact) -> str:
    return next((point.value for point in getattr(client, "primary_points", []) if point.kind == "phone"), "")


def search_companies(user: User, query: str, limit: int) -> list[search.SearchHit]:
    found = find_clients(access.companies_visible_to(user).select_related("owner"), query, limit=limit)
    return [
        search.SearchHit(
            title=company.name,
            url=company.get_absolute_url(),
            subtitle=" · ".join(
                part
                for part in [
                    company.tax_id,
                    _primary_phone(company),
                    company.owner.display_name if company.owner else "",
                ]
                if part
            ),
        )
        for company in sorted(found, key=lambda company: (company.name, company.pk))
    ]


def search_contacts(user: User, query: str, limit: int) -> list[search.SearchHit]:
    found = find_clients(access.contacts_visible_to(user).select_related("company", "owner"), query, limit=limit)
    return [
        search.SearchHit(
            title=contact.display_name,
            url=contact.get_absolute_url(),
            subtitle=" · ".join(
                part
                for part in [contact.company.name if contact.company else contact.position, _primary_phone(contact)]
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
