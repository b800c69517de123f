"""The permission matrix: every role × every view, endpoint and export, proving nothing leaks.

One world of five companies (one per kind of ownership) and nine people (every role, two
teams). Each client-bound route is called by each persona on each company and must
answer what the access policy says: 404 where the client is out of sight, 403 where it is
seen but the action is not the persona's, success otherwise. Each list, search, picker and
export is read by each persona and must show exactly the companies that persona sees.
`test_every_route_is_in_the_matrix` fails when a route is added without a row here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services
from rapport.clients.models import Company, ContactPoint
from rapport.clients.services import PointInput
from rapport.core.notifications import notify

PERSONAS = ["manager", "teammate", "head", "outsider", "operator", "agent", "admin", "analyst", "marketer"]
EVERYONE = set(PERSONAS)
COMPANIES = ["mine", "team", "far", "pool", "agents"]
NAMES = {key: f"Matrix {key.title()} Ltd" for key in COMPANIES}

# Who sees which company (the access policy's scopes with the default settings).
VISIBLE: dict[str, set[str]] = {
    "manager": {"mine", "pool"},
    "teammate": {"team", "pool"},
    "head": {"mine", "team", "agents", "pool"},
    "outsider": {"far", "pool"},
    "agent": {"agents"},
    "operator": set(COMPANIES),
    "admin": set(COMPANIES),
    "analyst": set(COMPANIES),
    "marketer": set(COMPANIES),
}
# Who may edit which (owners, their head, operators, admins; pool clients are taken first).
EDITABLE: dict[str, set[str]] = {
    "manager": {"mine"},
    "teammate": {"team"},
    "head": {"mine", "team", "agents"},
    "outsider": {"far"},
    "agent": {"agents"},
    "operator": set(COMPANIES),
    "admin": set(COMPANIES),
    "analyst": set(),
    "marketer": set(),
}
MANAGING_ROLES = {"manager", "teammate", "head", "outsider"}  # who takes clients from the pool
MERGERS = {"operator", "admin"}
ADMINS = {"admin"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(personas: dict[str, User], team_a: object) -> dict[str, User]:
    return personas | {
        "analyst": UserFactory.create(username="analyst", role=Role.ANALYST),
        "marketer": UserFactory.create(username="marketer", role=Role.MARKETER),
    }


@pytest.fixture
def world(people: dict[str, User]) -> dict[str, Company]:
    creators = {"mine": "manager", "team": "teammate", "far": "outsider", "pool": "operator", "agents": "agent"}
    world = {}
    for number, (key, creator) in enumerate(creators.items()):
        world[key] = services.company_create(
            by=people[creator], name=NAMES[key], points=[PointInput("phone", f"+1 201-555-01{number:02d}")]
        )
    return world


def shown(page: str) -> set[str]:
    return {key for key, name in NAMES.items() if name in page}


# ---- Routes bound to one client -------------------------------------------------------------


def expect_seen(persona: str, key: str) -> int:
    return 200 if key in VISIBLE[persona] else 404


def expect_edit(persona: str, key: str, *, done: int = 200) -> int:
    if key not in VISIBLE[persona]:
        return 404
    return done if key in EDITABLE[persona] else 403


def expect_delete(persona: str, key: str) -> int:
    if key not in VISIBLE[persona]:
        return 404
    return 200 if key in EDITABLE[persona] and persona != "agent" else 403


def expect_transfer(persona: str, key: str) -> int:
    if key not in VISIBLE[persona]:
        return 404
    return 302 if persona == "admin" or (persona == "head" and key in EDITABLE[persona]) else 403


def expect_take(persona: str, key: str) -> int:
    if key not in VISIBLE[persona]:
        return 404
    return 302 if persona in MANAGING_ROLES else 403


def expect_merge(persona: str, key: str) -> int:
    # The right is checked before the record is looked up: a 403 names no record.
    return 200 if persona in MERGERS else 403


def expect_restore_of_a_live_client(persona: str, key: str) -> int:
    return 404 if persona in ADMINS else 403


@dataclass(frozen=True)
class ClientRoute:
    name: str  # the URL name(s) it covers
    method: str
    path: str  # {kind}, {id} and {point} are filled in
    expect: Callable[[str, str], int]
    data: dict[str, str] = field(default_factory=dict)
    htmx: bool = False


CLIENT_ROUTES = [
    ClientRoute("clients:company-detail", "get", "/clients/companies/{id}/", expect_seen),
    ClientRoute("clients:client-details", "get", "/clients/company/{id}/details/", expect_seen, htmx=True),
    ClientRoute("clients:client-transfers", "get", "/clients/company/{id}/transfers/", expect_seen, htmx=True),
    ClientRoute("clients:client-changes", "get", "/clients/company/{id}/changes/", expect_seen, htmx=True),
    ClientRoute("clients:client-edit", "get", "/clients/company/{id}/edit/", expect_edit, htmx=True),
    ClientRoute("clients:client-tags", "post", "/clients/company/{id}/tags/", expect_edit, {"tags": "x"}, htmx=True),
    ClientRoute(
        "clients:point-add",
        "post",
        "/clients/company/{id}/points/",
        expect_edit,
        {"kind": "email", "value": "new@matrix.test"},
        htmx=True,
    ),
    ClientRoute("clients:point-edit", "get", "/clients/points/{point}/edit/", expect_edit, htmx=True),
    ClientRoute(
        "clients:point-update",
        "post",
        "/clients/points/{point}/",
        expect_edit,
        {"value": "+1 201-555-0199", "is_primary": "on"},
        htmx=True,
    ),
    ClientRoute("clients:point-remove", "post", "/clients/points/{point}/remove/", expect_edit, htmx=True),
    ClientRoute("clients:client-delete", "post", "/clients/company/{id}/delete/", expect_delete, htmx=True),
    ClientRoute("clients:client-transfer", "post", "/clients/company/{id}/transfer/", expect_transfer, {"reason": "x"}),
    ClientRoute("clients:client-take", "post", "/clients/company/{id}/take/", expect_take),
    ClientRoute("clients:client-merge", "get", "/clients/company/{id}/merge/", expect_merge),
    ClientRoute("clients:client-restore", "post", "/clients/company/{id}/restore/", expect_restore_of_a_live_client),
    ClientRoute("api:company_detail", "get", "/api/v1/companies/{id}", expect_seen),
    ClientRoute(
        "api:company_tags_set",
        "put",
        "/api/v1/companies/{id}/tags",
        expect_edit,
        {"tags": ["x"]},  # type: ignore[dict-item]
    ),
    ClientRoute(
        "api:company_point_add",
        "post",
        "/api/v1/companies/{id}/points",
        lambda persona, key: expect_edit(persona, key, done=201),
        {"kind": "email", "value": "new@matrix.test"},
    ),
    ClientRoute(
        "api:company_point_remove",
        "delete",
        "/api/v1/companies/{id}/points/{point}",
        lambda p, k: expect_edit(p, k, done=204),
    ),
    ClientRoute(
        "api:company_delete",
        "delete",
        "/api/v1/companies/{id}",
        lambda persona, key: 204 if expect_delete(persona, key) == 200 else expect_delete(persona, key),
    ),
    ClientRoute(
        "api:company_transfer",
        "post",
        "/api/v1/companies/{id}/transfer",
        lambda persona, key: 200 if expect_transfer(persona, key) == 302 else expect_transfer(persona, key),
        {"to_user": None, "reason": "x"},  # type: ignore[dict-item]
    ),
    ClientRoute(
        "api:company_take",
        "post",
        "/api/v1/companies/{id}/take",
        lambda persona, key: {302: 422 if key != "pool" else 200}.get(
            expect_take(persona, key), expect_take(persona, key)
        ),
    ),
]


def call(client: Client, route: ClientRoute, company: Company) -> int:
    point = ContactPoint.objects.filter(company=company).first()
    path = route.path.format(id=company.pk, point=point.pk if point else 0)
    headers = HTMX if route.htmx else {}
    if route.name.startswith("api:"):
        return getattr(client, route.method)(path, route.data, content_type="application/json").status_code  # type: ignore[no-any-return]
    return getattr(client, route.method)(path, route.data, headers=headers).status_code  # type: ignore[no-any-return]


def undone[T](action: Callable[[], T]) -> T:
    """Run a request and roll back what it changed, so the next persona meets the same world."""
    with transaction.atomic():
        result = action()
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("route", CLIENT_ROUTES, ids=lambda route: route.name)
def test_client_route(route: ClientRoute, people: dict[str, User], world: dict[str, Company]) -> None:
    answers, expected = {}, {}
    for persona in PERSONAS:
        client = client_for(people[persona])
        for key in COMPANIES:
            answers[persona, key] = undone(lambda: call(client, route, world[key]))  # noqa: B023
            expected[persona, key] = route.expect(persona, key)
    assert {cell: answer for cell, answer in answers.items() if answer != expected[cell]} == {}


def test_the_same_routes_for_contacts_answer_404_out_of_sight(people: dict[str, User]) -> None:
    contact = services.contact_create(by=people["teammate"], last_name="Hidden")
    client = client_for(people["manager"])
    for path in ["/clients/contacts/{id}/", "/clients/contact/{id}/edit/", "/api/v1/contacts/{id}"]:
        assert client.get(path.format(id=contact.pk)).status_code == 404
    assert client.post(f"/clients/contact/{contact.pk}/delete/").status_code == 404
    assert client_for(people["teammate"]).get(f"/clients/contacts/{contact.pk}/").status_code == 200


# ---- Lists, search, pickers and exports: exactly what the persona sees -----------------------


def xlsx_text(content: bytes) -> str:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)  # type: ignore[union-attr]


def csv_text(content: bytes) -> str:
    return "\n".join(",".join(row) for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def streamed(response: object) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined, no-any-return]


READERS: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "clients:company-list": ("/clients/companies/", bytes.decode),
    "core:search": ("/search/?q=matrix", bytes.decode),
    "clients:autocomplete": ("/clients/company/autocomplete/?q=matrix", bytes.decode),
    "clients:company-export csv": ("/clients/companies/export.csv", csv_text),
    "clients:company-export xlsx": ("/clients/companies/export.xlsx", xlsx_text),
    "clients:company-export vcf": ("/clients/companies/export.vcf", bytes.decode),
    "api:company_list": ("/api/v1/companies", bytes.decode),
}


@pytest.mark.parametrize("reader", READERS, ids=str)
def test_reads_show_exactly_the_visible_clients(
    reader: str, people: dict[str, User], world: dict[str, Company]
) -> None:
    path, as_text = READERS[reader]
    seen = {}
    for persona in PERSONAS:
        response = client_for(people[persona]).get(path)
        assert response.status_code == 200, persona
        seen[persona] = shown(as_text(streamed(response)))
    assert seen == VISIBLE


def test_deleted_clients_leave_every_read(people: dict[str, User], world: dict[str, Company]) -> None:
    services.client_delete(by=people["admin"], client=world["pool"])
    for persona in ["operator", "admin", "manager"]:
        client = client_for(people[persona])
        for path, as_text in READERS.values():
            assert "pool" not in shown(as_text(streamed(client.get(path)))), (persona, path)


# ---- Routes not bound to one client ---------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    allowed: set[str]  # personas that get `ok`; the others get `refused`
    ok: int = 200
    refused: int = 403
    data: dict[str, str] = field(default_factory=dict)


CREATORS = EVERYONE - {"analyst", "marketer"}
ROUTES = [
    Route("core:home", "get", "/", EVERYONE),
    Route("core:notification-list", "get", "/notifications/", EVERYONE),
    Route("core:notification-bell", "get", "/notifications/bell/", EVERYONE),
    Route("core:notifications-read-all", "post", "/notifications/read-all/", EVERYONE, ok=302),
    Route("core:system-status", "get", "/system/", ADMINS),
    Route("accounts:profile", "get", "/accounts/profile/", EVERYONE),
    Route("accounts:password-change", "get", "/accounts/password/", EVERYONE),
    Route("accounts:user-list", "get", "/accounts/users/", ADMINS),
    Route("accounts:user-create", "get", "/accounts/users/new/", ADMINS),
    Route("accounts:team-list", "get", "/accounts/teams/", ADMINS),
    Route("accounts:team-create", "get", "/accounts/teams/new/", ADMINS),
    Route("clients:contact-list", "get", "/clients/contacts/", EVERYONE),
    Route("clients:company-create", "get", "/clients/companies/new/", CREATORS),
    Route("clients:contact-create", "get", "/clients/contacts/new/", CREATORS),
    Route("clients:duplicates", "get", "/clients/duplicates/?name=matrix", EVERYONE),
    Route("clients:trash", "get", "/clients/trash/", ADMINS),
    Route("clients:contact-export", "get", "/clients/contacts/export.csv", EVERYONE),
    Route("api:contact_list", "get", "/api/v1/contacts", EVERYONE),
    Route("api:trash", "get", "/api/v1/trash", ADMINS),
    Route("api:openapi-json", "get", "/api/openapi.json", EVERYONE),
    Route("api:openapi-view", "get", "/api/docs", EVERYONE),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_route(route: Route, people: dict[str, User]) -> None:
    answers = {
        persona: undone(lambda: getattr(client_for(people[persona]), route.method)(route.path, route.data).status_code)  # noqa: B023
        for persona in PERSONAS
    }
    assert answers == {persona: route.ok if persona in route.allowed else route.refused for persona in PERSONAS}


def test_people_and_teams_are_edited_by_admins_only(people: dict[str, User], team_a: object) -> None:
    for persona in PERSONAS:
        client = client_for(people[persona])
        expected = 200 if persona in ADMINS else 403
        assert client.get(f"/accounts/users/{people['manager'].pk}/").status_code == expected, persona
        assert client.get(f"/accounts/teams/{team_a.pk}/").status_code == expected, persona  # type: ignore[attr-defined]


def test_a_notification_opens_for_its_recipient_only(people: dict[str, User]) -> None:
    [notification] = notify(recipients=[people["manager"]], title="Yours", url="/")
    for persona in PERSONAS:
        response = client_for(people[persona]).post(f"/notifications/{notification.pk}/open/")
        assert response.status_code == (302 if persona == "manager" else 404), persona


# ---- Nothing is left out --------------------------------------------------------------------

# Routes outside the matrix, and why.
EXEMPT = {
    "core:healthz": "public health check, says nothing about data",
    "core:ping": "public, does nothing",
    "api:api-root": "public index of the API",
    "accounts:login": "public",
    "accounts:logout": "ends one's own session",
    "accounts:set-language": "changes one's own language",
    "accounts:password-reset": "public, tested in test_password_reset",
    "accounts:password-reset-done": "public",
    "accounts:password-reset-confirm": "public with a signed token",
    "accounts:password-reset-complete": "public",
    "telephony:call-events": "a PBX's POST, signed by the integration's secret; a session counts for nothing there "
    "(rapport/telephony/tests/test_webhook.py)",
}
COVERED_ELSEWHERE = {
    # Per-user resources with their own persona tests; the matrix checks the shared part above.
    "clients:company-bulk": "rapport/clients/tests/test_bulk_actions.py",
    "clients:contact-bulk": "rapport/clients/tests/test_bulk_actions.py",
    "clients:company-view-save": "rapport/clients/tests/test_list_columns_and_views.py",
    "clients:contact-view-save": "rapport/clients/tests/test_list_columns_and_views.py",
    "clients:saved-view-delete": "rapport/clients/tests/test_list_columns_and_views.py",
    "clients:company-view-menu": "rapport/clients/tests/test_list_columns_and_views.py",
    "clients:contact-view-menu": "rapport/clients/tests/test_list_columns_and_views.py",
    "tokens:token-list": "rapport/api/tests/test_token_views.py",
    "tokens:token-create": "rapport/api/tests/test_token_views.py",
    "tokens:token-revoke": "rapport/api/tests/test_token_views.py",
    "api:company_list": "READERS",
    "api:company_create": "rapport/api/tests",
    "api:company_update": "rapport/api/tests",
    "api:company_restore": "rapport/api/tests",
    "api:contact_create": "rapport/api/tests",
    "api:contact_detail": "test_the_same_routes_for_contacts_answer_404_out_of_sight",
    "api:contact_update": "rapport/api/tests",
    "api:contact_delete": "rapport/api/tests",
    "api:contact_point_add": "rapport/api/tests",
    "api:contact_point_remove": "rapport/api/tests",
    "api:contact_transfer": "rapport/api/tests",
    "api:contact_take": "rapport/api/tests",
    "api:contact_tags_set": "rapport/api/tests",
    "api:contact_restore": "rapport/api/tests",
    "clients:contact-detail": "test_the_same_routes_for_contacts_answer_404_out_of_sight",
    "accounts:user-edit": "test_people_and_teams_are_edited_by_admins_only",
    "accounts:team-edit": "test_people_and_teams_are_edited_by_admins_only",
    "core:notification-open": "test_a_notification_opens_for_its_recipient_only",
}


def route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # Django's own admin: staff only, guarded by Django
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_is_in_the_matrix() -> None:
    from tests.test_permission_matrix_activities import covered_route_names as activity_routes
    from tests.test_permission_matrix_deals import covered_route_names
    from tests.test_permission_matrix_motivation import covered_route_names as motivation_routes
    from tests.test_permission_matrix_supervision import covered_route_names as supervision_routes
    from tests.test_permission_matrix_telephony import covered_route_names as telephony_routes

    covered = (
        covered_route_names()
        | activity_routes()
        | motivation_routes()
        | supervision_routes()
        | telephony_routes()
        | {route.name for route in CLIENT_ROUTES}
        | {route.name for route in ROUTES}
        | {reader.split()[0] for reader in READERS}
        | set(EXEMPT)
        | set(COVERED_ELSEWHERE)
    )
    assert route_names() - covered == set()
