"""Activities over HTTP (/api/v1/): calls, meetings, tasks, notes and e-mails, the quick log, the picklists.

The same rules as the screens: reads go through ``accounts.access`` (an activity out of
sight answers 404), writes through ``activities.services``, so a meeting marked done without
the minimum data is refused here exactly as in the form. The API turns their ValidationError
into 422 keyed by field (409 for a stale version) and PermissionDenied into 403; the
endpoints here add the reason a caller reads in the 403 (see ``rapport.api.api``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, overload

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import (
    REQUIREMENTS,
    Activity,
    ActivityKind,
    ActivityStatus,
    Direction,
    MinimumDataRule,
    Outcome,
)
from rapport.api.schemas import READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, Invalid, Message
from rapport.clients.api import Input, RowId, refused_because
from rapport.clients.models import Company, Contact
from rapport.core.http import RapportRequest
from rapport.sales.api import invalid_choice

router = Router()

# Minutes, as the database holds them; below zero the services answer with their own words.
Minutes = Annotated[int, Field(le=2**31 - 1, description="Minutes.")]
REQUIREMENT_KEYS = ", ".join(REQUIREMENTS)

# ---- Schemas ----------------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    kind: ActivityKind
    direction: str = Field(description="`in`, `out`, or empty when not said.")
    subject: str
    result: str
    # Related records are given by id, under the same names the inputs and filters use.
    outcome: int | None = Field(validation_alias="outcome_id")
    status: ActivityStatus
    due_at: datetime | None
    done_at: datetime | None
    duration: int | None = Field(description="Minutes.")
    at: datetime = Field(description="When it happened or is to happen: done, else due, else created.")
    owner: int | None = Field(validation_alias="owner_id")
    created_by: int | None = Field(validation_alias="created_by_id")
    company: int | None = Field(validation_alias="company_id")
    contact: int | None = Field(validation_alias="contact_id")
    deal: int | None = Field(validation_alias="deal_id")
    follow_up_of: int | None = Field(validation_alias="follow_up_of_id", description="The activity this follows up.")
    created_at: datetime
    updated_at: datetime
    version: int


class ActivityPage(Schema):
    items: list[ActivityOut]
    has_more: bool


class ActivityFilters(Schema):
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    kind: ActivityKind | None = None
    status: ActivityStatus | None = None
    owner: RowId | None = None
    company: RowId | None = None
    contact: RowId | None = None
    deal: RowId | None = None
    # "from" is a Python keyword: the attribute has another name, the parameter not.
    since: datetime | None = Field(None, alias="from", description="Activities at or after this moment (or date).")
    until: datetime | None = Field(None, alias="to", description="Activities before this moment (or date).")


class ActivityFields(Input):
    """Fields an activity's editors set. The defaults never reach the services: only the fields sent do."""

    kind: ActivityKind = ActivityKind.CALL
    direction: Direction | None = Field(None, description="`in` or `out`; null when not said.")
    subject: str = Field("", max_length=200)
    result: str = Field("", max_length=10_000)
    outcome: RowId | None = Field(None, description="An outcome of the activity's kind (`/activity-outcomes`).")
    due_at: datetime | None = None
    done_at: datetime | None = None
    duration: Minutes | None = None
    owner: RowId = Field(0, description="Default: the caller; heads plan for their team, admins for anyone.")
    company: RowId | None = None
    contact: RowId | None = None
    deal: RowId | None = None


class ActivityIn(ActivityFields):
    kind: ActivityKind
    status: ActivityStatus = ActivityStatus.PLANNED
    follow_up_of: RowId | None = Field(None, description="The activity this one follows up.")


class ActivityPatch(ActivityFields):
    version: int


class CompleteIn(Input):
    version: int | None = Field(None, description="If given, refused (409) when the activity changed since.")
    outcome: RowId | None = None
    subject: str = Field("", max_length=200)
    result: str = Field("", max_length=10_000)
    done_at: datetime | None = Field(None, description="Default: now.")
    duration: Minutes | None = None


class RescheduleIn(Input):
    due_at: datetime
    version: int | None = Field(None, description="If given, refused (409) when the activity changed since.")


