"""Demo clients: companies and contacts with phones and e-mails in the formats of each team's country.

Built for data set M (200k companies, 500k contacts): names come from small pools drawn
from Faker once per locale, phones are composed directly in E.164, and rows go in as
plain tuples through core.bulk, because model instances alone would take minutes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from random import Random

from django.utils import timezone

from rapport.clients.models import (
    ClientStatus,
    ClientTransfer,
    Company,
    Contact,
    ContactPoint,
    ContactPointKind,
    LeadSource,
    Tag,
)
from rapport.clients.search import search_fold, search_index_suspended
from rapport.core import demo
from rapport.core.bulk import bulk_insert, ids_after, last_id

POOL_SIZE = 1_500
LEAD_SOURCES = ["Website", "Referral", "Exhibition", "Cold call", "Advertising", "Partner", "Social media", "Mailing"]
TAGS = ["VIP", "Wholesale", "Retail", "Government", "Key account", "Newsletter"]
INDUSTRIES = ["Retail", "Construction", "Manufacturing", "Logistics", "IT", "Food", "Healthcare", "Education", "Energy"]

# Country code and how a local mobile number looks: (code, national prefixes, national digits after the prefix).
PHONE_PLANS = {
    "ru_RU": ("7", ["912", "916", "925", "903", "977"], 7),
    "vi_VN": ("84", ["90", "91", "98", "97", "93"], 7),
    "bg_BG": ("359", ["87", "88", "89"], 7),
    "en_US": ("1", ["201", "212", "415", "617", "312"], 7),
}


def random_phone(rng: Random, locale: str) -> tuple[str, str]:
    """(as typed, E.164) of a plausible mobile number of the locale's country."""
    code, prefixes, length = PHONE_PLANS[locale]
    prefix = rng.choice(prefixes)
    rest = f"{rng.randrange(10**length):0{length}d}"
    e164 = f"+{code}{prefix}{rest}"
    typed = (
        f"+{code} {prefix} {rest[:3]}-{rest[3:5]}-{rest[5:]}"
        if code == "7"
        else f"+{code} {prefix} {rest[:3]} {rest[3:]}"
    )
    return typed, e164


class NamePools:
    def __init__(self, context: demo.DemoContext) -> None:
        self.people: dict[str, list[tuple[str, str, str]]] = {}
        self.companies: dict[str, list[str]] = {}
        for locale in demo.LOCALES:
            fake = context.faker(locale)
            people = []
            for _ in range(POOL_SIZE):
                male = context.rng.random() < 0.5
                middle = fake.middle_name_male() if locale == "ru_RU" and male else ""
                if locale == "ru_RU" and not male:
                    middle = fake.middle_name_female()
                people.append(
                    (
                        fake.last_name_male() if male else fake.last_name_female(),
                        fake.first_name_male() if male else fake.first_name_female(),
                        middle,
                    )
                )
            self.people[locale] = people
            self.companies[locale] = [fake.company() for _ in range(POOL_SIZE)]


@demo.generator(order=20)
def companies_and_contacts(context: demo.DemoContext) -> None:
    # The name-search indexes are built once at the end rather than row by row: much faster.
    with search_index_suspended():
        _companies_and_contacts(context)


