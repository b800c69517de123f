"""Every change to activities goes through these functions: quick log, forms, my day, the API and imports alike.

Each runs in one transaction and checks, before anything is written: the edit right, the
links (a client and deal the person sees), the outcome (one of the activity's kind), the
numbers and dates, and the minimum data the admin's rules ask of the kind and status. A
refusal is a ValidationError keyed by field, so a form shows each message next to its
field and the API answers 422 with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.activities.models import (
    CONTACT_KINDS,
    REQUIREMENTS,
    Activity,
    ActivityKind,
    ActivityStatus,
    Direction,
    MinimumDataRule,
    Outcome,
)
from rapport.clients.models import Company, Contact, ContactPoint
from rapport.core.bulk import update_rows

# What activity_update accepts; the status changes through complete, cancel and reopen.
EDITABLE_FIELDS = {
    "kind",
    "direction",
    "subject",
    "result",
    "outcome",
    "due_at",
    "done_at",
    "duration",
    "owner",
    "company",
    "contact",
    "deal",
}
# Which form field a missing requirement points at (the message links to it).
REQUIREMENT_FIELDS = {
    "date": "done_at",
    "client_name": "contact",
    "contact_point": "contact",
    "subject": "subject",
    "result": "result",
    "outcome": "outcome",
    "duration": "duration",
    "deal": "deal",
}
# A planned activity due longer ago than this is a typing mistake, not a plan.
OLDEST_DUE = timedelta(days=366)
OWNING_ROLES = {Role.MANAGER, Role.HEAD, Role.AGENT, Role.OPERATOR, Role.ADMIN}


# ---- Checks ------------------------------------------------------------------------------------


def minimum_data_missing(activity: Activity) -> list[str]:
    """The keys of REQUIREMENTS the admin's rule for the activity's kind and status asks and it lacks."""
    rule = MinimumDataRule.objects.filter(kind=activity.kind, status=activity.status).first()
    if rule is None:
        return []
    return [key for key in rule.required if key in REQUIREMENTS and not _meets(activity, key)]


def _meets(activity: Activity, key: str) -> bool:
    contact, company = activity.contact, activity.company
    if key == "date":
        return (activity.done_at if activity.status == ActivityStatus.DONE else activity.due_at) is not None
    if key == "client_name":
        return contact is not None and bool(contact.last_name.strip()) and bool(contact.first_name.strip())
    if key == "contact_point":
        points = Q(contact=contact) if contact is not None else Q(pk__in=[])
        if company is not None:
            points |= Q(company=company)
        return ContactPoint.objects.filter(points).exists()
    if key == "subject":
        return bool(activity.subject.strip())
    if key == "result":
        return bool(activity.result.strip())
    if key == "duration":
        return activity.duration is not None
    return getattr(activity, f"{key}_id") is not None  # outcome, deal


def minimum_data_error(activity: Activity, missing: list[str]) -> ValidationError:
    """One sentence listing what is missing, and each requirement next to the field that gives it."""
    words = [str(REQUIREMENTS[key]) for key in missing]
    summary = _("To save this %(kind)s as “%(status)s” it needs: %(missing)s.") % {
        "kind": activity.get_kind_display().lower(),
        "status": activity.get_status_display().lower(),
        "missing": ", ".join(words),
    }
    errors: dict[str, list[str]] = {"__all__": [summary]}
    for key in missing:
        field = REQUIREMENT_FIELDS[key]
        if key == "date" and activity.status != ActivityStatus.DONE:
            field = "due_at"
        errors.setdefault(field, []).append(_("Needed: %(what)s.") % {"what": REQUIREMENTS[key]})
    return ValidationError(errors, code="minimum_data")


def _check(activity: Activity) -> None:
    """Everything an activity must satisfy before it is written, as one ValidationError keyed by field."""
    errors: dict[str, str] = {}
    if activity.kind not in ActivityKind.values:
        errors["kind"] = _("Choose call, meeting, task, note or e-mail.")
    if activity.direction and activity.direction not in Direction.values:
        errors["direction"] = _("Choose incoming or outgoing.")
    if activity.outcome is not None and (activity.outcome.kind != activity.kind or not activity.outcome.is_active):
        errors["outcome"] = _("Choose one of the outcomes of a %(kind)s.") % {
            "kind": ActivityKind(activity.kind).label.lower() if activity.kind in ActivityKind.values else "?"
        }
    if activity.duration is not None and activity.duration < 0:
        errors["duration"] = _("The duration cannot be below zero.")
    now = timezone.now()
    if activity.status == ActivityStatus.PLANNED and activity.due_at is not None and activity.due_at < now - OLDEST_DUE:
        errors["due_at"] = _("This date is more than a year ago: give the date the activity is planned for.")
    if activity.done_at is not None and activity.done_at > now + timedelta(minutes=5):
        errors["done_at"] = _("An activity cannot be done in the future.")
    contact, company = activity.contact, activity.company
    if contact is not None and company is not None and contact.company_id not in (None, company.pk):
        errors["contact"] = _("This person works for another company.")
    deal = activity.deal
    if deal is not None:
        clients = {("company", deal.company_id), ("contact", deal.contact_id)}
        other_client = (
            company is not None
            and ("company", company.pk) not in clients
            and (contact is None or ("contact", contact.pk) not in clients)
        )
        if other_client and (deal.company_id is not None or deal.contact_id is not None):
            errors["deal"] = _("This deal is with another client.")
    if errors:
        raise ValidationError(errors)
    missing = minimum_data_missing(activity)
    if missing:
        raise minimum_data_error(activity, missing)


def _check_links(by: User, *, company: Company | None, contact: Contact | None, deal: Any) -> None:
    """Only clients and deals the person sees may be linked (ids from the API are not to be trusted)."""
    errors = {}
    if company is not None and not access.companies_visible_to(by).filter(pk=company.pk).exists():
        errors["company"] = _("This company does not exist or is not yours to see.")
    if contact is not None and not access.contacts_visible_to(by).filter(pk=contact.pk).exists():
        errors["contact"] = _("This person does not exist or is not yours to see.")
    if deal is not None and not access.deals_visible_to(by).filter(pk=deal.pk).exists():
        errors["deal"] = _("This deal does not exist or is not yours to see.")
    if errors:
        raise ValidationError(errors)


def _check_owner(by: User, owner: User) -> None:
    """People log their own activities; heads plan for their team, admins for anyone."""
    if owner.pk == by.pk:
        return
    if not owner.is_active or owner.role not in OWNING_ROLES:
        raise ValidationError({"owner": _("%(name)s cannot be given activities.") % {"name": owner.display_name}})
    if by.is_admin or (by.role == Role.HEAD and by.team_id is not None and owner.team_id == by.team_id):
        return
    raise ValidationError({"owner": _("You can only give activities to people of your own team.")})


def _check_editable(by: User, activity: Activity) -> None:
    if not access.can_edit_activity(by, activity):
        raise PermissionDenied


def _check_version(activity: Activity, version: int | None) -> None:
    if version is None or activity.version == version:
        return
    when = formats.date_format(timezone.localtime(activity.updated_at), "SHORT_DATETIME_FORMAT")
    raise ValidationError(
        _("This activity was changed at %(when)s — reload to see the change, then edit again.") % {"when": when},
        code="stale",
    )


# ---- Writing -----------------------------------------------------------------------------------


def _fill(activity: Activity) -> None:
    """The derived fields: the company of a contact or deal, the done time, and the moment it sorts by."""
    if activity.company is None and activity.contact is not None and activity.contact.company_id is not None:
        activity.company = activity.contact.company
    deal = activity.deal
    if deal is not None and activity.company is None and activity.contact is None:
        activity.company, activity.contact = deal.company, deal.contact
    if isinstance(activity.subject, str):
        activity.subject = activity.subject.strip()
    if isinstance(activity.result, str):
        activity.result = activity.result.strip()
    if activity.status == ActivityStatus.DONE and activity.done_at is None:
        activity.done_at = timezone.now()
    if activity.status != ActivityStatus.DONE:
        activity.done_at = None
    activity.at = activity.done_at or activity.due_at or activity.created_at or timezone.now()


def _last_contacts_move(activities: list[Activity]) -> None:
    """A call, meeting or e-mail done is its client's latest contact, unless a later one is known.

    One statement for the companies and one for the contacts, however many activities: the
    telephony records a busy line's calls by the batch.
    """
    for model, link in ((Company, "company_id"), (Contact, "contact_id")):
        latest: dict[int, datetime] = {}
        for activity in activities:
            client_id = getattr(activity, link)
            if client_id is None or activity.done_at is None:
                continue
            if activity.status == ActivityStatus.DONE and activity.kind in CONTACT_KINDS:
                latest[client_id] = max(latest.get(client_id, activity.done_at), activity.done_at)
        if latest:
            update_rows(model, ["last_contact_at"], [(at, pk) for pk, at in latest.items()], forward="last_contact_at")


def _after_done(activity: Activity) -> None:
    _last_contacts_move([activity])


def _save_new(activity: Activity) -> Activity:
    _fill(activity)
    _check(activity)
    activity.save()
    _after_done(activity)
    return activity


@transaction.atomic
def activity_create(
    *,
    by: User,
    kind: str,
    status: str = ActivityStatus.PLANNED,
    owner: User | None = None,
    company: Company | None = None,
    contact: Contact | None = None,
    deal: Any = None,
    outcome: Outcome | None = None,
    follow_up_of: Activity | None = None,
    **fields: Any,
) -> Activity:
    """Log or plan an activity; ``fields`` are other EDITABLE_FIELDS (subject, result, due_at …)."""
    if not access.can_log_activities(by):
        raise PermissionDenied
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    if status not in ActivityStatus.values:
        raise ValidationError({"status": _("Choose planned, done or cancelled.")})
    owner = owner or by
    _check_owner(by, owner)
    _check_links(by, company=company, contact=contact, deal=deal)
    activity = Activity(
        kind=kind,
        status=status,
        owner=owner,
        created_by=by,
        company=company,
        contact=contact,
        deal=deal,
        outcome=outcome,
        follow_up_of=follow_up_of,
        **fields,
    )
    activity.created_at = timezone.now()
    return _save_new(activity)


def _lock(activity: Activity) -> Activity:
    Activity.objects.select_for_update().filter(pk=activity.pk).values_list("pk").get()
    return Activity.objects.select_related("owner", "company", "contact", "deal", "outcome").get(pk=activity.pk)


def _save(locked: Activity, fields: set[str]) -> Activity:
    _fill(locked)
    _check(locked)
    locked.version += 1
    locked.save(update_fields=sorted(fields | {"at", "done_at", "company", "contact", "version", "updated_at"}))
    _after_done(locked)
    return locked


@transaction.atomic
def activity_update(*, by: User, activity: Activity, version: int | None = None, **changes: Any) -> Activity:
    locked = _lock(activity)
    _check_editable(by, locked)
    _check_version(locked, version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    if "owner" in changes and changes["owner"] is not None and changes["owner"].pk != locked.owner_id:
        _check_owner(by, changes["owner"])
    links = {name: changes[name] for name in ("company", "contact", "deal") if changes.get(name) is not None}
    _check_links(by, company=links.get("company"), contact=links.get("contact"), deal=links.get("deal"))
    for field, value in changes.items():
        setattr(locked, field, value)
    if locked.owner is None:
        raise ValidationError({"owner": _("An activity needs an owner.")})
    return _save(locked, set(changes))


@transaction.atomic
def activity_complete(*, by: User, activity: Activity, version: int | None = None, **changes: Any) -> Activity:
    """Mark done, with whatever the form or the quick log adds (outcome, result, duration …)."""
    locked = _lock(activity)
    _check_editable(by, locked)
    _check_version(locked, version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.status = ActivityStatus.DONE
    return _save(locked, {*changes, "status"})


@transaction.atomic
def activity_cancel(*, by: User, activity: Activity) -> Activity:
    locked = _lock(activity)
    _check_editable(by, locked)
    locked.status = ActivityStatus.CANCELLED
    return _save(locked, {"status"})


@transaction.atomic
def activity_reschedule(*, by: User, activity: Activity, due_at: datetime, version: int | None = None) -> Activity:
    """A planned activity moved to another time (my day's "later", a drag on the calendar)."""
    locked = _lock(activity)
    _check_editable(by, locked)
    _check_version(locked, version)
    if locked.status != ActivityStatus.PLANNED:
        raise ValidationError({"due_at": _("Only a planned activity can be moved to another time.")})
    if due_at is None:
        raise ValidationError({"due_at": _("Choose when.")})
    locked.due_at = due_at
    return _save(locked, {"due_at"})


@transaction.atomic
def activity_delete(*, by: User, activity: Activity) -> None:
    locked = _lock(activity)
    _check_editable(by, locked)
    locked.deleted_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["deleted_at", "version", "updated_at"])