class QuickLogIn(Input):
    company_id: RowId | None = Field(None, description="The company called; or give `contact_id`.")
    contact_id: RowId | None = Field(None, description="The person called; or give `company_id`.")
    outcome_id: RowId = Field(description="A call outcome (`/activity-outcomes?kind=call`).")
    follow_up_at: datetime | None = Field(None, description="When to call back: required by outcomes that ask.")
    deal_id: RowId | None = None
    direction: Direction = Direction.OUT
    result: str = Field("", max_length=10_000)
    duration: Minutes | None = None


class QuickLogOut(Schema):
    call: ActivityOut
    follow_up: ActivityOut | None = Field(description="The callback planned, when the outcome asks for one.")


class OutcomeOut(Schema):
    id: int
    kind: ActivityKind
    name: str
    position: int
    asks_follow_up: bool = Field(description="Choosing it asks when to follow up.")
    is_active: bool = Field(description="False: retired, kept for the activities that have it.")


class OutcomeFilters(Schema):
    kind: ActivityKind | None = None
    include_inactive: bool = False


class OutcomeIn(Input):
    kind: ActivityKind
    name: str = Field(max_length=80)
    asks_follow_up: bool = False
    is_active: bool = True
    position: Annotated[int, Field(ge=0, le=32_767)] | None = Field(None, description="Default: last of its kind.")


class OutcomePatch(Input):
    kind: ActivityKind | None = None
    name: str | None = Field(None, max_length=80)
    asks_follow_up: bool | None = None
    is_active: bool | None = None
    position: Annotated[int, Field(ge=0, le=32_767)] | None = None


class RuleOut(Schema):
    kind: ActivityKind
    status: ActivityStatus
    required: list[str] = Field(description=f"What such an activity must carry, among: {REQUIREMENT_KEYS}.")


class RuleIn(Input):
    required: list[Annotated[str, Field(max_length=40)]] = Field(
        max_length=len(REQUIREMENTS), description=f"Among: {REQUIREMENT_KEYS}. An empty list removes the rule."
    )


# ---- Helpers ----------------------------------------------------------------------------------


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    """A moment without a time zone is in the caller's."""
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _one[M: Model](rows: QuerySet[M], pk: int, field: str, message: str | None = None) -> M:
    found = rows.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: message or invalid_choice()})
    return found


def _related(by: User, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the ids in a payload into the records the services take; null stays null (it clears the field).

    Clients, deals and activities out of sight answer like missing ones, so ids reveal nothing.
    """
    lookups: dict[str, tuple[QuerySet[Any], str | None]] = {
        "company": (access.companies_visible_to(by), _("Choose a company you can see.")),
        "contact": (access.contacts_visible_to(by), _("Choose a person you can see.")),
        "deal": (access.deals_visible_to(by), _("Choose a deal you can see.")),
        "owner": (access.people_visible_to(by), None),
        "outcome": (Outcome.objects.all(), None),
        "follow_up_of": (access.activities_visible_to(by), _("Choose an activity you can see.")),
    }
    for field, (rows, message) in lookups.items():
        if data.get(field) is not None:
            data[field] = _one(rows, data[field], field, message)
    if "direction" in data:
        data["direction"] = data["direction"] or ""
    for field in ("due_at", "done_at"):
        if field in data:
            data[field] = _aware(data[field])
    return data


def _may_not_log() -> str:
    return _("Only managers, heads of sales, agents, operators and admins log activities.")


def _may_not_change() -> str:
    return _("You may not change this activity: its owner, the owner's head and admins may.")


def _may_not_configure() -> str:
    return _("Only admins change the outcome picklists and the minimum-data rules.")


def _editable(by: User, activity_id: int) -> Activity:
    """The activity, refused early: a caller without the right learns that before any complaint about the input."""
    activity = access.activity_for_user(by, activity_id)
    if not access.can_edit_activity(by, activity):
        raise PermissionDenied(_may_not_change())
    return activity


def _configurer(by: User) -> None:
    if not access.can_configure_activities(by):
        raise PermissionDenied(_may_not_configure())


@contextmanager
def _fields_renamed(names: dict[str, str]) -> Iterator[None]:
    """Key a service's refusal by the names the request used (``outcome`` → ``outcome_id``)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): messages for field, messages in error.message_dict.items()}
        ) from error


# ---- Activities -------------------------------------------------------------------------------


