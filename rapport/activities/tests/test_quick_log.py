"""The quick log on the client card: a call saved by its outcome, the due-time chooser, refusals in place."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.forms import due_presets
from rapport.activities.models import Activity, ActivityStatus, Outcome
from rapport.clients.models import Company, Contact

URL = "/activities/quick-log/"
HTMX = {"HX-Request": "true"}


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# ---- The panel on the card ---------------------------------------------------------------------


def test_the_card_offers_a_button_per_active_call_outcome(as_manager: Client, acme: Company, ivanov: Contact) -> None:
    retired = Outcome.objects.create(kind="call", name="Fax tone", is_active=False)
    for client in (acme, ivanov):
        page = _page(as_manager, client.get_absolute_url())
        panel = page[page.index('id="quick-log"') : page.index('id="tab-timeline"')]
        assert 'data-outcome="{}"'.format(outcome("call", "Wrong number").pk) in panel
        assert "Call back later" in panel
        assert "Held" not in panel  # a meeting's outcome
        assert retired.name not in panel
        assert f'name="{client.kind}" value="{client.pk}"' in panel
        assert 'id="plan-activity"' in panel
        assert 'id="log-activity"' in panel


def test_people_who_only_read_get_no_panel(acme: Company) -> None:
    analyst = UserFactory.create(role=Role.ANALYST)
    page = _page(client_for(analyst), acme.get_absolute_url())
    assert "Acme Trading" in page
    assert 'id="quick-log"' not in page
    response = client_for(analyst).post(URL, {"company": acme.pk, "outcome": outcome("call", "Completed").pk})
    assert response.status_code == 403
    assert not Activity.objects.exists()


# ---- One click, two clicks ---------------------------------------------------------------------


def test_an_outcome_that_asks_nothing_saves_the_call_at_once(manager: User, as_manager: Client, acme: Company) -> None:
    response = as_manager.post(URL, {"company": acme.pk, "outcome": outcome("call", "Wrong number").pk}, headers=HTMX)

    assert response.status_code == 200
    call = Activity.objects.get()
    assert (call.kind, call.status, call.outcome, call.owner, call.company) == (
        "call",
        ActivityStatus.DONE,
        outcome("call", "Wrong number"),
        manager,
        acme,
    )
    page = response.content.decode()
    assert 'id="quick-log-saved"' in page
    assert "Call saved: Wrong number." in page
    # The new entry goes to the top of the card's timeline, linking to the call's page.
    timeline = page[page.index('hx-swap-oob="afterbegin:#timeline"') :]
    assert "Call: Wrong number" in timeline
    assert f'href="/activities/{call.pk}/"' in timeline
    # The panel is ready for the next call.
    assert 'class="btn quick-outcome"' in page


def test_call_back_later_opens_the_chooser_and_a_preset_saves_it(
    manager: User, as_manager: Client, ivanov: Contact
) -> None:
    manager.time_zone = "Asia/Vladivostok"
    manager.save(update_fields=["time_zone"])
    later = outcome("call", "Call back later")

    chooser = as_manager.get(URL, {"contact": ivanov.pk, "outcome": later.pk}, headers=HTMX)
    assert chooser.status_code == 200
    page = chooser.content.decode()
    assert 'id="follow-up-chooser"' in page
    for key in ("1h", "3h", "tomorrow", "2days", "monday"):
        assert f'data-preset="{key}"' in page
    assert not Activity.objects.exists()

    response = as_manager.post(URL, {"contact": ivanov.pk, "outcome": later.pk, "follow_up": "tomorrow"}, headers=HTMX)

    assert response.status_code == 200
    call = Activity.objects.get(status=ActivityStatus.DONE)
    callback = Activity.objects.get(status=ActivityStatus.PLANNED)
    assert (call.contact, call.outcome, callback.follow_up_of) == (ivanov, later, call)
    zone = zoneinfo.ZoneInfo("Asia/Vladivostok")
    due = callback.due_at.astimezone(zone)  # type: ignore[union-attr]
    assert (due.hour, due.minute) == (10, 0)
    assert due.date() == timezone.now().astimezone(zone).date() + timedelta(days=1)
    assert "Callback planned for" in response.content.decode()


def test_a_custom_time_saves_too(as_manager: Client, acme: Company) -> None:
    when = (timezone.localtime() + timedelta(days=3)).replace(second=0, microsecond=0)
    data = {
        "company": acme.pk,
        "outcome": outcome("call", "No answer").pk,
        "follow_up_at": when.strftime("%Y-%m-%dT%H:%M"),
    }
    assert as_manager.post(URL, data, headers=HTMX).status_code == 200
    assert Activity.objects.get(status=ActivityStatus.PLANNED).due_at == when


def test_without_htmx_the_call_is_saved_and_the_card_shown_again(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(URL, {"company": acme.pk, "outcome": outcome("call", "Completed").pk}, follow=True)
    assert response.redirect_chain[-1][0] == acme.get_absolute_url()
    assert "Call saved: Completed." in response.content.decode()
    assert Activity.objects.count() == 1


def test_without_javascript_the_chooser_is_a_page_of_its_own(as_manager: Client, acme: Company) -> None:
    later = outcome("call", "Call back later")
    page = _page(as_manager, f"{URL}?company={acme.pk}&outcome={later.pk}")
    assert "<h1" in page
    assert 'id="follow-up-chooser"' in page
    assert f'href="{acme.get_absolute_url()}"' in page


# ---- Refusals ----------------------------------------------------------------------------------


def test_an_outcome_of_another_kind_is_refused_next_to_the_buttons(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(URL, {"company": acme.pk, "outcome": outcome("meeting", "Held").pk}, headers=HTMX)
    assert response.status_code == 422
    assert 'id="id_outcome-error"' in response.content.decode()
    assert "Choose one of the outcomes of a call." in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "Choose when to call back."),
        ({"follow_up_at": "2020-01-01T10:00"}, "Choose a time to call back that is still ahead."),
        ({"follow_up_at": "next week"}, "Enter a valid date/time."),
        ({"follow_up": "someday"}, "Choose one of the times offered, or give one."),
    ],
)
def test_a_missing_past_or_unreadable_time_is_refused_next_to_the_field(
    as_manager: Client, acme: Company, extra: dict[str, str], message: str
) -> None:
    data = {"company": acme.pk, "outcome": outcome("call", "Call back later").pk, **extra}
    response = as_manager.post(URL, data, headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    error = page[page.index('id="id_follow_up_at-error"') :]
    assert error[: error.index("</div>")].endswith(message)
    assert 'id="follow-up-chooser"' in page  # still open, to choose again
    assert not Activity.objects.exists()


CLIENT_ACCESS = {"manager": 200, "head": 200, "admin": 200, "operator": 200, "teammate": 404, "outsider": 404}


@pytest.mark.parametrize(("persona", "status"), [*CLIENT_ACCESS.items(), ("agent", 404)])
def test_only_clients_in_sight_are_logged_on(
    personas: dict[str, User], acme: Company, persona: str, status: int
) -> None:
    response = client_for(personas[persona]).post(
        URL, {"company": acme.pk, "outcome": outcome("call", "Completed").pk}, headers=HTMX
    )
    assert response.status_code == status
    assert Activity.objects.count() == (1 if status == 200 else 0)
    if status == 200:
        assert Activity.objects.get().owner == personas[persona]


def test_no_client_is_404(as_manager: Client) -> None:
    assert as_manager.post(URL, {"outcome": outcome("call", "Completed").pk}, headers=HTMX).status_code == 404


# ---- Cost ----------------------------------------------------------------------------------------


def test_query_count_of_a_quick_log(  # type: ignore[no-untyped-def]
    manager: User, as_manager: Client, acme: Company, django_assert_max_num_queries
) -> None:
    as_manager.get(acme.get_absolute_url())  # the session is warm, as on the card
    data = {"company": acme.pk, "outcome": outcome("call", "Completed").pk}
    # Session and user, the company, the outcomes, the company's visibility, the minimum-data rule,
    # the insert, the company's last contact; savepoints of the nested transaction.
    with django_assert_max_num_queries(12):
        response = as_manager.post(URL, data, headers=HTMX)
    assert response.status_code == 200


# ---- The presets ---------------------------------------------------------------------------------


def test_presets_are_counted_in_the_users_time_zone() -> None:
    zone = zoneinfo.ZoneInfo("Europe/Moscow")
    friday = datetime(2025, 3, 14, 15, 20, tzinfo=zone)
    with timezone.override(zone):
        presets = {preset.key: preset.at for preset in due_presets(friday)}
    assert presets["1h"] == friday + timedelta(hours=1)
    assert presets["3h"] == friday + timedelta(hours=3)
    assert presets["tomorrow"] == datetime(2025, 3, 15, 10, 0, tzinfo=zone)
    assert presets["2days"] == datetime(2025, 3, 16, 10, 0, tzinfo=zone)
    assert presets["monday"] == datetime(2025, 3, 17, 10, 0, tzinfo=zone)
    # Late on a Sunday in Moscow it is already Monday in Vladivostok: its next Monday is a week on.
    sunday_night = datetime(2025, 3, 16, 23, 30, tzinfo=zone)
    vladivostok = zoneinfo.ZoneInfo("Asia/Vladivostok")
    with timezone.override(vladivostok):
        monday = next(preset.at for preset in due_presets(sunday_night) if preset.key == "monday")
    assert monday == datetime(2025, 3, 24, 10, 0, tzinfo=vladivostok)