def _companies_and_contacts(context: demo.DemoContext) -> None:
    rng, scale = context.rng, context.scale
    sources = [source.pk for source in LeadSource.objects.bulk_create(LeadSource(name=name) for name in LEAD_SOURCES)]
    Tag.objects.bulk_create(Tag(name=name) for name in TAGS)
    pools = NamePools(context)
    manager_ids = [manager.pk for manager in context.managers]
    locale_of = {m.pk: context.team_locale.get(m.team_id or 0, "en_US") for m in context.managers}
    now = timezone.now()
    # Names come from small pools: fold each once.
    fold = functools.cache(search_fold)

    def owner_and_status() -> tuple[int | None, str]:
        draw = rng.random()
        if draw < 0.07:
            return None, ClientStatus.POOL
        return rng.choice(manager_ids), ClientStatus.FROZEN if draw < 0.15 else ClientStatus.ACTIVE

    def locale(owner_id: int | None) -> str:
        return locale_of[owner_id] if owner_id else rng.choice(demo.LOCALES)

    def last_contact() -> datetime | None:
        return None if rng.random() < 0.05 else now - timedelta(minutes=rng.randrange(365 * 24 * 60))

    def created() -> datetime:
        return now - timedelta(days=rng.randrange(30, 900))

    # Companies, each with a phone.
    owners: list[tuple[int | None, str]] = []
    company_rows = []
    for number in range(scale.companies):
        owner_id, status = owner_and_status()
        owners.append((owner_id, locale(owner_id)))
        name = rng.choice(pools.companies[owners[-1][1]])
        tax_id = str(7_700_000_000 + number) if rng.random() < 0.7 else ""
        company_rows.append(
            (
                name,
                tax_id,
                f"{fold(name)} {tax_id}".rstrip(),  # as search_fold(f"{name} {tax_id}"): digits fold to themselves
                rng.choice(INDUSTRIES),
                owner_id,
                owner_id or rng.choice(manager_ids),
                status,
                rng.choice(sources),
                rng.random() < 0.6,
                last_contact(),
                created(),
                now,
            )
        )
    before = last_id(Company)
    bulk_insert(
        Company,
        [
            "name",
            "tax_id",
            "search_text",
            "industry",
            "owner_id",
            "registrant_id",
            "status",
            "lead_source_id",
            "consent_email",
            "last_contact_at",
            "created_at",
            "updated_at",
        ],
        company_rows,
    )
    companies = list(zip(ids_after(Company, before), owners, strict=True))
    _insert_points(
        ("company_id", company_id, ContactPointKind.PHONE, *random_phone(rng, company_locale), now)
        for company_id, (_, company_locale) in companies
    )
    context.log(f"  {scale.companies} companies")

    # Contacts: most work at one of the companies (and share its owner), the rest stand alone.
    contact_rows = []
    contact_locales = []
    for _ in range(scale.contacts):
        if companies and rng.random() < 0.6:
            company_id, (owner_id, contact_locale) = rng.choice(companies)
            status = ClientStatus.POOL if owner_id is None else ClientStatus.ACTIVE
        else:
            company_id = None
            owner_id, status = owner_and_status()
            contact_locale = locale(owner_id)
        contact_locales.append(contact_locale)
        last, first, middle = rng.choice(pools.people[contact_locale])
        birthday = (now - timedelta(days=rng.randrange(22 * 365, 65 * 365))).date() if rng.random() < 0.4 else None
        contact_rows.append(
            (
                last,
                first,
                middle,
                fold(f"{last} {first} {middle}"),
                company_id,
                owner_id,
                owner_id or rng.choice(manager_ids),
                status,
                rng.choice(POSITIONS),
                birthday,
                rng.random() < 0.5,
                rng.random() < 0.3,
                rng.choice(sources),
                last_contact(),
                created(),
                now,
            )
        )
    before = last_id(Contact)
    bulk_insert(
        Contact,
        [
            "last_name",
            "first_name",
            "middle_name",
            "search_text",
            "company_id",
            "owner_id",
            "registrant_id",
            "status",
            "position",
            "birthday",
            "consent_email",
            "consent_sms",
            "lead_source_id",
            "last_contact_at",
            "created_at",
            "updated_at",
        ],
        contact_rows,
    )

    contact_ids = ids_after(Contact, before)  # read before the insert below: no query may run inside a COPY

    def contact_points() -> Iterator[tuple[object, ...]]:
        for contact_id, contact_locale in zip(contact_ids, contact_locales, strict=True):
            yield ("contact_id", contact_id, ContactPointKind.PHONE, *random_phone(rng, contact_locale), now)
            if rng.random() < 0.6:
                address = f"client{contact_id}@example.com"
                yield ("contact_id", contact_id, ContactPointKind.EMAIL, address, address, now)

    _insert_points(contact_points())
    context.log(f"  {scale.contacts} contacts")


POSITIONS = ["", "CEO", "Buyer", "Chief accountant", "Sales director", "Office manager"]


def _insert_points(points: Iterable[tuple[object, ...]]) -> None:
    """Rows of (owner column, owner id, kind, as typed, normalized, now): primary, one of each kind."""

    def rows() -> Iterator[tuple[object, ...]]:
        for owner_column, owner_id, kind, typed, normalized, now in points:
            digits = str(normalized).lstrip("+")[::-1] if kind == ContactPointKind.PHONE else ""
            company_id, contact_id = (owner_id, None) if owner_column == "company_id" else (None, owner_id)
            yield company_id, contact_id, kind, typed, normalized, digits, True, now, now

    bulk_insert(
        ContactPoint,
        [
            "company_id",
            "contact_id",
            "kind",
            "value",
            "normalized",
            "digits_reversed",
            "is_primary",
            "created_at",
            "updated_at",
        ],
        rows(),
    )


# One company in LONG_HISTORY_EVERY has been passed around for years (a key account
# through many redistributions): its card shows a full timeline. A tenth of the rest
# changed hands once or twice.
LONG_HISTORY_EVERY = 200
LONG_HISTORY_TRANSFERS = 55
REASONS = ["Redistribution", "Manager on leave", "Team change", "Client asked for another manager", ""]


@demo.generator(order=25)
def transfer_history(context: demo.DemoContext) -> None:
    rng = context.rng
    manager_ids = [manager.pk for manager in context.managers]
    deciders = [user.pk for role in ("head", "admin") for user in context.users_by_role.get(role, [])] or manager_ids
    now = timezone.now()

    def history(company_id: int, owner_id: int, created_at: datetime, count: int) -> Iterator[tuple[object, ...]]:
        # Owners walk backwards from the current one, so the last transfer lands on today's owner.
        moments = sorted(created_at + (now - created_at) * rng.random() for _ in range(count))
        to_user = owner_id
        for at in reversed(moments):
            from_user = rng.choice([pk for pk in manager_ids if pk != to_user] or manager_ids)
            yield company_id, from_user, to_user, rng.choice(deciders), at, rng.choice(REASONS)
            to_user = from_user

    def rows() -> Iterator[tuple[object, ...]]:
        owned = Company.objects.filter(owner__isnull=False).order_by("pk").values_list("pk", "owner_id", "created_at")
        for number, (company_id, owner_id, created_at) in enumerate(owned.iterator(chunk_size=5_000)):
            if number % LONG_HISTORY_EVERY == 0:
                yield from history(company_id, owner_id, created_at, LONG_HISTORY_TRANSFERS)
            elif rng.random() < 0.1:
                yield from history(company_id, owner_id, created_at, rng.randint(1, 2))

    transfers = list(rows())  # read in full first: no query may run inside a COPY
    bulk_insert(ClientTransfer, ["company_id", "from_user_id", "to_user_id", "by_id", "at", "reason"], transfers)
    context.log(f"  {len(transfers)} client transfers")