# ---- The quick log -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickLog:
    call: Activity
    follow_up: Activity | None


def _check_call_outcome(outcome: Outcome, follow_up_at: datetime | None) -> None:
    if outcome.kind != ActivityKind.CALL or not outcome.is_active:
        raise ValidationError({"outcome": _("Choose one of the outcomes of a call.")})
    if outcome.asks_follow_up and follow_up_at is None:
        raise ValidationError({"follow_up_at": _("Choose when to call back.")})
    if follow_up_at is not None and follow_up_at < timezone.now() - timedelta(minutes=5):
        raise ValidationError({"follow_up_at": _("Choose a time to call back that is still ahead.")})


def _callback_planned(by: User, call: Activity, outcome: Outcome, follow_up_at: datetime | None) -> Activity | None:
    """The callback of a call whose outcome asks for one, on the same client and deal, for the call's owner."""
    if follow_up_at is None or not outcome.asks_follow_up:
        return None
    # The contact alone when there is one: its company comes along, and may be a colleague's.
    link = {"contact": call.contact} if call.contact is not None else {"company": call.company}
    return activity_create(
        by=by,
        kind=ActivityKind.CALL,
        owner=call.owner,
        direction=Direction.OUT,
        subject=_("Call back"),
        due_at=follow_up_at,
        deal=call.deal,
        follow_up_of=call,
        **link,
    )


