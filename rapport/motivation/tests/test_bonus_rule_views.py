"""The bonus rules' screens: who may open them, what the list says, the form per kind, refusals and versions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.motivation.models import (
    BonusRule,
    BonusRuleKind,
    LineKind,
    Metric,
    Statement,
    StatementLine,
    StatementStatus,
)

RULES = reverse("motivation:bonus-rules")
NEW = reverse("motivation:bonus-rule-new")
HTMX = {"HX-Request": "true"}


def edit_url(rule: BonusRule) -> str:
    return reverse("motivation:bonus-rule-edit", args=[rule.pk])


@pytest.fixture
def analyst(db: None) -> User:
    return UserFactory.create(username="analyst", role=Role.ANALYST)


@pytest.fixture
def rule(admin_user: User) -> BonusRule:
    return BonusRule.objects.create(
        name="Finder's fee",
        kind=BonusRuleKind.REGISTRANT_SHARE,
        percent=Decimal(5),
        min_activities=3,
        checkpoints_required=True,
        effective_from=date(2026, 1, 1),
        created_by=admin_user,
    )


def approved_statement_using(rule: BonusRule, person: User, approver: User) -> Statement:
    statement = Statement.objects.create(
        person=person, period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), currency="USD"
    )
    StatementLine.objects.create(
        statement=statement, rule=rule, kind=LineKind.CREDIT, amount=Decimal(50), reason_code="share"
    )
    statement.status, statement.approved_by, statement.approved_at = StatementStatus.APPROVED, approver, timezone.now()
    statement.save(update_fields=["status", "approved_by", "approved_at"])
    return statement


def seen(rule: BonusRule) -> str:
    """When the rule was saved, as its edit form sends it back (a stale form is refused)."""
    return rule.updated_at.isoformat()


def posted(**fields: Any) -> dict[str, Any]:
    """A registrant's share as the form posts it, with ``fields`` changed (None: left out, as an unchecked box)."""
    data: dict[str, Any] = {
        "name": "Finder's fee",
        "kind": BonusRuleKind.REGISTRANT_SHARE,
        "percent": "5",
        "currency": "",
        "min_activities": "3",
        "checkpoints_required": "on",
        "min_quality": "",
        "effective_from": "2026-01-01",
        "effective_until": "",
        "is_active": "on",
    }
    data |= fields
    return {key: value for key, value in data.items() if value is not None}


def field_error(page: str, field: str) -> str:
    """The message shown next to a field (empty when there is none)."""
    found = re.search(rf'<div class="invalid-feedback d-block" id="id_{field}-error">([^<]*)</div>', page)
    return found.group(1) if found else ""


def field_names(page: str) -> set[str]:
    """The names of the inputs of the rule's form."""
    form = page[page.index('id="bonus-rule-form"') : page.index("</form>", page.index('id="bonus-rule-form"'))]
    return set(re.findall(r'<(?:input|select)[^>]* name="([a-z_]+)"', form)) - {"csrfmiddlewaretoken"}


def rows_shown(page: str) -> list[tuple[str, str]]:
    """(rule id, state) of the list's rows, in order."""
    return re.findall(r'class="bonus-rule-row" data-rule="(\d+)" data-state="([a-z-]+)"', page)


# ---- Who may --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "head", "teammate", "outsider", "operator", "agent"])
def test_only_admins_open_and_post_the_rules_screens(persona: str, personas: dict[str, User], rule: BonusRule) -> None:
    client = client_for(personas[persona])
    for url in [RULES, NEW, edit_url(rule)]:
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, posted(name="Sneaky")).status_code == 403
    assert client.post(edit_url(rule), posted(percent="50")).status_code == 403
    assert list(BonusRule.objects.values_list("name", "percent")) == [("Finder's fee", Decimal("5.00"))]


def test_an_analyst_is_refused_too(analyst: User, rule: BonusRule) -> None:
    client = client_for(analyst)
    for url in [RULES, NEW, edit_url(rule)]:
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, posted(name="Sneaky")).status_code == 403
    assert not BonusRule.objects.filter(name="Sneaky").exists()


def test_someone_signed_out_is_sent_to_sign_in(db: None) -> None:
    response = Client().get(RULES)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_admin_opens_the_screens_and_a_missing_rule_is_404(as_admin: Client, rule: BonusRule) -> None:
    assert as_admin.get(RULES).status_code == 200
    assert as_admin.get(NEW).status_code == 200
    assert as_admin.get(edit_url(rule)).status_code == 200
    assert as_admin.get(reverse("motivation:bonus-rule-edit", args=[987654])).status_code == 404


