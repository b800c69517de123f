"""The board: columns and their totals, who sees which cards, and moving a deal by dropping its card."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.clients.models import Company, LeadSource
from rapport.sales import board as board_queries
from rapport.sales import services
from rapport.sales.models import Deal, DealCheckpoint, DealStageChange, Pipeline, StageKind
from rapport.sales.tests.factories import lost_reason, sales_pipeline, stage


def board_url(pipeline: Pipeline, query: str = "") -> str:
    url = reverse("sales:board", args=[pipeline.pk])
    return f"{url}?{query}" if query else url


def move_url(deal: Deal) -> str:
    return reverse("sales:deal-move", args=[deal.pk])


def add_deal(by: User, client: Company, pipeline: Pipeline, title: str, **fields: Any) -> Deal:
    return services.deal_create(by=by, title=title, company=client, pipeline=pipeline, **fields)


def column_html(html: str, stage_id: int) -> str:
    """One column's markup, cut out of the page."""
    start = html.index(f'id="stage-{stage_id}"')
    return html[start : html.index("</section>", start)]


def head_html(html: str, stage_id: int) -> str:
    """One column's header (count and sums), cut out of a page or a move's answer."""
    start = html.index(f'id="stage-{stage_id}-head"')
    return html[start : html.index("</header>", start)]


def card_titles(html: str) -> set[str]:
    return {unescape(title) for title in re.findall(r'class="board-card-title" href="[^"]+">([^<]+)</a>', html)}


@pytest.fixture
def teammates_client(teammate: User) -> Company:
    return client_services.company_create(by=teammate, name="Teammate Trading")


@pytest.fixture
def far_client(outsider: User) -> Company:
    return client_services.company_create(by=outsider, name="Far Away Ltd")


# ---- Reading the board -------------------------------------------------------------------------