@router.get("/activities", response={200: ActivityPage, 401: Message, 422: Invalid}, tags=["activities"])
def activity_list(request: RapportRequest, filters: Query[ActivityFilters]) -> dict[str, Any]:
    """A page of the activities the caller sees, the latest first: one query whatever the page size.

    ``has_more`` replaces a total: an exact COUNT(*) over many activities costs more than the page.
    """
    rows = access.activities_visible_to(request.user)
    for field in ["kind", "status"]:
        if getattr(filters, field) is not None:
            rows = rows.filter(**{field: getattr(filters, field)})
    for field in ["owner", "company", "contact", "deal"]:
        if getattr(filters, field) is not None:
            rows = rows.filter(**{f"{field}_id": getattr(filters, field)})
    if filters.since is not None:
        rows = rows.filter(at__gte=_aware(filters.since))
    if filters.until is not None:
        rows = rows.filter(at__lt=_aware(filters.until))
    found = list(rows.order_by("-at", "-id")[filters.offset : filters.offset + filters.limit + 1])
    return {"items": found[: filters.limit], "has_more": len(found) > filters.limit}


@router.post("/activities", response={201: ActivityOut, **WRITE_ERRORS}, tags=["activities"])
def activity_create(request: RapportRequest, payload: ActivityIn) -> Status[Activity]:
    """Log or plan an activity: a `kind` is enough. A `status` of `done` logs it as finished (at `done_at`, or now)."""
    if not access.can_log_activities(request.user):
        raise PermissionDenied(_may_not_log())
    data = _related(request.user, payload.model_dump(exclude_unset=True))
    with refused_because(_may_not_log()):
        activity = services.activity_create(by=request.user, **data)
    return Status(201, activity)


@router.get("/activities/{activity_id}", response={200: ActivityOut, **READ_ERRORS}, tags=["activities"])
def activity_detail(request: RapportRequest, activity_id: int) -> Activity:
    """One activity: the caller's, one of a client they see, or one of their scope."""
    return access.activity_for_user(request.user, activity_id)


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **UPDATE_ERRORS}, tags=["activities"])
def activity_update(request: RapportRequest, activity_id: int, payload: ActivityPatch) -> Activity:
    """Change the fields sent; ``version`` is required. The status changes through complete and cancel."""
    activity = _editable(request.user, activity_id)
    changes = _related(request.user, payload.model_dump(exclude_unset=True))
    version = changes.pop("version")
    with refused_because(_may_not_change()):
        return services.activity_update(by=request.user, activity=activity, version=version, **changes)


@router.delete("/activities/{activity_id}", response={204: None, **WRITE_ERRORS}, tags=["activities"])
def activity_delete(request: RapportRequest, activity_id: int) -> Status[None]:
    activity = _editable(request.user, activity_id)
    with refused_because(_may_not_change()):
        services.activity_delete(by=request.user, activity=activity)
    return Status(204, None)


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, **UPDATE_ERRORS}, tags=["activities"])
def activity_complete(request: RapportRequest, activity_id: int, payload: CompleteIn | None = None) -> Activity:
    """Mark done, with what it came to (outcome, result, duration …); the minimum-data rules apply."""
    activity = _editable(request.user, activity_id)
    changes = _related(request.user, payload.model_dump(exclude_unset=True) if payload else {})
    version = changes.pop("version", None)
    with refused_because(_may_not_change()):
        return services.activity_complete(by=request.user, activity=activity, version=version, **changes)


@router.post("/activities/{activity_id}/cancel", response={200: ActivityOut, **WRITE_ERRORS}, tags=["activities"])
def activity_cancel(request: RapportRequest, activity_id: int) -> Activity:
    activity = _editable(request.user, activity_id)
    with refused_because(_may_not_change()):
        return services.activity_cancel(by=request.user, activity=activity)


@router.post("/activities/{activity_id}/reschedule", response={200: ActivityOut, **UPDATE_ERRORS}, tags=["activities"])
def activity_reschedule(request: RapportRequest, activity_id: int, payload: RescheduleIn) -> Activity:
    """Move a planned activity to another time; its reminders are sent again for the new time."""
    activity = _editable(request.user, activity_id)
    with refused_because(_may_not_change()):
        return services.activity_reschedule(
            by=request.user, activity=activity, due_at=_aware(payload.due_at), version=payload.version
        )


