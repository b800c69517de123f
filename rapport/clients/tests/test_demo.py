from __future__ import annotations

from django.db.models import Count, F

from rapport.clients.models import ClientStatus, Company, Contact, ContactPoint
from rapport.core import demo


def test_demo_clients_are_coherent(db: None) -> None:
    demo.SCALES["T"] = demo.Scale("T", teams=2, managers_per_team=3, companies=60, contacts=150, deals=0, activities=0)
    try:
        demo.load("T", log=lambda line: None)
    finally:
        del demo.SCALES["T"]
    assert (Company.objects.count(), Contact.objects.count()) == (60, 150)
    # Pool clients have no owner; everyone else is owned by a manager.
    assert not Company.objects.filter(status=ClientStatus.POOL, owner__isnull=False).exists()
    assert not Company.objects.exclude(status=ClientStatus.POOL).filter(owner__isnull=True).exists()
    # A contact at a company shares its owner.
    at_companies = Contact.objects.filter(company__isnull=False)
    assert not at_companies.exclude(owner=F("company__owner")).exclude(owner__isnull=True).exists()
    # Every client has exactly one primary phone, stored the way search reads it.
    phones = ContactPoint.objects.filter(kind="phone", is_primary=True)
    assert phones.values("contact").exclude(contact=None).annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert phones.count() == 60 + 150
    for phone in phones[:20]:
        assert phone.normalized.startswith("+")
        assert phone.digits_reversed == phone.normalized[1:][::-1]
