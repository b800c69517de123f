"""Demo sales: two pipelines with gates and checkpoints, a product catalogue with stock, and deals.

Data set M has 300k deals. Most older deals are closed (won or lost); recent ones are
open across the stages, with their stage moves and checkpoints consistent with the gates
(a deal past "Proposal" has its proposal done and an amount). A few are left stuck, so
the deviation alerts have something to find. Rows go in as tuples through core.bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from rapport.clients.models import Company, Contact
from rapport.core import demo
from rapport.core.bulk import bulk_insert, ids_after, indexes_dropped, last_id
from rapport.sales.models import (
    CheckpointType,
    Deal,
    DealCheckpoint,
    DealLine,
    DealStageChange,
    LostReason,
    Pipeline,
    PriceList,
    Product,
    ProductPrice,
    Stage,
    StageColour,
    StageKind,
    StockLevel,
    Warehouse,
)

CURRENCY_OF_LOCALE = {"ru_RU": "RUB", "vi_VN": "VND", "bg_BG": "BGN", "en_US": "USD"}
# A typical deal's size in each currency: (smallest, largest).
DEAL_SIZE = {"RUB": (30_000, 3_000_000), "VND": (10_000_000, 900_000_000), "BGN": (500, 60_000), "USD": (300, 40_000)}
USD_RATE: dict[str, int | Decimal] = {"RUB": 90, "VND": 25_000, "BGN": Decimal("1.8"), "USD": 1}
LOST_REASONS = ["Price too high", "Chose a competitor", "No budget", "No answer", "Postponed indefinitely"]
PRODUCTS = [
    ("Office chair", "pcs", 120),
    ("Desk", "pcs", 260),
    ("Printer paper A4", "box", 28),
    ("Laser printer", "pcs", 340),
    ("Toner cartridge", "pcs", 75),
    ('Monitor 27"', "pcs", 290),
    ("Laptop", "pcs", 1100),
    ("Service contract", "year", 900),
    ("Installation", "hour", 45),
    ("Training", "day", 600),
]


@dataclass
class StagePlan:
    name: str
    probability: int
    kind: str = StageKind.OPEN
    colour: str = StageColour.BLUE
    norm: int | None = None
    fields: tuple[str, ...] = ()
    checkpoints: tuple[str, ...] = ()


PIPELINES = {
    "New sales": (
        [
            StagePlan("Qualification", 10, colour=StageColour.AZURE, norm=14),
            StagePlan("Presentation", 30, colour=StageColour.CYAN, norm=21),
            StagePlan(
                "Proposal",
                50,
                colour=StageColour.TEAL,
                norm=21,
                fields=("amount",),
                checkpoints=("Commercial proposal",),
            ),
            StagePlan("Negotiation", 70, colour=StageColour.ORANGE, norm=30, fields=("contact", "expected_close")),
            StagePlan("Won", 100, StageKind.WON, StageColour.GREEN, checkpoints=("Contract",)),
            StagePlan("Lost", 0, StageKind.LOST, StageColour.SECONDARY),
        ],
        [("Presentation", 7), ("Commercial proposal", 14), ("Contract", 30)],
    ),
    "Distribution": (
        [
            StagePlan("Lead", 10, colour=StageColour.AZURE, norm=10),
            StagePlan("Samples sent", 30, colour=StageColour.PURPLE, norm=21, checkpoints=("Samples",)),
            StagePlan("First order", 60, colour=StageColour.ORANGE, norm=30, fields=("lines",)),
            StagePlan("Regular purchases", 100, StageKind.WON, StageColour.GREEN, fields=("lines",)),
            StagePlan("Lost", 0, StageKind.LOST, StageColour.SECONDARY),
        ],
        [("Samples", 10), ("Price agreement", 20)],
    ),
}


def _set_up_pipelines() -> list[tuple[Pipeline, list[Stage], list[CheckpointType]]]:
    made = []
    for position, (name, (plans, checkpoint_plans)) in enumerate(PIPELINES.items()):
        pipeline = Pipeline.objects.create(name=name, position=position)
        types = [
            CheckpointType.objects.create(pipeline=pipeline, name=title, position=number, due_days=days)
            for number, (title, days) in enumerate(checkpoint_plans)
        ]
        by_name = {kind.name: kind for kind in types}
        stages = []
        for number, plan in enumerate(plans):
            stage = Stage.objects.create(
                pipeline=pipeline,
                name=plan.name,
                position=number,
                kind=plan.kind,
                probability=plan.probability,
                colour=plan.colour,
                stale_after_days=plan.norm,
                required_fields=list(plan.fields),
            )
            stage.required_checkpoints.set([by_name[title] for title in plan.checkpoints])
            stages.append(stage)
        made.append((pipeline, stages, types))
    return made


def _catalogue(context: demo.DemoContext) -> tuple[dict[str, PriceList], list[tuple[int, dict[str, Decimal]]]]:
    price_lists = {
        currency: PriceList.objects.create(name=f"Base {currency}", currency=currency, is_default=currency == "USD")
        for currency in CURRENCY_OF_LOCALE.values()
    }
    warehouses = [Warehouse.objects.create(name=name) for name in ("Main warehouse", "North depot")]
    products = []
    for number, (name, unit, usd) in enumerate(PRODUCTS * 3):
        grade = ["Standard", "Pro", "Premium"][number // len(PRODUCTS)]
        product = Product.objects.create(sku=f"SKU-{1000 + number}", name=f"{name} {grade}", unit=unit)
        prices = {
            currency: (Decimal(usd) * (1 + number // len(PRODUCTS)) * Decimal(USD_RATE[currency])).quantize(Decimal(1))
            for currency in price_lists
        }
        ProductPrice.objects.bulk_create(
            ProductPrice(product=product, price_list=price_lists[currency], price=price)
            for currency, price in prices.items()
        )
        StockLevel.objects.bulk_create(
            StockLevel(
                product=product,
                warehouse=warehouse,
                quantity=Decimal(context.rng.randrange(0, 500)),
                reserved=Decimal(context.rng.randrange(0, 20)),
            )
            for warehouse in warehouses
        )
        products.append((product.pk, prices))
    return price_lists, products


@demo.generator(order=30)
def deals(context: demo.DemoContext) -> None:
    rng, now = context.rng, timezone.now()
    LostReason.objects.bulk_create(LostReason(name=name, position=n) for n, name in enumerate(LOST_REASONS))
    lost_reasons = list(LostReason.objects.values_list("pk", flat=True))
    pipelines = _set_up_pipelines()
    price_lists, products = _catalogue(context)
    team_of = {manager.pk: manager.team_id for manager in context.managers}
    team_members: dict[int | None, list[int]] = {}
    for manager in context.managers:
        team_members.setdefault(manager.team_id, []).append(manager.pk)
    currency_of = {pk: CURRENCY_OF_LOCALE[context.team_locale.get(team or 0, "en_US")] for pk, team in team_of.items()}
    manager_ids = list(team_of)

    # Clients to sell to: (company id, contact id, owner id, lead source id), read before any COPY.
    companies = list(Company.objects.order_by("pk").values_list("pk", "owner_id", "lead_source_id"))
    people: dict[int, int] = {}
    for person_id, employer_id in Contact.objects.filter(company__isnull=False).values_list("pk", "company_id"):
        people.setdefault(employer_id, person_id)
    loners = list(
        Contact.objects.filter(company__isnull=True).order_by("pk").values_list("pk", "owner_id", "lead_source_id")
    )
    if not companies or not loners:
        return

    deal_rows, moves, checkpoint_rows, line_rows = [], [], [], []
    # What each stage's gate asks for, so every demo deal passes the gates of the stages it went through.
    checkpoints_of = {
        stage.pk: {kind.pk for kind in stage.required_checkpoints.all()}
        for _pipeline, stages, _types in pipelines
        for stage in stages
    }
    for number in range(context.scale.deals):
        pipeline, stages, types = pipelines[0] if rng.random() < 0.8 else pipelines[1]
        created = now - timedelta(minutes=rng.randrange(720 * 24 * 60))
        age = (now - created).days
        open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
        won, lost = (next(s for s in stages if s.kind == kind) for kind in (StageKind.WON, StageKind.LOST))
        # Where the deal got to: recent deals are mostly still open; old ones closed, a few stuck.
        if (age < 120 and rng.random() < 0.7) or rng.random() < 0.02:
            reached = rng.randrange(len(open_stages))
            final = open_stages[reached]
        else:
            reached = rng.randrange(len(open_stages))
            final = won if rng.random() < 0.35 else lost
            if final is won:
                reached = len(open_stages) - 1
        path = [*open_stages[: reached + 1], *([final] if final.kind != StageKind.OPEN else [])]
        needs = {name for stage in path if stage.kind != StageKind.LOST for name in stage.required_fields}
        needed_checkpoints = {pk for stage in path if stage.kind != StageKind.LOST for pk in checkpoints_of[stage.pk]}

        company_id: int | None = None
        contact_id: int | None = None
        if rng.random() < 0.7:
            company_id, owner_id, source = rng.choice(companies)
            contact_id = people.get(company_id)
        if company_id is None or ("contact" in needs and contact_id is None):
            contact_id, owner_id, source = rng.choice(loners)
            company_id = None
        owner_id = owner_id or rng.choice(manager_ids)
        registrant_id = owner_id
        if rng.random() < 0.15:  # registered by a teammate, then handed over
            registrant_id = rng.choice(team_members[team_of[owner_id]])
        currency = currency_of[owner_id]
        span = min(now, created + timedelta(days=rng.randrange(5, 90))) - created
        moments = sorted(created + span * rng.random() for _ in path[1:])
        at = [created, *moments]
        low, high = DEAL_SIZE[currency]
        priced = "amount" in needs or reached >= 1 or rng.random() < 0.5
        amount = Decimal(rng.randrange(low, high)).quantize(Decimal(1)) if priced else None
        has_lines = "lines" in needs or (pipeline.name == "Distribution" and reached >= 1)
        price_list = price_lists[currency]
        if has_lines:
            total = Decimal(0)
            for position in range(rng.randint(1, 3)):
                product_id, prices = rng.choice(products)
                quantity = Decimal(rng.randint(1, 40))
                line_rows.append((number, product_id, quantity, prices[currency], Decimal(0), position))
                total += quantity * prices[currency]
            amount = total
        closed = at[-1] if final.kind != StageKind.OPEN else None
        deal_rows.append(
            (
                f"{rng.choice(PRODUCTS)[0]} × {rng.choice((5, 10, 12, 20, 25, 50, 100))}",
                company_id,
                contact_id if (company_id is None or "contact" in needs or rng.random() < 0.5) else None,
                pipeline.pk,
                final.pk,
                amount,
                currency,
                price_list.pk if has_lines else None,
                owner_id,
                registrant_id,
                owner_id if final is won else None,
                source,
                (created + timedelta(days=rng.randrange(14, 120))).date(),
                at[-1],
                closed,
                rng.choice(lost_reasons) if final is lost else None,
                created,
                now,
            )
        )
        for step, stage in enumerate(path):
            moves.append((number, path[step - 1].pk if step else None, stage.pk, owner_id, at[step]))
        for kind in types:
            due = (created + timedelta(days=kind.due_days)).date()
            needed = kind.pk in needed_checkpoints or rng.random() < 0.3
            done_at = min(now, created + timedelta(days=rng.randrange(1, kind.due_days + 5))) if needed else None
            checkpoint_rows.append((number, kind.pk, due, done_at, owner_id if done_at else None))

    # Built without their indexes, then indexed once: a million stage moves kept sorted row by row cost more.
    with (
        indexes_dropped(Deal),
        indexes_dropped(DealStageChange),
        indexes_dropped(DealCheckpoint),
        indexes_dropped(DealLine),
    ):
        before = last_id(Deal)
        bulk_insert(
            Deal,
            [
                "title",
                "company_id",
                "contact_id",
                "pipeline_id",
                "stage_id",
                "amount",
                "currency",
                "price_list_id",
                "owner_id",
                "registrant_id",
                "closer_id",
                "lead_source_id",
                "expected_close",
                "stage_entered_at",
                "closed_at",
                "lost_reason_id",
                "created_at",
                "updated_at",
            ],
            deal_rows,
        )
        deal_ids = ids_after(Deal, before)
        bulk_insert(
            DealStageChange,
            ["deal_id", "from_stage_id", "to_stage_id", "by_id", "at"],
            ((deal_ids[n], *rest) for n, *rest in moves),
        )
        bulk_insert(
            DealCheckpoint,
            ["deal_id", "type_id", "due_date", "done_at", "done_by_id"],
            ((deal_ids[n], *rest) for n, *rest in checkpoint_rows),
        )
        bulk_insert(
            DealLine,
            ["deal_id", "product_id", "quantity", "price", "discount", "position"],
            ((deal_ids[n], *rest) for n, *rest in line_rows),
        )
    context.log(f"  {len(deal_rows)} deals, {len(moves)} stage moves, {len(checkpoint_rows)} checkpoints")