def test_the_administration_menu_shows_bonus_rules_to_admins_only(personas: dict[str, User], analyst: User) -> None:
    link = f'href="{RULES}"'
    assert link in client_for(personas["admin"]).get(reverse("core:home")).content.decode()
    for person in [personas["manager"], personas["head"], analyst]:
        assert link not in client_for(person).get(reverse("core:home")).content.decode(), person


# ---- The list -------------------------------------------------------------------------------------------------


def test_each_rule_reads_as_a_sentence(as_admin: Client, rule: BonusRule) -> None:
    BonusRule.objects.create(
        name="Closing",
        kind=BonusRuleKind.CLOSER_SHARE,
        percent=Decimal("2.5"),
        currency="EUR",
        min_quality=70,
        effective_from=date(2026, 1, 1),
    )
    BonusRule.objects.create(
        name="Calls above plan",
        kind=BonusRuleKind.PER_UNIT_ABOVE_PLAN,
        amount=Decimal(10),
        metric=Metric.CALLS,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    BonusRule.objects.create(
        name="Accelerator",
        kind=BonusRuleKind.ACCELERATOR,
        percent=Decimal(10),
        metric=Metric.REVENUE_WON,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )

    page = as_admin.get(RULES).content.decode().replace("&#x27;", "'")

    assert (
        "5 % of each won deal's amount to its registrant, whoever closed it, "
        "if ≥ 3 logged contacts with the client before the win and all the deal's checkpoints done."
    ) in page
    assert (
        "2.5 % of each won deal's amount to the person who closed it (deals in EUR only), "
        "if a data-quality score of at least 70."
    ) in page
    assert "10.00 USD for each unit of “Calls made” above the person's plan." in page
    assert "10 % of the “Revenue won” above 100 % of the person's plan, in USD." in page


def test_current_rules_come_first_then_past_ones_with_their_versions(
    as_admin: Client, rule: BonusRule, manager: User, head: User, admin_user: User
) -> None:
    today = timezone.localdate()
    approved_statement_using(rule, manager, head)
    newer = BonusRule.objects.create(
        name="Finder's fee 2",
        kind=BonusRuleKind.REGISTRANT_SHARE,
        percent=Decimal(6),
        effective_from=today + timedelta(days=10),
        replaces=rule,
    )
    ended = BonusRule.objects.create(
        name="Old closing",
        kind=BonusRuleKind.CLOSER_SHARE,
        percent=Decimal(1),
        effective_from=date(2024, 1, 1),
        effective_until=date(2024, 12, 31),
    )
    off = BonusRule.objects.create(
        name="Paused accelerator",
        kind=BonusRuleKind.ACCELERATOR,
        percent=Decimal(10),
        metric=Metric.REVENUE_WON,
        currency="USD",
        effective_from=date(2026, 1, 1),
        is_active=False,
    )

    page = as_admin.get(RULES).content.decode()

    assert rows_shown(page) == [
        (str(rule.pk), "in-force"),
        (str(newer.pk), "upcoming"),
        (str(ended.pk), "ended"),
        (str(off.pk), "off"),
    ]
    current, past = page.split('id="bonus-rules-past"')
    assert f'data-rule="{ended.pk}"' not in current
    assert f'data-rule="{off.pk}"' in past
    first = page[page.index(f'data-rule="{rule.pk}"') : page.index(f'data-rule="{newer.pk}"')]
    assert "used by approved statements" in first
    assert f'Replaced by <a href="{edit_url(newer)}">Finder&#x27;s fee 2</a>' in first
    second = page[page.index(f'data-rule="{newer.pk}"') : page.index(f'data-rule="{ended.pk}"')]
    assert f'Replaces <a href="{edit_url(rule)}">Finder&#x27;s fee</a>' in second
    assert "used by approved statements" not in second


def test_without_rules_the_list_says_how_to_start(as_admin: Client) -> None:
    page = as_admin.get(RULES).content.decode()
    assert 'id="bonus-rules-empty"' in page
    assert 'id="bonus-rules-past"' not in page


@pytest.mark.parametrize("extra_rules", [0, 12])
def test_the_list_costs_the_same_queries_for_any_number_of_rules(
    admin_user: User, manager: User, head: User, django_assert_num_queries: Any, extra_rules: int
) -> None:
    older = None
    for number in range(extra_rules + 1):
        older = BonusRule.objects.create(
            name=f"Rule {number}",
            kind=BonusRuleKind.CLOSER_SHARE,
            percent=Decimal(1),
            effective_from=date(2020, 1, 1) + timedelta(days=number * 10),
            effective_until=date(2020, 1, 1) + timedelta(days=number * 10 + 9),
            replaces=older,
        )
        if number == 0:
            approved_statement_using(older, manager, head)
    as_admin = client_for(admin_user)

    # The session, the user, the rules with whether approved statements used them, the shell's unread count.
    with django_assert_num_queries(4):
        response = as_admin.get(RULES)

    assert len(rows_shown(response.content.decode())) == extra_rules + 1


# ---- The form per kind ----------------------------------------------------------------------------------------

KIND_FIELDS: dict[str, set[str]] = {
    BonusRuleKind.REGISTRANT_SHARE: {"percent", "currency", "min_activities", "checkpoints_required"},
    BonusRuleKind.CLOSER_SHARE: {"percent", "currency", "min_activities", "checkpoints_required"},
    BonusRuleKind.PER_UNIT_ABOVE_PLAN: {"amount", "metric", "currency"},
    BonusRuleKind.ACCELERATOR: {"percent", "metric", "currency"},
}
EVERY_KIND = {"name", "kind", "min_quality", "effective_from", "effective_until", "is_active"}


@pytest.mark.parametrize("kind", BonusRuleKind.values)
def test_the_form_shows_only_what_the_kind_needs(as_admin: Client, kind: str) -> None:
    page = as_admin.get(NEW, {"kind": kind}).content.decode()
    assert field_names(page) == EVERY_KIND | KIND_FIELDS[kind]
    assert f'<option value="{kind}" selected>' in page
    # Choosing another kind posts the form back to be drawn again (htmx), or without JS by the button after Save.
    assert f'hx-post="{NEW}" hx-trigger="change"' in page
    assert page.index('id="bonus-rule-save"') < page.index('name="redraw" value="1"')


def test_choosing_another_kind_redraws_the_form_through_htmx_keeping_what_was_typed(as_admin: Client) -> None:
    response = as_admin.post(
        NEW,
        posted(kind=BonusRuleKind.PER_UNIT_ABOVE_PLAN, name="Calls bonus", redraw="1", percent=None),
        headers=HTMX,
    )
    page = response.content.decode()

    assert response.status_code == 200
    assert page.lstrip().startswith('<form method="post"')
    assert 'id="bonus-rule-form"' in page
    assert field_names(page) == EVERY_KIND | KIND_FIELDS[BonusRuleKind.PER_UNIT_ABOVE_PLAN]
    assert 'value="Calls bonus"' in page
    assert 'value="2026-01-01"' in page
    assert "invalid-feedback" not in page  # not judged yet: the amount is still to be typed
    assert not BonusRule.objects.exists()


def test_without_javascript_the_button_redraws_the_whole_page(as_admin: Client) -> None:
    response = as_admin.post(NEW, posted(kind=BonusRuleKind.ACCELERATOR, redraw="1"))
    page = response.content.decode()

    assert response.status_code == 200
    assert "<html" in page
    assert field_names(page) == EVERY_KIND | KIND_FIELDS[BonusRuleKind.ACCELERATOR]
    assert 'value="5"' in page  # the percentage typed for the share is kept for the accelerator
    assert not BonusRule.objects.exists()


# ---- Creating each kind ---------------------------------------------------------------------------------------

CREATED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        posted(),
        {
            "kind": BonusRuleKind.REGISTRANT_SHARE,
            "percent": Decimal(5),
            "amount": None,
            "metric": "",
            "currency": "",
            "min_activities": 3,
            "checkpoints_required": True,
            "min_quality": None,
        },
    ),
    (
        posted(
            name="Closing",
            kind=BonusRuleKind.CLOSER_SHARE,
            percent="2.5",
            currency="EUR",
            min_activities="0",
            checkpoints_required=None,
            min_quality="60",
        ),
        {
            "kind": BonusRuleKind.CLOSER_SHARE,
            "percent": Decimal("2.5"),
            "amount": None,
            "metric": "",
            "currency": "EUR",
            "min_activities": 0,
            "checkpoints_required": False,
            "min_quality": 60,
        },
    ),
    (
        {
            "name": "Calls above plan",
            "kind": BonusRuleKind.PER_UNIT_ABOVE_PLAN,
            "amount": "10",
            "metric": Metric.CALLS,
            "currency": "EUR",
            "min_quality": "",
            "effective_from": "2026-02-01",
            "effective_until": "2026-12-31",
            "is_active": "on",
        },
        {
            "kind": BonusRuleKind.PER_UNIT_ABOVE_PLAN,
            "percent": None,
            "amount": Decimal(10),
            "metric": Metric.CALLS,
            "currency": "EUR",
            "min_activities": 0,
            "checkpoints_required": False,
            "min_quality": None,
        },
    ),
    (
        {
            "name": "Accelerator",
            "kind": BonusRuleKind.ACCELERATOR,
            "percent": "15",
            "metric": Metric.REVENUE_WON,
            "currency": "USD",
            "min_quality": "50",
            "effective_from": "2026-02-01",
            "is_active": "on",
        },
        {
            "kind": BonusRuleKind.ACCELERATOR,
            "percent": Decimal(15),
            "amount": None,
            "metric": Metric.REVENUE_WON,
            "currency": "USD",
            "min_activities": 0,
            "checkpoints_required": False,
            "min_quality": 50,
        },
    ),
]