def test_each_column_counts_its_deals_and_sums_them_per_currency(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    presentation = stage(pipeline, "Presentation")
    add_deal(manager, acme, pipeline, "Chairs", amount=Decimal("1200.50"))
    add_deal(manager, acme, pipeline, "Desks", amount=Decimal(2000))
    add_deal(manager, acme, pipeline, "Not priced yet")
    add_deal(manager, acme, pipeline, "Printers", stage=presentation, amount=Decimal(1000))
    add_deal(manager, acme, pipeline, "Paper", stage=presentation, amount=Decimal(50), currency="EUR")

    response = as_manager.get(board_url(pipeline))

    assert response.status_code == 200
    columns = {column.stage.name: column for column in response.context["board"].columns}
    assert list(columns) == ["Qualification", "Presentation", "Proposal", "Negotiation", "Won", "Lost"]
    qualification, second = columns["Qualification"], columns["Presentation"]
    assert qualification.count == 3
    assert [(s.currency, s.amount, s.weighted) for s in qualification.sums] == [
        ("USD", Decimal("3200.50"), Decimal("320.05"))
    ]
    assert second.count == 2
    assert [(s.currency, s.amount, s.weighted) for s in second.sums] == [
        ("USD", Decimal(1000), Decimal(300)),
        ("EUR", Decimal(50), Decimal(15)),
    ]
    html = response.content.decode()
    head = column_html(html, qualification.stage.pk)
    assert 'data-count="3"' in head
    assert "3,200.50 USD" in head
    assert "≈ 320 USD" in head
    head = column_html(html, presentation.pk)
    assert "1,000 USD" in head
    assert "≈ 300 USD" in head
    assert "50 EUR" in head
    assert "≈ 15 EUR" in head
    assert card_titles(column_html(html, presentation.pk)) == {"Printers", "Paper"}
    assert 'data-count="0"' in column_html(html, stage(pipeline, "Proposal").pk)


def test_a_manager_sees_own_deals_a_head_the_teams_an_outsider_only_theirs(
    personas: dict[str, User], acme: Company, teammates_client: Company, far_client: Company, pipeline: Pipeline
) -> None:
    add_deal(personas["manager"], acme, pipeline, "Mine")
    add_deal(personas["teammate"], teammates_client, pipeline, "Teammate's")
    add_deal(personas["outsider"], far_client, pipeline, "Far away")

    def seen(persona: str) -> set[str]:
        response = client_for(personas[persona]).get(board_url(pipeline))
        assert response.status_code == 200
        return card_titles(response.content.decode())

    assert seen("manager") == {"Mine"}
    assert seen("teammate") == {"Teammate's"}
    assert seen("head") == {"Mine", "Teammate's"}
    assert seen("outsider") == {"Far away"}
    assert seen("admin") == {"Mine", "Teammate's", "Far away"}
    assert seen("operator") == {"Mine", "Teammate's", "Far away"}
    assert seen("agent") == set()


def test_the_totals_count_only_what_the_user_sees(
    personas: dict[str, User], acme: Company, far_client: Company, pipeline: Pipeline
) -> None:
    add_deal(personas["manager"], acme, pipeline, "Mine", amount=Decimal(100))
    add_deal(personas["outsider"], far_client, pipeline, "Far away", amount=Decimal(900))
    response = client_for(personas["manager"]).get(board_url(pipeline))
    qualification = response.context["board"].columns[0]
    assert (qualification.count, qualification.sums[0].amount) == (1, Decimal(100))


def test_only_editors_get_draggable_cards(
    personas: dict[str, User], acme: Company, teammates_client: Company, pipeline: Pipeline
) -> None:
    add_deal(personas["manager"], acme, pipeline, "Mine")
    add_deal(personas["teammate"], teammates_client, pipeline, "Teammate's")

    def movable(persona: str) -> int:
        return client_for(personas[persona]).get(board_url(pipeline)).content.decode().count("data-movable")

    assert movable("manager") == 1
    assert movable("head") == 2
    assert movable("admin") == 2
    assert movable("operator") == 0  # sees every deal, changes none
    # The lost dialog is there only for someone who can move a card.
    assert 'id="lost-dialog"' not in client_for(personas["operator"]).get(board_url(pipeline)).content.decode()


def test_the_board_costs_the_same_few_queries_however_many_deals(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    add_deal(manager, acme, pipeline, "First", amount=Decimal(10))
    # Session and user, the pipelines, the lead sources, the stages, the totals, the cards, their owners,
    # the reasons for losing, the bell.
    with django_assert_num_queries(10):
        assert as_manager.get(board_url(pipeline)).status_code == 200
    for number in range(8):
        add_deal(manager, acme, pipeline, f"Deal {number}", stage=stage(pipeline, "Presentation"))
    with django_assert_num_queries(10):
        response = as_manager.get(board_url(pipeline))
    assert len(card_titles(response.content.decode())) == 9


def test_a_heads_board_costs_two_more_queries_for_the_owner_filter_and_the_team(
    personas: dict[str, User], acme: Company, teammates_client: Company, pipeline: Pipeline, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    as_head = client_for(personas["head"])
    add_deal(personas["manager"], acme, pipeline, "Mine")
    # The owner filter's choices, and the team's member ids the access policy reads once.
    with django_assert_num_queries(12):
        assert as_head.get(board_url(pipeline)).status_code == 200
    for number in range(4):
        add_deal(personas["teammate"], teammates_client, pipeline, f"Deal {number}")
    with django_assert_num_queries(12):
        response = as_head.get(board_url(pipeline))
    assert len(card_titles(response.content.decode())) == 5


def test_a_move_costs_a_bounded_number_of_queries(
    as_manager: Client, deal: Deal, pipeline: Pipeline, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(20):
        response = as_manager.post(
            move_url(deal), {"stage": stage(pipeline, "Presentation").pk, "version": deal.version}
        )
    assert response.status_code == 200


def test_a_column_shows_at_most_the_limit_and_links_to_the_rest(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_queries, "CARD_LIMIT", 2)
    for number in range(3):
        add_deal(manager, acme, pipeline, f"Deal {number}")
    html = as_manager.get(board_url(pipeline)).content.decode()
    qualification = stage(pipeline, "Qualification")
    column = column_html(html, qualification.pk)
    # The latest in the stage first.
    assert card_titles(column) == {"Deal 2", "Deal 1"}
    assert 'data-count="3"' in column
    more = re.search(r'<a class="board-more" href="([^"]+)"[^>]*>([^<]+)</a>', column)
    assert more is not None
    assert more.group(2) == "1 more"
    assert more.group(1).replace("&amp;", "&") == (
        f"{reverse('sales:deal-list')}?pipeline={pipeline.pk}&stage={qualification.pk}"
    )


def test_closed_columns_show_only_recently_closed_deals(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    lost = stage(pipeline, "Lost")
    recent = add_deal(manager, acme, pipeline, "Lost lately")
    services.deal_move_to_stage(by=manager, deal=recent, stage=lost, lost_reason=lost_reason())
    old = add_deal(manager, acme, pipeline, "Lost long ago")
    services.deal_move_to_stage(by=manager, deal=old, stage=lost, lost_reason=lost_reason())
    long_ago = timezone.now() - timedelta(days=40)
    Deal.objects.filter(pk=old.pk).update(closed_at=long_ago, stage_entered_at=long_ago)
    # The page leaves the won and lost columns to a second request, which it makes once shown.
    page = as_manager.get(board_url(pipeline)).content.decode()
    closed_url = reverse("sales:board-closed", args=[pipeline.pk])
    assert f'hx-get="{closed_url}"' in page
    assert card_titles(column_html(page, lost.pk)) == set()
    response = as_manager.get(closed_url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert re.findall(r'<section class="board-column[^"]*" id="stage-(\d+)"', html) == [
        str(stage(pipeline, "Won").pk),
        str(lost.pk),
    ]
    assert html.count('hx-swap-oob="true"') == 2
    assert card_titles(column_html(html, lost.pk)) == {"Lost lately"}
    assert "Closed in the last 30 days" in column_html(html, lost.pk)
    assert 'data-count="1"' in head_html(html, lost.pk)


def test_cards_show_the_client_amount_and_what_is_overdue(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    today = timezone.localdate()
    late = add_deal(manager, acme, pipeline, "Late one", amount=Decimal(5000), next_step_at=today - timedelta(days=1))
    DealCheckpoint.objects.filter(deal=late, type__name="Presentation").update(due_date=today - timedelta(days=2))
    add_deal(manager, acme, pipeline, "On time", next_step_at=today)
    html = as_manager.get(board_url(pipeline)).content.decode()
    card = html[html.index(f'id="deal-{late.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Acme Trading" in card
    assert "5,000 USD" in card
    assert 'data-flag="next-step"' in card
    assert 'data-flag="checkpoint"' in card
    on_time = html[html.index("On time") :]
    assert "data-flag" not in on_time[: on_time.index("</article>")]
    # A manager's board does not repeat their own name on every card.
    assert "board-card-owner" not in html


def test_filters_by_owner_source_and_close_month(
    personas: dict[str, User], acme: Company, teammates_client: Company, pipeline: Pipeline
) -> None:
    fair = LeadSource.objects.create(name="Trade fair")
    month = timezone.localdate().replace(day=15)
    add_deal(personas["manager"], acme, pipeline, "Mine", lead_source=fair, expected_close=month)
    add_deal(personas["teammate"], teammates_client, pipeline, "Teammate's")
    as_head = client_for(personas["head"])

    def seen(query: str) -> set[str]:
        response = as_head.get(board_url(pipeline, query))
        assert response.status_code == 200
        return card_titles(response.content.decode())

    assert seen(f"owner={personas['teammate'].pk}") == {"Teammate's"}
    assert seen(f"source={fair.pk}") == {"Mine"}
    assert seen(f"close_month={month:%Y-%m}") == {"Mine"}
    assert seen("close_month=2001-01") == set()
    # A filter that makes no sense is reported beside its field; the others still apply.
    response = as_head.get(board_url(pipeline, f"close_month=soon&source={fair.pk}"))
    assert "Give the month as year and month" in response.content.decode()
    assert card_titles(response.content.decode()) == {"Mine"}
    # The filters stay on the "more" links and the pipeline tabs.
    assert response.context["query"] == f"source={fair.pk}"


def test_a_head_cannot_filter_on_someone_outside_the_team(
    personas: dict[str, User], far_client: Company, pipeline: Pipeline
) -> None:
    add_deal(personas["outsider"], far_client, pipeline, "Far away")
    response = client_for(personas["head"]).get(board_url(pipeline, f"owner={personas['outsider'].pk}"))
    assert card_titles(response.content.decode()) == set()
    assert "Select a valid choice" in response.content.decode()


def test_several_pipelines_get_tabs(as_manager: Client, pipeline: Pipeline) -> None:
    other = sales_pipeline("Distribution")
    html = as_manager.get(board_url(pipeline)).content.decode()
    assert 'id="pipeline-tabs"' in html
    assert board_url(other) in html


def test_the_default_board_is_the_first_pipeline(as_manager: Client, pipeline: Pipeline) -> None:
    sales_pipeline("Distribution")
    response = as_manager.get(reverse("sales:board-default"))
    assert response.status_code == 302
    assert response["Location"] == board_url(pipeline)


def test_without_a_pipeline_the_board_says_so(personas: dict[str, User]) -> None:
    response = client_for(personas["manager"]).get(reverse("sales:board-default"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no pipeline yet" in html
    assert 'id="set-up-pipeline"' not in html  # only administrators set pipelines up
    html = client_for(personas["admin"]).get(reverse("sales:board-default")).content.decode()
    assert f'href="{reverse("sales:pipeline-list")}"' in html


def test_an_unknown_pipeline_is_not_found(as_manager: Client, pipeline: Pipeline) -> None:
    assert as_manager.get(reverse("sales:board", args=[pipeline.pk + 100])).status_code == 404


def test_the_board_needs_signing_in(pipeline: Pipeline) -> None:
    for url in (board_url(pipeline), reverse("sales:board-closed", args=[pipeline.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_closed_columns_show_only_what_the_user_sees(
    personas: dict[str, User], acme: Company, far_client: Company, pipeline: Pipeline
) -> None:
    lost = stage(pipeline, "Lost")
    for persona, client in (("manager", acme), ("outsider", far_client)):
        closed = add_deal(personas[persona], client, pipeline, f"Lost by {persona}")
        services.deal_move_to_stage(by=personas[persona], deal=closed, stage=lost, lost_reason=lost_reason())
    url = reverse("sales:board-closed", args=[pipeline.pk])
    assert card_titles(client_for(personas["head"]).get(url).content.decode()) == {"Lost by manager"}
    assert card_titles(client_for(personas["outsider"]).get(url).content.decode()) == {"Lost by outsider"}
    assert (
        client_for(personas["manager"]).get(reverse("sales:board-closed", args=[pipeline.pk + 100])).status_code == 404
    )


# ---- Moving a deal -----------------------------------------------------------------------------


def test_a_dropped_card_moves_the_deal_and_both_columns_come_back_redrawn(
    manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline
) -> None:
    services.deal_update(by=manager, deal=deal, version=deal.version, amount=Decimal(400))
    deal.refresh_from_db()
    qualification, presentation = stage(pipeline, "Qualification"), stage(pipeline, "Presentation")

    response = as_manager.post(move_url(deal), {"stage": presentation.pk, "version": deal.version})

    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == presentation
    assert deal.stage_changes.count() == 2
    html = response.content.decode()
    # Both headers, both "more" slots and the card, each to replace the element with its id.
    assert re.findall(r'id="(stage-\d+-head|stage-\d+-more|deal-\d+)"', html) == [
        f"stage-{qualification.pk}-head",
        f"stage-{qualification.pk}-more",
        f"stage-{presentation.pk}-head",
        f"stage-{presentation.pk}-more",
        f"deal-{deal.pk}",
    ]
    assert 'data-count="0"' in head_html(html, qualification.pk)
    moved = head_html(html, presentation.pk)
    assert 'data-count="1"' in moved
    assert "400 USD" in moved
    assert "≈ 120 USD" in moved
    assert f'data-version="{deal.version}"' in html
    assert card_titles(html) == {"Chairs for the office"}


def test_the_more_links_after_a_move_count_what_the_page_shows(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    deals = [add_deal(manager, acme, pipeline, f"Deal {number}") for number in range(3)]
    presentation = stage(pipeline, "Presentation")
    # The page showed two of the three; one of them moved away, one card is left on it.
    response = as_manager.post(
        move_url(deals[2]), {"stage": presentation.pk, "version": deals[2].version, "cards_from": 1, "cards_to": 1}
    )
    more = response.content.decode()
    more = more[more.index(f'id="stage-{stage(pipeline, "Qualification").pk}-more"') :]
    assert ">1 more</a>" in more[: more.index("</div>")]


def test_redrawing_after_a_move_leaves_out_a_card_moved_on_again_meanwhile(
    manager: User, deal: Deal, pipeline: Pipeline
) -> None:
    # Two drops of the same card can cross: by the time the first redraws its two columns,
    # the second has taken the deal to a third one. The first answers without the card.
    qualification, presentation = stage(pipeline, "Qualification"), stage(pipeline, "Presentation")
    services.deal_move_to_stage(by=manager, deal=deal, stage=presentation)
    services.deal_move_to_stage(by=manager, deal=deal, stage=qualification)
    board = board_queries.board_for(
        manager,
        pipeline,
        board_queries.BoardFilters(),
        only_stages={presentation.pk, stage(pipeline, "Proposal").pk},
        only_deal=deal.pk,
    )
    assert [column.cards for column in board.columns] == [[], []]


def test_a_gate_refusal_is_explained_and_nothing_changes(as_manager: Client, deal: Deal, pipeline: Pipeline) -> None:
    response = as_manager.post(move_url(deal), {"stage": stage(pipeline, "Proposal").pk, "version": deal.version})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == (
        "To move to “Proposal” the deal needs: amount, the “Commercial proposal” checkpoint done."
    )
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.stage.name, fresh.version) == ("Qualification", deal.version)
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_a_move_from_an_old_copy_of_the_deal_is_refused(
    manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline
) -> None:
    old_version = deal.version
    services.deal_update(by=manager, deal=deal, version=old_version, title="Chairs, 20 of them")
    response = as_manager.post(move_url(deal), {"stage": stage(pipeline, "Presentation").pk, "version": old_version})
    assert response.status_code == 422
    assert "reload to see their changes" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualification"


def test_losing_a_deal_asks_why(manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline) -> None:
    lost = stage(pipeline, "Lost")
    response = as_manager.post(move_url(deal), {"stage": lost.pk, "version": deal.version})
    assert response.status_code == 422
    assert response.content.decode() == "Choose why the deal was lost."
    assert Deal.objects.get(pk=deal.pk).closed_at is None

    reason = lost_reason("Chose a competitor")
    response = as_manager.post(
        move_url(deal), {"stage": lost.pk, "version": deal.version, "lost_reason": reason.pk, "lost_note": "Cheaper"}
    )
    assert response.status_code == 200
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.stage.kind, fresh.lost_reason, fresh.lost_note) == (StageKind.LOST, reason, "Cheaper")
    assert fresh.closed_at is not None
    assert 'data-count="1"' in head_html(response.content.decode(), lost.pk)
    assert card_titles(response.content.decode()) == {"Chairs for the office"}


def test_a_stage_of_another_pipeline_is_refused(as_manager: Client, deal: Deal) -> None:
    other = sales_pipeline("Distribution")
    response = as_manager.post(move_url(deal), {"stage": stage(other, "Presentation").pk, "version": deal.version})
    assert response.status_code == 422
    assert "is a stage of another pipeline" in response.content.decode()


def test_a_stage_that_does_not_exist_is_refused(as_manager: Client, deal: Deal) -> None:
    response = as_manager.post(move_url(deal), {"stage": 999999, "version": deal.version})
    assert response.status_code == 422
    assert "reload the board" in response.content.decode()
    assert as_manager.post(move_url(deal), {"version": deal.version}).status_code == 422


def test_the_move_keeps_the_boards_filters_in_its_totals(
    personas: dict[str, User], acme: Company, teammates_client: Company, pipeline: Pipeline
) -> None:
    mine = add_deal(personas["manager"], acme, pipeline, "Mine", amount=Decimal(100))
    add_deal(personas["teammate"], teammates_client, pipeline, "Teammate's", amount=Decimal(900))
    presentation = stage(pipeline, "Presentation")
    url = f"{move_url(mine)}?owner={personas['manager'].pk}"
    response = client_for(personas["head"]).post(url, {"stage": presentation.pk, "version": mine.version})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="0"' in head_html(html, stage(pipeline, "Qualification").pk)


@pytest.mark.parametrize("persona", ["teammate", "outsider", "agent"])
def test_a_deal_out_of_sight_is_not_found(
    persona: str, personas: dict[str, User], deal: Deal, pipeline: Pipeline
) -> None:
    response = client_for(personas[persona]).post(
        move_url(deal), {"stage": stage(pipeline, "Presentation").pk, "version": deal.version}
    )
    assert response.status_code == 404
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualification"


@pytest.mark.parametrize("persona", ["operator", "registrant"])
def test_someone_who_only_reads_the_deal_may_not_move_it(
    persona: str, personas: dict[str, User], manager: User, head: User, deal: Deal, pipeline: Pipeline
) -> None:
    if persona == "registrant":
        # The manager registered it; their head gave it to a teammate: the manager still sees it, read-only.
        services.deal_update(by=head, deal=deal, version=deal.version, owner=personas["teammate"])
        deal.refresh_from_db()
    user = manager if persona == "registrant" else personas[persona]
    response = client_for(user).post(
        move_url(deal), {"stage": stage(pipeline, "Presentation").pk, "version": deal.version}
    )
    assert response.status_code == 403
    assert response.content.decode() == "You can see this deal but not change it."
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualification"


def test_moving_takes_a_post(as_manager: Client, deal: Deal) -> None:
    assert as_manager.get(move_url(deal)).status_code == 405
    assert Client().post(move_url(deal), {"stage": deal.stage_id}).status_code == 302


# ---- The benchmark of a move -------------------------------------------------------------------


def test_the_stage_move_benchmark_moves_the_deal_back_and_forth(
    manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline
) -> None:
    from rapport.core import bench
    from rapport.core.management.commands.bench import bench_call

    operation = next(operation for operation in bench.operations() if operation.key == "stage move")
    call = bench_call(operation, bench.BenchContext(database="default"))
    assert (call.method, call.path) == ("POST", move_url(deal))
    assert call.fields is not None
    for number, expected in enumerate(["Presentation", "Qualification", "Presentation"]):
        assert as_manager.post(call.path, call.fields(number)).status_code == 200
        assert Deal.objects.get(pk=deal.pk).stage.name == expected