@transaction.atomic
def call_quick_log(
    *,
    by: User,
    client: Company | Contact,
    outcome: Outcome,
    follow_up_at: datetime | None = None,
    deal: Any = None,
    direction: str = Direction.OUT,
    result: str = "",
    duration: int | None = None,
) -> QuickLog:
    """A call logged by its outcome alone, done now; an outcome that asks for a follow-up plans the callback."""
    _check_call_outcome(outcome, follow_up_at)
    link = {"contact": client} if isinstance(client, Contact) else {"company": client}
    call = activity_create(
        by=by,
        kind=ActivityKind.CALL,
        status=ActivityStatus.DONE,
        outcome=outcome,
        direction=direction,
        subject=outcome.name,
        result=result,
        duration=duration,
        deal=deal,
        **link,
    )
    return QuickLog(call=call, follow_up=_callback_planned(by, call, outcome, follow_up_at))


@transaction.atomic
def planned_call_complete(
    *,
    by: User,
    activity: Activity,
    outcome: Outcome,
    follow_up_at: datetime | None = None,
    version: int | None = None,
) -> QuickLog:
    """Finish a planned call by its outcome (my day's outcome buttons); one that asks for it plans the callback.

    The card's quick log logs a new call; here the call was planned, so it is that call which
    is done, and nothing is left planned twice. A call the telephony recorded is done already
    and waits only for its outcome: the same click gives it.
    """
    if activity.kind != ActivityKind.CALL:
        raise ValidationError({"outcome": _("Only a call is finished by a call's outcome.")})
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError({"outcome": _("This call was cancelled.")})
    _check_call_outcome(outcome, follow_up_at)
    changes: dict[str, Any] = {"outcome": outcome}
    if not activity.subject:
        changes["subject"] = outcome.name
    call = activity_complete(by=by, activity=activity, version=version, **changes)
    return QuickLog(call=call, follow_up=_callback_planned(by, call, outcome, follow_up_at))