@router.post("/calls/quick-log", response={201: QuickLogOut, **WRITE_ERRORS}, tags=["activities"])
def call_quick_log(request: RapportRequest, payload: QuickLogIn) -> Status[dict[str, Any]]:
    """Log a call by its outcome alone, done now, in one request (a telephony bridge's "hang up").

    An outcome that asks for a follow-up (e.g. "Call back later") needs `follow_up_at` and
    plans the callback, answered as `follow_up`.
    """
    by = request.user
    if not access.can_log_activities(by):
        raise PermissionDenied(_may_not_log())
    if (payload.company_id is None) == (payload.contact_id is None):
        raise ValidationError({"company_id": _("Give either company_id or contact_id.")})
    client: Company | Contact
    if payload.contact_id is not None:
        client = _one(
            access.contacts_visible_to(by), payload.contact_id, "contact_id", _("Choose a person you can see.")
        )
    else:
        client = _one(
            access.companies_visible_to(by), payload.company_id or 0, "company_id", _("Choose a company you can see.")
        )
    outcome = _one(Outcome.objects.all(), payload.outcome_id, "outcome_id")
    deal = None
    if payload.deal_id is not None:
        deal = _one(access.deals_visible_to(by), payload.deal_id, "deal_id", _("Choose a deal you can see."))
    names = {"outcome": "outcome_id", "company": "company_id", "contact": "contact_id", "deal": "deal_id"}
    with refused_because(_may_not_log()), _fields_renamed(names):
        logged = services.call_quick_log(
            by=by,
            client=client,
            outcome=outcome,
            follow_up_at=_aware(payload.follow_up_at),
            deal=deal,
            direction=payload.direction,
            result=payload.result,
            duration=payload.duration,
        )
    return Status(201, {"call": logged.call, "follow_up": logged.follow_up})


# ---- Outcome picklists and minimum-data rules ---------------------------------------------------


@router.get("/activity-outcomes", response={200: list[OutcomeOut], 401: Message, 422: Invalid}, tags=["picklists"])
def outcome_list(request: RapportRequest, filters: Query[OutcomeFilters]) -> QuerySet[Outcome]:
    """The outcomes of each kind in the order the screens offer them; retired ones with ``include_inactive``."""
    outcomes = Outcome.objects.order_by("kind", "position", "id")
    if filters.kind is not None:
        outcomes = outcomes.filter(kind=filters.kind)
    if not filters.include_inactive:
        outcomes = outcomes.filter(is_active=True)
    return outcomes


@router.post("/activity-outcomes", response={201: OutcomeOut, **WRITE_ERRORS}, tags=["picklists"])
def outcome_create(request: RapportRequest, payload: OutcomeIn) -> Status[Outcome]:
    _configurer(request.user)
    with refused_because(_may_not_configure()):
        return Status(201, services.outcome_save(by=request.user, **payload.model_dump()))


@router.patch("/activity-outcomes/{outcome_id}", response={200: OutcomeOut, **WRITE_ERRORS}, tags=["picklists"])
def outcome_update(request: RapportRequest, outcome_id: int, payload: OutcomePatch) -> Outcome:
    """Rename, reorder, retire (``is_active``: false) an outcome; one activities use keeps its kind."""
    _configurer(request.user)
    outcome = get_object_or_404(Outcome, pk=outcome_id)
    changes = {name: value for name, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    position = changes.pop("position", None)
    fields = {
        "kind": outcome.kind,
        "name": outcome.name,
        "asks_follow_up": outcome.asks_follow_up,
        "is_active": outcome.is_active,
        **changes,
    }
    with refused_because(_may_not_configure()):
        return services.outcome_save(by=request.user, outcome=outcome, position=position, **fields)


@router.get("/minimum-data-rules", response={200: list[RuleOut], 401: Message}, tags=["picklists"])
def minimum_data_rule_list(request: RapportRequest) -> QuerySet[MinimumDataRule]:
    """What an activity of a kind must carry to be saved with a status (a meeting marked done, say)."""
    return MinimumDataRule.objects.order_by("kind", "status")


@router.put("/minimum-data-rules/{kind}/{status}", response={200: RuleOut, **WRITE_ERRORS}, tags=["picklists"])
def minimum_data_rule_set(request: RapportRequest, kind: str, status: str, payload: RuleIn) -> dict[str, Any]:
    """Make the rule for ``kind`` and ``status`` ask exactly these; an empty list removes it."""
    _configurer(request.user)
    with refused_because(_may_not_configure()):
        rule = services.minimum_data_rule_save(by=request.user, kind=kind, status=status, required=payload.required)
    return {"kind": kind, "status": status, "required": rule.required if rule else []}
