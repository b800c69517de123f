"""Data-quality scores: each client's by hand, the SQL average against the card's, activities, snapshots."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services as activity_services
from rapport.activities.models import Activity, ActivityStatus, Outcome
from rapport.activities.services import minimum_data_missing
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, Company, Contact, ContactPoint, LeadSource
from rapport.clients.services import AnyClient, PointInput
from rapport.core.models import JobRun
from rapport.motivation import quality
from rapport.motivation.models import QualitySnapshot
from rapport.motivation.tasks import QUALITY_SNAPSHOTS, quality_snapshots

PHONE = PointInput("phone", "+1 201-555-0101")


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def source(db: None) -> LeadSource:
    return LeadSource.objects.create(name="Exhibition")


def touched(client: AnyClient, when: datetime | None) -> None:
    type(client).objects.filter(pk=client.pk).update(last_contact_at=when)
    client.refresh_from_db()


def plan_with(manager: User, client: AnyClient) -> Activity:
    return activity_services.activity_create(
        by=manager,
        kind="task",
        subject="Call again",
        due_at=timezone.now() + timedelta(days=2),
        company=client if isinstance(client, Company) else None,
        contact=client if isinstance(client, Contact) else None,
    )


def failing(client: AnyClient, **options: object) -> set[str]:
    return {result.key for result in quality.client_quality(client, **options).failing}  # type: ignore[arg-type]


# ---- One client, by hand ------------------------------------------------------------------------------


def test_a_bare_company_scores_its_owner_only(manager: User) -> None:
    bare = client_services.company_create(by=manager, name="Bare Ltd")
    found = quality.client_quality(bare)
    assert found.score == 15
    assert {result.key for result in found.failing} == {
        "industry",
        "tax_id",
        "contact_point",
        "lead_source",
        "recent_contact",
        "next_step",
    }


def test_a_complete_company_scores_100(manager: User, source: LeadSource, now: datetime) -> None:
    full = client_services.company_create(
        by=manager, name="Full Ltd", industry="Retail", tax_id="7701", lead_source=source, points=[PHONE]
    )
    touched(full, now - timedelta(days=3))
    plan_with(manager, full)
    found = quality.client_quality(full, now=now)
    assert found.score == 100
    assert found.failing == []


def test_a_contact_with_one_name_an_old_contact_and_the_companys_next_step(manager: User, now: datetime) -> None:
    acme = client_services.company_create(by=manager, name="Acme")
    plan_with(manager, acme)  # a step with the company is a step with its people
    ivanov = client_services.contact_create(
        by=manager, last_name="Ivanov", company=acme, points=[PointInput("email", "IVANOV@example.com")]
    )
    touched(ivanov, now - timedelta(days=100))
    # owner 15 + a valid e-mail 20 + the next step 15 = 50 of 100.
    assert quality.client_quality(ivanov, now=now).score == 50
    assert failing(ivanov, now=now) == {"name", "lead_source", "recent_contact"}


def test_recent_is_what_the_setting_says(manager: User, now: datetime, settings: object) -> None:
    ivanov = client_services.contact_create(by=manager, last_name="Ivanov", first_name="Fedor")
    touched(ivanov, now - timedelta(days=100))
    assert "recent_contact" in failing(ivanov, now=now)
    settings.RAPPORT_QUALITY_RECENT_DAYS = 120  # type: ignore[attr-defined]
    assert "recent_contact" not in failing(ivanov, now=now)


def test_a_frozen_client_is_not_asked_to_keep_in_touch_and_unreadable_points_do_not_count(manager: User) -> None:
    frozen = client_services.company_create(by=manager, name="Asleep Ltd", industry="Retail")
    Company.objects.filter(pk=frozen.pk).update(status=ClientStatus.FROZEN)
    frozen.refresh_from_db()
    # An imported phone that could not be read, and a messenger handle: neither reaches the client.
    ContactPoint.objects.create(company=frozen, kind="phone", value="call the office", normalized="")
    ContactPoint.objects.create(company=frozen, kind="messenger", value="@asleep", normalized="@asleep")
    found = quality.client_quality(frozen)
    # owner 15 + industry 10 = 25 of the 65 asked of a frozen company: 38.46 → 38.
    assert found.score == 38
    assert {result.key for result in found.results} == {"owner", "industry", "tax_id", "contact_point", "lead_source"}
    assert {result.key for result in found.failing} == {"tax_id", "contact_point", "lead_source"}


def test_a_pool_client_is_not_asked_for_an_owner(operator: User) -> None:
    pooled = client_services.company_create(by=operator, name="Pool Ltd", tax_id="7702", points=[PHONE])
    assert pooled.status == ClientStatus.POOL
    # tax id 10 + phone 20 = 30 of the 50 asked of the pool.
    assert quality.client_quality(pooled).score == 60


def test_fix_links_open_the_field_that_is_missing(manager: User) -> None:
    bare = client_services.company_create(by=manager, name="Bare Ltd")
    links = {result.key: result.fix_url for result in quality.client_quality(bare).failing}
    assert links["industry"] == f"/clients/company/{bare.pk}/edit/#id_industry"
    assert links["tax_id"] == f"/clients/company/{bare.pk}/edit/#id_tax_id"
    assert links["lead_source"] == f"/clients/company/{bare.pk}/edit/#id_lead_source"
    assert links["contact_point"] == f"/clients/company/{bare.pk}/points/#point-add-form"
    assert links["recent_contact"] == f"/clients/companies/{bare.pk}/#quick-log"
    assert links["next_step"].startswith(f"/activities/new/?company={bare.pk}&next=")


# ---- Many clients in SQL, against one at a time ---------------------------------------------------------


def generated_clients(manager: User, seed: int, now: datetime) -> list[AnyClient]:
    """A dozen clients with a random mix of what the checks look at."""
    rng = random.Random(seed)
    sources = [None, LeadSource.objects.create(name=f"Source {seed}")]
    made: list[AnyClient] = []
    for number in range(12):
        source = rng.choice(sources)
        if rng.random() < 0.5:
            client: AnyClient = client_services.company_create(
                by=manager,
                name=f"Generated {seed}-{number}",
                industry=rng.choice(["", "Retail", "  "]),
                tax_id=rng.choice(["", f"{seed}{number:03d}"]),
                lead_source=source,
            )
        else:
            company = rng.choice([None, *[made_one for made_one in made if made_one.kind == "company"]])
            first_name = rng.choice(["", "Anna"])
            client = client_services.contact_create(
                by=manager,
                last_name=rng.choice(["Petrov", "  "]) if first_name else "Petrov",
                first_name=first_name,
                company=company,
                lead_source=source,
            )
        points = rng.choice(
            [[], [("phone", "+12015550111")], [("phone", "")], [("messenger", "@x"), ("email", "a@b.c")]]
        )
        for kind, normalized in points:
            ContactPoint.objects.create(
                **{client.kind: client}, kind=kind, value=normalized or "?", normalized=normalized
            )
        status = rng.choice([ClientStatus.ACTIVE, ClientStatus.ACTIVE, ClientStatus.FROZEN])
        contact_at = rng.choice([None, now - timedelta(days=5), now - timedelta(days=200)])
        type(client).objects.filter(pk=client.pk).update(status=status, last_contact_at=contact_at)
        if rng.random() < 0.4:
            plan_with(manager, client)
        client.refresh_from_db()
        made.append(client)
    return made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_scores_are_the_cards_scores(manager: User, now: datetime, seed: int) -> None:
    made = generated_clients(manager, seed, now)
    one_by_one = {(client.kind, client.pk): quality.client_quality(client, now=now) for client in made}
    rows = list(quality.scored_clients(manager, now=now))
    assert len(rows) == len(made)
    for row in rows:
        expected = one_by_one[(row["row_kind"], row["row_id"])]
        assert row["score"] == expected.score
        assert quality.quality_of_row(row).failing == expected.failing
    mine = quality.manager_quality(manager, now=now)
    scores = [found.score for found in one_by_one.values()]
    assert mine.clients == len(made)
    assert mine.clients_score == quality.percent(sum(scores), 100 * len(scores))
    assert abs(mine.clients_score - sum(scores) / len(scores)) <= 0.5


def test_the_list_shows_the_lowest_scores_first_a_page_at_a_time(manager: User, now: datetime) -> None:
    for number in range(27):
        client_services.company_create(
            by=manager, name=f"Company {number}", industry="Retail", tax_id=f"77{number:02d}" if number % 2 else ""
        )
    client_services.contact_create(by=manager, last_name="Lowest")  # the owner alone: 15
    first = quality.lowest_scores(manager, 1, now=now)
    assert [(row.name, row.score) for row in first.rows[:2]] == [("Lowest", 15), ("Company 0", 25)]
    assert [row.score for row in first.rows] == sorted(row.score for row in first.rows)
    assert (first.total, first.has_next, len(first.rows)) == (28, True, 25)
    second = quality.lowest_scores(manager, 2, now=now)
    assert (second.total, second.has_next, len(second.rows)) == (28, False, 3)
    assert min(row.score for row in second.rows) >= max(row.score for row in first.rows)


def test_deleted_and_other_peoples_clients_do_not_count(manager: User, teammate: User) -> None:
    gone = client_services.company_create(by=manager, name="Gone Ltd")
    client_services.client_delete(by=manager, client=gone)
    client_services.company_create(by=teammate, name="Theirs Ltd")
    assert quality.manager_quality(manager).clients == 0
    assert quality.manager_quality(manager).score is None
    assert quality.lowest_scores(manager, 1).rows == []


# ---- Activities with their minimum data ---------------------------------------------------------------------


@pytest.fixture
def activities(manager: User, teammate: User, now: datetime) -> list[Activity]:
    """Four done activities that count: a complete meeting, two calls (one with an outcome), an incomplete meeting."""
    acme = client_services.company_create(by=manager, name="Acme")
    ivanov = client_services.contact_create(
        by=manager, last_name="Ivanov", first_name="Fedor", company=acme, points=[PointInput("email", "i@acme.test")]
    )
    done = {"by": manager, "status": ActivityStatus.DONE, "contact": ivanov}
    counted = [
        activity_services.activity_create(kind="meeting", subject="Demo", result="Liked it", **done),  # type: ignore[arg-type]
        activity_services.activity_create(kind="call", **done),  # type: ignore[arg-type]
        activity_services.activity_create(
            kind="call",
            outcome=Outcome.objects.filter(kind="call", is_active=True).first(),
            **done,  # type: ignore[arg-type]
        ),
        # Saved before the rule asked for a subject and a result (or imported past it).
        Activity.objects.create(
            kind="meeting", status=ActivityStatus.DONE, owner=manager, contact=ivanov, done_at=now, at=now
        ),
    ]
    long_ago = now - timedelta(days=120)
    Activity.objects.create(kind="call", status=ActivityStatus.DONE, owner=manager, done_at=long_ago, at=long_ago)
    activity_services.activity_create(by=manager, kind="call", contact=ivanov, due_at=now + timedelta(hours=1))
    activity_services.activity_create(by=teammate, kind="note", status=ActivityStatus.DONE)
    return counted


def share_one_by_one(counted: list[Activity]) -> int:
    complete = [activity for activity in counted if not minimum_data_missing(activity)]
    return quality.percent(len(complete), len(counted))


def test_the_activities_share_follows_the_rules(
    manager: User, admin_user: User, activities: list[Activity], now: datetime
) -> None:
    mine = quality.manager_quality(manager, now=now)
    assert (mine.activities, mine.activities_complete, mine.activities_share) == (4, 3, 75)
    assert mine.activities_share == share_one_by_one(activities)

    activity_services.minimum_data_rule_save(by=admin_user, kind="call", status="done", required=["outcome"])
    mine = quality.manager_quality(manager, now=now)
    assert (mine.activities_complete, mine.activities_share) == (2, 50)
    assert mine.activities_share == share_one_by_one(activities)

    for kind in ["meeting", "call"]:
        activity_services.minimum_data_rule_save(by=admin_user, kind=kind, status="done", required=[])
    assert quality.manager_quality(manager, now=now).activities_share == 100


def test_the_managers_score_weighs_clients_seven_tenths(
    manager: User, activities: list[Activity], now: datetime
) -> None:
    mine = quality.manager_quality(manager, now=now)
    # Acme: owner 15, a recent contact 20 (Ivanov's meetings are the company's too), the next step 15 (the
    # call planned with Ivanov is the company's too) = 50; Ivanov: everything but the lead source = 90.
    assert mine.clients_score == 70
    assert mine.score == 72  # 0.7 × 70 + 0.3 × 75 = 71.5, halves up


def test_without_activities_the_score_is_the_clients_average(manager: User) -> None:
    client_services.company_create(by=manager, name="Bare Ltd")
    mine = quality.manager_quality(manager)
    assert (mine.activities_share, mine.clients_score, mine.score) == (None, 15, 15)


def test_many_people_cost_the_same_queries(
    manager: User, teammate: User, head: User, django_assert_num_queries: object
) -> None:
    for person in [manager, teammate, head]:
        client_services.company_create(by=person, name=f"{person.username} Ltd")
    with django_assert_num_queries(4):  # type: ignore[operator]
        scores = quality.managers_quality([manager, teammate, head])
    assert {pk: found.clients for pk, found in scores.items()} == {manager.pk: 1, teammate.pk: 1, head.pk: 1}


# ---- Snapshots --------------------------------------------------------------------------------------------------


def test_snapshots_are_kept_once_a_day(manager: User, teammate: User, head: User) -> None:
    bare = client_services.company_create(by=manager, name="Bare Ltd")
    client_services.company_create(by=teammate, name="Theirs Ltd", industry="Retail")
    today = timezone.localdate()
    assert quality.snapshot_all(on=today) == 2  # the head owns nothing: no snapshot
    assert quality.snapshot_all(on=today) == 2
    assert QualitySnapshot.objects.filter(on=today).count() == 2
    mine = QualitySnapshot.objects.get(user=manager, on=today)
    assert (mine.score, mine.clients_score, mine.activities_share, mine.clients) == (15, 15, 100, 1)

    client_services.client_update(by=manager, client=bare, version=bare.version, industry="Retail")
    quality.snapshot_all(on=today)
    assert QualitySnapshot.objects.filter(on=today).count() == 2
    assert QualitySnapshot.objects.get(user=manager, on=today).score == 25


def test_inactive_people_get_no_snapshot(manager: User) -> None:
    client_services.company_create(by=manager, name="Bare Ltd")
    User.objects.filter(pk=manager.pk).update(is_active=False)
    assert quality.snapshot_all(on=timezone.localdate()) == 0


def test_the_daily_job_snapshots_and_reports_its_run(manager: User) -> None:
    client_services.company_create(by=manager, name="Bare Ltd")
    quality_snapshots.enqueue()
    assert QualitySnapshot.objects.get(user=manager).on == timezone.localdate()
    assert JobRun.objects.get(name=QUALITY_SNAPSHOTS).runs == 1


def test_the_trend_gives_each_weeks_last_snapshot(manager: User, teammate: User) -> None:
    today = date(2026, 3, 31)
    for days_ago, score in [(0, 80), (3, 70), (8, 60), (40, 50), (60, 10)]:
        QualitySnapshot.objects.create(
            user=manager,
            on=today - timedelta(days=days_ago),
            score=score,
            clients_score=score,
            activities_share=100,
            clients=1,
        )
    trend = quality.quality_trend([manager, teammate], days=56, today=today)
    assert [snapshot.score for snapshot in trend[manager.pk]] == [50, 60, 70, 80]  # 60 days ago is out
    assert trend[teammate.pk] == []
    weeks = quality.weekly(trend[manager.pk], weeks=8, today=today)
    assert [week.score for week in weeks] == [None, None, 50, None, None, None, 60, 80]
    assert (weeks[-1].starts_on, weeks[-1].ends_on) == (today - timedelta(days=6), today)


def test_agents_and_heads_who_own_clients_are_scored_too(head: User) -> None:
    agent = UserFactory.create(username="partner", role=Role.AGENT, team=head.team)
    client_services.company_create(by=agent, name="Partner's Ltd")
    client_services.contact_create(by=head, last_name="Headsclient")
    assert quality.snapshot_all(on=timezone.localdate()) == 2
    assert set(QualitySnapshot.objects.values_list("user__username", flat=True)) == {"partner", "head"}
    assert Contact.objects.count() == 1