@dataclass(frozen=True)
class RecordedCall:
    """A call the telephony recorded, as ``recorded_calls_save`` puts it on the timeline."""

    activity: Activity | None  # the call's activity already, or the planned callback it makes done; None: a new one
    owner: User
    client: Company | Contact
    direction: str
    done_at: datetime
    duration_minutes: int | None
    subject: str


def _recorded_call(call: RecordedCall) -> Activity:
    link = {"contact": call.client, "company": None}
    if isinstance(call.client, Company):
        link = {"company": call.client, "contact": None}
    if call.activity is None:
        activity = Activity(kind=ActivityKind.CALL, status=ActivityStatus.DONE, created_by=call.owner)
        activity.created_at = timezone.now()
    else:
        activity = _lock(call.activity)
        activity.version += 1
    for name, value in {
        "status": ActivityStatus.DONE,  # a planned callback that this call made is done by it
        "owner": call.owner,
        "direction": call.direction,
        "done_at": call.done_at,
        "duration": call.duration_minutes,
        "subject": activity.subject if activity.outcome_id else call.subject,  # an outcome's name, once picked, stays
        **link,
    }.items():
        setattr(activity, name, value)
    _fill(activity)
    return activity


# Without a savepoint of its own: the telephony calls it inside its batch's transaction.
@transaction.atomic(savepoint=False)
def recorded_calls_save(calls: list[RecordedCall]) -> list[Activity]:
    """Calls the telephony recorded, new or brought up to date: done, for their managers, on their clients' timelines.

    The PBX is the witness here, not a person, so a person's checks (who may log for whom, the
    minimum data a finished call must carry) do not apply: the manager adds the outcome later
    with one click. The clients' last contacts move as for any call done. A busy line's batch
    brings many: the new ones are inserted together, and the last contacts moved together.
    """
    activities = [_recorded_call(call) for call in calls]
    for activity in activities:
        if activity.pk is not None:
            activity.save()
    Activity.objects.bulk_create([activity for activity in activities if activity.pk is None])
    _last_contacts_move(activities)
    return activities