@pytest.mark.parametrize(("data", "stored"), CREATED, ids=[str(data["kind"]) for data, _stored in CREATED])
def test_an_admin_creates_each_kind(
    as_admin: Client, admin_user: User, data: dict[str, Any], stored: dict[str, Any]
) -> None:
    response = as_admin.post(NEW, data, follow=True)

    rule = BonusRule.objects.get()
    assert response.redirect_chain == [(RULES, 302)]
    assert {name: getattr(rule, name) for name in stored} == stored
    assert (rule.name, rule.is_active, rule.created_by) == (data["name"], True, admin_user)
    page = response.content.decode().replace("&#x27;", "'").replace("&#8220;", "“").replace("&#8221;", "”")
    assert f"Rule “{data['name']}” added." in page
    assert f'data-rule="{rule.pk}" data-state=' in page


# ---- Bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (posted(percent="101"), "percent", "A percentage cannot be over 100."),
        (posted(percent="0"), "percent", "An empty rule pays nothing: give a percentage above 0."),
        (posted(percent=""), "percent", "Give the percentage."),
        (posted(percent="five"), "percent", "Enter a number."),
        (posted(name=""), "name", "Give the rule a name."),
        (
            {
                "name": "Per unit",
                "kind": BonusRuleKind.PER_UNIT_ABOVE_PLAN,
                "amount": "10",
                "metric": "",
                "currency": "USD",
                "effective_from": "2026-01-01",
                "is_active": "on",
            },
            "metric",
            "Choose the metric whose plan it rewards.",
        ),
        (
            {
                "name": "Per unit",
                "kind": BonusRuleKind.PER_UNIT_ABOVE_PLAN,
                "amount": "",
                "metric": Metric.CALLS,
                "currency": "USD",
                "effective_from": "2026-01-01",
                "is_active": "on",
            },
            "amount",
            "Give the amount paid per unit.",
        ),
        (
            posted(effective_from="2026-03-01", effective_until="2026-02-01"),
            "effective_until",
            "The last day cannot be before the first.",
        ),
        (posted(effective_from=""), "effective_from", "Give the first day the rule is in force."),
        (posted(min_quality="101"), "min_quality", "Data quality is a whole score from 0 to 100."),
    ],
    ids=[
        "percent-101",
        "percent-0",
        "percent-empty",
        "percent-not-a-number",
        "no-name",
        "per-unit-no-metric",
        "per-unit-no-amount",
        "dates-out-of-order",
        "no-start",
        "quality-over-100",
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written(
    as_admin: Client, data: dict[str, Any], field: str, message: str
) -> None:
    response = as_admin.post(NEW, data)
    page = response.content.decode().replace("&#x27;", "'")

    assert response.status_code == 422
    assert field_error(page, field) == message
    assert 'aria-invalid="true"' in page
    assert "Nothing was saved: correct the fields marked below." in page
    assert not BonusRule.objects.exists()


def test_a_rule_overlapping_an_active_one_of_its_kind_is_refused(as_admin: Client, rule: BonusRule) -> None:
    response = as_admin.post(NEW, posted(name="Second fee", effective_from="2026-06-01"))
    page = response.content.decode().replace("&#8220;", "“").replace("&#8221;", "”").replace("&#x27;", "'")

    assert response.status_code == 422
    assert field_error(page, "effective_from").startswith("“Finder's fee” already pays for this from ")
    assert list(BonusRule.objects.values_list("pk", flat=True)) == [rule.pk]


def test_a_bad_edit_changes_nothing(as_admin: Client, rule: BonusRule) -> None:
    response = as_admin.post(edit_url(rule), posted(seen=seen(rule), percent="150", name="Renamed"))

    assert response.status_code == 422
    assert field_error(response.content.decode(), "percent") == "A percentage cannot be over 100."
    rule.refresh_from_db()
    assert (rule.name, rule.percent) == ("Finder's fee", Decimal(5))


# ---- Editing and versions -------------------------------------------------------------------------------------


def test_editing_an_unused_rule_changes_it_in_place(as_admin: Client, rule: BonusRule) -> None:
    page = as_admin.get(edit_url(rule)).content.decode()
    assert 'value="5"' in page
    assert 'id="bonus-rule-used"' not in page

    response = as_admin.post(
        edit_url(rule), posted(seen=seen(rule), percent="7", kind=BonusRuleKind.CLOSER_SHARE), follow=True
    )

    assert response.redirect_chain == [(RULES, 302)]
    assert "Rule “Finder&#x27;s fee” saved." in response.content.decode().replace("&#8220;", "“").replace(
        "&#8221;", "”"
    )
    rule.refresh_from_db()
    assert (rule.percent, rule.kind) == (Decimal(7), BonusRuleKind.REGISTRANT_SHARE)  # a rule keeps its kind
    assert BonusRule.objects.count() == 1


def test_editing_a_rule_used_by_approved_statements_starts_a_new_version_and_says_so(
    as_admin: Client, rule: BonusRule, manager: User, head: User
) -> None:
    approved_statement_using(rule, manager, head)
    page = as_admin.get(edit_url(rule)).content.decode()
    assert 'id="bonus-rule-used"' in page

    response = as_admin.post(
        edit_url(rule), posted(seen=seen(rule), percent="6", effective_from="2026-03-01"), follow=True
    )

    newer = BonusRule.objects.get(replaces=rule)
    rule.refresh_from_db()
    assert (newer.percent, newer.effective_from) == (Decimal(6), date(2026, 3, 1))
    assert (rule.percent, rule.effective_until) == (Decimal(5), date(2026, 2, 28))
    page = response.content.decode().replace("&#8220;", "“").replace("&#8221;", "”").replace("&#x27;", "'")
    assert "“Finder's fee” was used by approved statements, so a new version starts on March 1, 2026" in page
    assert f'Replaced by <a href="{edit_url(newer)}">' in page


def test_a_replaced_rule_points_to_its_newer_version_and_refuses_changes(as_admin: Client, rule: BonusRule) -> None:
    newer = BonusRule.objects.create(
        name="Finder's fee 2",
        kind=BonusRuleKind.REGISTRANT_SHARE,
        percent=Decimal(6),
        effective_from=date(2026, 3, 1),
        replaces=rule,
    )
    BonusRule.objects.filter(pk=rule.pk).update(effective_until=date(2026, 2, 28))

    page = as_admin.get(edit_url(rule)).content.decode()
    assert 'id="bonus-rule-replaced"' in page
    assert f'<a href="{edit_url(newer)}">Finder&#x27;s fee 2</a>' in page
    assert '<fieldset class="card-body" disabled>' in page
    assert 'id="bonus-rule-save"' not in page
    assert f'href="{edit_url(rule)}"' in as_admin.get(edit_url(newer)).content.decode()  # and back

    response = as_admin.post(edit_url(rule), posted(seen=seen(rule), percent="9", effective_until="2026-02-28"))
    assert response.status_code == 422
    assert "This rule was replaced by a newer version meanwhile: change that one." in response.content.decode()
    rule.refresh_from_db()
    assert rule.percent == Decimal(5)


def test_a_form_opened_before_someone_elses_change_is_refused(as_admin: Client, rule: BonusRule) -> None:
    opened = seen(rule)
    assert f'name="seen" value="{opened}"' in as_admin.get(edit_url(rule)).content.decode()
    as_admin.post(edit_url(rule), posted(seen=opened, percent="6"))  # a colleague saves first

    response = as_admin.post(edit_url(rule), posted(seen=opened, percent="8"))

    assert response.status_code == 422
    assert "Someone changed this rule since you opened it" in response.content.decode()
    rule.refresh_from_db()
    assert rule.percent == Decimal(6)


def test_an_edit_without_the_moment_it_was_opened_is_refused(as_admin: Client, rule: BonusRule) -> None:
    response = as_admin.post(edit_url(rule), posted(percent="8"))
    assert response.status_code == 422
    assert "The form came back incomplete" in response.content.decode()
    rule.refresh_from_db()
    assert rule.percent == Decimal(5)
