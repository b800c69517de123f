"""Test data for sales: a pipeline like the demo's "New sales", products with prices and stock."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from rapport.sales.models import (
    CheckpointType,
    LostReason,
    Pipeline,
    PriceList,
    Product,
    ProductPrice,
    Stage,
    StageKind,
    StockLevel,
    Warehouse,
)


class ProductFactory(DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda number: f"SKU-{number:04d}")
    name = factory.Faker("word")
    unit = "pcs"


def sales_pipeline(name: str = "New sales") -> Pipeline:
    """Qualification → Presentation → Proposal (amount and the proposal checkpoint) →
    Negotiation (a contact person) → Won (the contract checkpoint) / Lost."""
    pipeline = Pipeline.objects.create(name=name)
    presentation, proposal, contract = (
        CheckpointType.objects.create(pipeline=pipeline, name=title, position=number, due_days=days)
        for number, (title, days) in enumerate([("Presentation", 7), ("Commercial proposal", 14), ("Contract", 30)])
    )
    del presentation
    plans = [
        ("Qualification", 10, StageKind.OPEN, [], 14),
        ("Presentation", 30, StageKind.OPEN, [], 21),
        ("Proposal", 50, StageKind.OPEN, ["amount"], 21),
        ("Negotiation", 70, StageKind.OPEN, ["contact"], 30),
        ("Won", 100, StageKind.WON, [], None),
        ("Lost", 0, StageKind.LOST, [], None),
    ]
    for position, (title, probability, kind, fields, norm) in enumerate(plans):
        stage = Stage.objects.create(
            pipeline=pipeline,
            name=title,
            position=position,
            probability=probability,
            kind=kind,
            required_fields=fields,
            stale_after_days=norm,
        )
        if title == "Proposal":
            stage.required_checkpoints.set([proposal])
        if title == "Won":
            stage.required_checkpoints.set([contract])
    return pipeline


def stage(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


def lost_reason(name: str = "Price too high") -> LostReason:
    return LostReason.objects.get_or_create(name=name)[0]


def product_with_price(
    *, sku: str = "CH-1", name: str = "Office chair", price: str = "100.00", currency: str = "USD", stock: int = 10
) -> Product:
    price_list, _ = PriceList.objects.get_or_create(
        name=f"Base {currency}", defaults={"currency": currency, "is_default": currency == "USD"}
    )
    product = Product.objects.create(sku=sku, name=name)
    ProductPrice.objects.create(product=product, price_list=price_list, price=Decimal(price))
    warehouse, _ = Warehouse.objects.get_or_create(name="Main warehouse")
    StockLevel.objects.create(product=product, warehouse=warehouse, quantity=Decimal(stock))
    return product