# No savepoint of its own, as recorded_calls_save.
@transaction.atomic(savepoint=False)
def missed_call_callback_plan(
    *, owner: User, client: Company | Contact | None, due_at: datetime, subject: str
) -> Activity:
    """The callback a missed call asks for: a planned call for the client's owner or the line's duty manager.

    Planned by the telephony, not by a person, so no person's checks apply; the call that
    reaches the client completes it (``recorded_calls_save`` with it as the activity).
    """
    link = {"contact": client} if isinstance(client, Contact) else {"company": client}
    activity = Activity(
        kind=ActivityKind.CALL,
        status=ActivityStatus.PLANNED,
        direction=Direction.OUT,
        owner=owner,
        created_by=owner,
        due_at=due_at,
        subject=subject,
        **link,
    )
    activity.created_at = timezone.now()
    _fill(activity)
    activity.save()
    return activity


# No savepoint of its own, as recorded_calls_save.
@transaction.atomic(savepoint=False)
def missed_call_callback_withdraw(activity: Activity) -> None:
    """The missed call was answered after all (its events came late): its callback, still planned, is cancelled."""
    locked = _lock(activity)
    if locked.status != ActivityStatus.PLANNED:
        return
    locked.status = ActivityStatus.CANCELLED
    _fill(locked)
    locked.version += 1
    locked.save(update_fields=["status", "at", "done_at", "version", "updated_at"])


# ---- Picklists and rules (admins) --------------------------------------------------------------


def check_configurer(by: User) -> None:
    """Outcome picklists and minimum-data rules are the admins'."""
    if not access.can_configure_activities(by):
        raise PermissionDenied


@transaction.atomic
def outcome_save(
    *,
    by: User,
    outcome: Outcome | None = None,
    kind: str,
    name: str,
    asks_follow_up: bool = False,
    is_active: bool = True,
    position: int | None = None,
) -> Outcome:
    check_configurer(by)
    name = name.strip()
    errors = {}
    if kind not in ActivityKind.values:
        errors["kind"] = _("Choose call, meeting, task, note or e-mail.")
    if not name:
        errors["name"] = _("Give the outcome a name.")
    elif Outcome.objects.filter(kind=kind, name__iexact=name).exclude(pk=outcome.pk if outcome else 0).exists():
        errors["name"] = _("This kind already has an outcome with this name.")
    if errors:
        raise ValidationError(errors)
    if outcome is None:
        last = Outcome.objects.filter(kind=kind).order_by("-position").values_list("position", flat=True).first()
        outcome = Outcome(kind=kind, position=(last or 0) + 1 if position is None else position)
    elif outcome.kind != kind and Activity.objects.filter(outcome=outcome).exists():
        raise ValidationError({"kind": _("Activities already use this outcome: it stays with its kind.")})
    outcome.kind, outcome.name, outcome.asks_follow_up, outcome.is_active = kind, name, asks_follow_up, is_active
    if position is not None:
        outcome.position = position
    outcome.save()
    return outcome


@transaction.atomic
def minimum_data_rule_save(*, by: User, kind: str, status: str, required: list[str]) -> MinimumDataRule | None:
    """Set what an activity of ``kind`` needs to be saved as ``status``; an empty list removes the rule."""
    check_configurer(by)
    errors = {}
    if kind not in ActivityKind.values:
        errors["kind"] = _("Choose call, meeting, task, note or e-mail.")
    if status not in ActivityStatus.values:
        errors["status"] = _("Choose planned, done or cancelled.")
    unknown = [key for key in required if key not in REQUIREMENTS]
    if unknown:
        errors["required"] = _("Unknown requirements: %(names)s.") % {"names": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)
    if not required:
        MinimumDataRule.objects.filter(kind=kind, status=status).delete()
        return None
    rule, _created = MinimumDataRule.objects.update_or_create(
        kind=kind, status=status, defaults={"required": list(dict.fromkeys(required))}
    )
    return rule
