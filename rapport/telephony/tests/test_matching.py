"""Which client a call is with: the number as E.164, its last digits for local formats, and the answering manager's
own client first when several share it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony.events import Event
from rapport.telephony.ingest import event_ingest
from rapport.telephony.models import Call, Extension, Integration


@pytest.fixture
def pbx(pbx: Integration, teammate: User) -> Integration:
    Extension.objects.create(integration=pbx, number="102", user=teammate)
    return pbx


def phone(number: str) -> list[PointInput]:
    return [PointInput(kind="phone", value=number)]


def ring(pbx: Integration, number: str, *, extension: str = "", call_id: str = "c1", kind: str = "ringing") -> Call:
    event = Event(
        event_id=f"{call_id}-{kind}",
        call_id=call_id,
        type=kind,
        direction="in",
        at=timezone.now(),
        caller=number,
        extension=extension,
    )
    event_ingest(pbx, event)
    return Call.objects.get(call_id=call_id)


def test_the_number_in_any_format_finds_the_client(pbx: Integration, manager: User) -> None:
    acme = services.company_create(by=manager, name="Acme", points=phone("+1 201 555 0123"))

    assert ring(pbx, "(201) 555-0123", call_id="local").company == acme
    assert ring(pbx, "+12015550123", call_id="international").company == acme
    assert ring(pbx, "001 201 555 0123", call_id="exit-code").company == acme


def test_a_local_format_the_region_cannot_read_is_found_by_its_last_digits(pbx: Integration, manager: User) -> None:
    ivanov = services.contact_create(by=manager, last_name="Ivanov", points=phone("+7 912 555-01-23"))

    call = ring(pbx, "8 (912) 555-01-23")  # a Russian trunk prefix, read with the US region

    assert call.contact == ivanov


def test_a_contact_is_found_by_its_own_phone(pbx: Integration, manager: User) -> None:
    acme = services.company_create(by=manager, name="Acme")
    jane = services.contact_create(by=manager, last_name="Doe", company=acme, points=phone("+12015550177"))

    call = ring(pbx, "2015550177")

    assert (call.contact, call.company) == (jane, None)


def test_the_answering_managers_own_client_wins(pbx: Integration, manager: User, teammate: User) -> None:
    services.company_create(by=manager, name="Mine", points=phone("+12015550123"))
    theirs = services.company_create(by=teammate, name="Theirs", points=phone("+12015550123"))

    call = ring(pbx, "+12015550123", extension="102")

    assert call.company == theirs


def test_else_the_one_contacted_last(pbx: Integration, manager: User) -> None:
    older = services.company_create(by=manager, name="Older", points=phone("+12015550123"))
    recent = services.company_create(by=manager, name="Recent", points=phone("+12015550123"))
    Company.objects.filter(pk=older.pk).update(last_contact_at=timezone.now() - timedelta(days=30))
    Company.objects.filter(pk=recent.pk).update(last_contact_at=timezone.now() - timedelta(days=1))

    assert ring(pbx, "+12015550123").company == recent


def test_when_the_manager_becomes_known_their_client_is_chosen(pbx: Integration, manager: User, teammate: User) -> None:
    mine = services.company_create(by=manager, name="Mine", points=phone("+12015550123"))
    theirs = services.company_create(by=teammate, name="Theirs", points=phone("+12015550123"))
    Company.objects.filter(pk=mine.pk).update(last_contact_at=timezone.now())

    assert ring(pbx, "+12015550123").company == mine  # nobody answered yet: the one contacted last
    assert ring(pbx, "+12015550123", extension="102", kind="answered").company == theirs


def test_deleted_clients_and_unknown_numbers_match_nobody(pbx: Integration, manager: User) -> None:
    gone = services.company_create(by=manager, name="Gone", points=phone("+12015550123"))
    services.client_delete(by=manager, client=gone)

    assert ring(pbx, "+12015550123").company is None
    assert ring(pbx, "+12025550999", call_id="c2").company is None
    assert ring(pbx, "anonymous", call_id="c3").contact is None


def test_a_short_number_is_never_matched_by_its_tail(pbx: Integration, manager: User) -> None:
    services.contact_create(by=manager, last_name="Short", points=phone("+12015550101"))

    assert ring(pbx, "0101").contact is None
