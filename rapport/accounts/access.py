"""The access policy: the one place that decides who sees and edits what.

Every query that returns records to a person goes through a function here. Later
apps add their record types (clients, deals …) with the same shape: a ``*_visible_to``
QuerySet filter and a ``*_for_user`` getter that answers 404 for what is out of scope.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from rapport.accounts.models import Role, Team, User

if TYPE_CHECKING:
    from rapport.activities.models import Activity
    from rapport.clients.models import Company, Contact
    from rapport.motivation.models import Statement, Target
    from rapport.sales.models import Deal


def can_manage_users(user: User) -> bool:
    return user.is_active and user.is_admin


def can_see_system_status(user: User) -> bool:
    return can_manage_users(user)


def people_visible_to(user: User) -> QuerySet[User]:
    """Colleagues a user can look up: everyone in the company, but an outside agent sees only themself."""
    if user.role == Role.AGENT and not user.is_admin:
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(is_active=True)


def people_in_scope(user: User, roles: Collection[str]) -> QuerySet[User]:
    """Whose records the user's scope covers, for the owner pickers of lists, the board and the calendar.

    Themself in the own scope; a head's team; everyone in ``roles`` (those who can own what is
    listed — an analyst in the choices would always list nothing) for the roles that see all.
    """
    scope = client_scope(user)
    people = people_visible_to(user).filter(role__in=roles)
    if scope == Scope.OWN or not user.is_active:
        return User.objects.filter(pk=user.pk)
    if scope == Scope.TEAM:
        return people.filter(team_id=user.team_id) if user.team_id else User.objects.filter(pk=user.pk)
    return people


def user_for_admin(user: User, user_id: int) -> User:
    if not can_manage_users(user):
        raise PermissionDenied
    return get_object_or_404(User.objects.select_related("team"), pk=user_id)


def team_for_admin(user: User, team_id: int) -> Team:
    if not can_manage_users(user):
        raise PermissionDenied
    return get_object_or_404(Team.objects.select_related("head"), pk=team_id)


# ---- Clients -------------------------------------------------------------------------------
# Who sees which clients, per role: their own (plus the shared pool), their team's, or all.
# A company may change a role's scope with the RAPPORT_CLIENT_SCOPES setting.


class Scope(StrEnum):
    OWN = "own"
    TEAM = "team"
    ALL = "all"


DEFAULT_CLIENT_SCOPES: dict[str, Scope] = {
    Role.ADMIN: Scope.ALL,
    Role.OPERATOR: Scope.ALL,
    Role.ANALYST: Scope.ALL,
    Role.MARKETER: Scope.ALL,
    Role.HEAD: Scope.TEAM,
    Role.MANAGER: Scope.OWN,
    Role.AGENT: Scope.OWN,
}
# Roles that may change what they see (the others only read).
EDITING_ROLES = {Role.ADMIN, Role.OPERATOR, Role.HEAD, Role.MANAGER, Role.AGENT}


def client_scope(user: User) -> Scope:
    if user.is_superuser:
        return Scope.ALL
    configured = settings.RAPPORT_CLIENT_SCOPES.get(user.role)
    try:
        return Scope(configured) if configured else DEFAULT_CLIENT_SCOPES[user.role]
    except ValueError:
        # A mistyped scope must not widen access: fall back to the role's default.
        return DEFAULT_CLIENT_SCOPES[user.role]


def client_visibility(user: User, via: str = "") -> Q:
    """The filter every client query for a person goes through (companies and contacts alike).

    ``via`` reaches the client from another model ("company__"): records of clients are then
    filtered along their join, which the database walks row by row for a short list instead of
    first listing every visible client.
    """
    from rapport.clients.models import ClientStatus

    if not user.is_active:
        return Q(pk__in=[])
    scope = client_scope(user)
    if scope == Scope.ALL:
        return Q()
    mine = Q(**{f"{via}owner": user})
    if scope == Scope.TEAM and user.team_id is not None:
        # The team's member ids as a subquery, not a join to users: the database can then
        # walk the clients' owner index for each member instead of scanning every client.
        mine |= Q(**{f"{via}owner_id__in": User.objects.filter(team_id=user.team_id).values("pk")})
    # Outside agents never see the company's shared pool.
    if user.role == Role.AGENT:
        return mine
    return mine | Q(**{f"{via}status": ClientStatus.POOL})


def companies_visible_to(user: User) -> QuerySet[Company]:
    from rapport.clients.models import Company

    return Company.objects.alive().filter(client_visibility(user))


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    from rapport.clients.models import Contact

    return Contact.objects.alive().filter(client_visibility(user))


def clients_visible_to(user: User, model: type[Company] | type[Contact]) -> QuerySet[Any]:
    """The visible companies or contacts, for code that serves both kinds."""
    return companies_visible_to(user) if model.__name__ == "Company" else contacts_visible_to(user)


def company_for_user(user: User, company_id: int) -> Company:
    """The company if the user may see it; 404 otherwise, so its existence is not revealed."""
    return get_object_or_404(
        companies_visible_to(user).select_related("owner", "registrant", "lead_source"), pk=company_id
    )


def contact_for_user(user: User, contact_id: int) -> Contact:
    return get_object_or_404(
        contacts_visible_to(user).select_related("owner", "registrant", "company", "lead_source"), pk=contact_id
    )


def can_create_clients(user: User) -> bool:
    """Analysts and marketers read the base; the other roles add to it."""
    return user.is_active and user.role in EDITING_ROLES


def can_edit_client(user: User, client: Company | Contact) -> bool:
    """Edit a visible client: its owner, the owner's head, operators and admins. Pool clients are taken first."""
    if not user.is_active or user.role not in EDITING_ROLES:
        return False
    if user.is_admin or user.role == Role.OPERATOR:
        return True
    if client.owner_id == user.pk:
        return True
    owner = client.owner
    return user.role == Role.HEAD and owner is not None and owner.team_id is not None and owner.team_id == user.team_id


def can_edit_personal_data(user: User, client: Company | Contact) -> bool:
    """Names, contact points, birthdays: operators and admins always; owners too unless the company restricts it."""
    if user.is_active and (user.is_admin or user.role == Role.OPERATOR):
        return True
    if settings.RAPPORT_PERSONAL_DATA_EDITORS == "operators":
        return False
    return can_edit_client(user, client)


def can_transfer_client(user: User, client: Company | Contact) -> bool:
    """Give a client to another manager: heads within their team, admins anywhere."""
    if not user.is_active:
        return False
    if user.is_admin:
        return True
    return user.role == Role.HEAD and can_edit_client(user, client)


def can_see_trash(user: User) -> bool:
    return user.is_active and user.is_admin


def can_merge_clients(user: User) -> bool:
    """Merging two records of one client is data cleaning: operators and admins."""
    return user.is_active and (user.is_admin or user.role == Role.OPERATOR)


# ---- Deals ----------------------------------------------------------------------------------
# The same scopes as clients: a manager sees the deals they own or registered (the registrant
# is credited for it), a head the team's, the company-wide roles all. There is no pool of deals.


def deal_visibility(user: User) -> Q:
    if not user.is_active:
        return Q(pk__in=[])
    scope = client_scope(user)
    if scope == Scope.ALL:
        return Q()
    mine = Q(owner=user) | Q(registrant=user)
    if scope == Scope.TEAM and user.team_id is not None:
        # The members' ids as a list, not a subquery: inside an OR, PostgreSQL can only filter
        # every deal of the pipeline through a subquery, but walks the owner index for a list.
        mine |= Q(owner_id__in=team_member_ids(user))
    return mine


def team_member_ids(user: User) -> list[int]:
    """The ids of everyone in the user's team, read once per user object (that is, per request)."""
    cached: list[int] | None = getattr(user, "_team_member_ids", None)
    if user.team_id is None:
        return []
    if cached is None:
        cached = list(User.objects.filter(team_id=user.team_id).order_by("pk").values_list("pk", flat=True))
        user._team_member_ids = cached  # type: ignore[attr-defined]
    return cached


def deals_visible_to(user: User) -> QuerySet[Deal]:
    from rapport.sales.models import Deal

    return Deal.objects.alive().filter(deal_visibility(user))


DEAL_RELATED = ("pipeline", "stage", "owner", "registrant", "company", "contact")


def deal_for_user(user: User, deal_id: int, *, related: tuple[str, ...] = DEAL_RELATED) -> Deal:
    """The deal if the user may see it; 404 otherwise.

    ``related`` narrows what is read with it: on PostgreSQL, planning the six joins costs
    more than running them, which a board's stage move (it needs only the owner) can spare.
    """
    return get_object_or_404(deals_visible_to(user).select_related(*related), pk=deal_id)


def can_create_deals(user: User) -> bool:
    """Selling roles register deals; operators keep personal data, analysts and marketers read."""
    return user.is_active and user.role in {Role.ADMIN, Role.HEAD, Role.MANAGER, Role.AGENT}


def can_edit_deal(user: User, deal: Deal) -> bool:
    """Its owner, the owner's head and admins; a registrant who no longer owns the deal only reads it."""
    if not can_create_deals(user):
        return False
    if user.is_admin or deal.owner_id == user.pk:
        return True
    owner = deal.owner
    return user.role == Role.HEAD and owner is not None and owner.team_id is not None and owner.team_id == user.team_id


def can_change_registrant(user: User) -> bool:
    return user.is_active and user.is_admin


def can_configure_sales(user: User) -> bool:
    """Pipelines, stages, gates, checkpoint types, reasons for losing, the catalogue: admins."""
    return user.is_active and user.is_admin


def can_see_catalogue(user: User) -> bool:
    """Products, prices and stock: everyone who works with deals reads them (only admins change them)."""
    return user.is_active


# Activities: a person's own, a head's team's, everyone's for the roles that see every client.
# Someone who sees a client also sees the activities logged on it (its history is the client's).


def activity_visibility(user: User) -> Q:
    if not user.is_active:
        return Q(pk__in=[])
    scope = client_scope(user)
    if scope == Scope.ALL:
        return Q()
    mine = Q(owner=user)
    if scope == Scope.TEAM and user.team_id is not None:
        mine |= Q(owner_id__in=team_member_ids(user))
    return mine


def activities_visible_to(user: User) -> QuerySet[Activity]:
    """Lists, the calendar and my day: activities by their owner's scope."""
    from rapport.activities.models import Activity

    return Activity.objects.alive().filter(activity_visibility(user))


def activity_for_user(user: User, activity_id: int) -> Activity:
    """The activity if its owner is in the user's scope or its client is visible to them; 404 otherwise."""
    from rapport.activities.models import Activity

    visible = Activity.objects.alive()
    if client_scope(user) != Scope.ALL or not user.is_active:
        # (Not for everyone's scope: Q() | condition is the condition alone in Django.)
        on_visible_client = Q(company__in=companies_visible_to(user).values("pk")) | Q(
            contact__in=contacts_visible_to(user).values("pk")
        )
        visible = visible.filter(activity_visibility(user) | on_visible_client)
    return get_object_or_404(visible.select_related("owner", "company", "contact", "deal", "outcome"), pk=activity_id)


def can_log_activities(user: User) -> bool:
    """Everyone who works with clients logs calls and meetings; analysts and marketers read."""
    return user.is_active and user.role in EDITING_ROLES


def can_edit_activity(user: User, activity: Activity) -> bool:
    """Its owner, the owner's head and admins."""
    if not can_log_activities(user):
        return False
    if user.is_admin or activity.owner_id == user.pk:
        return True
    owner = activity.owner
    return user.role == Role.HEAD and owner is not None and owner.team_id is not None and owner.team_id == user.team_id


def can_configure_activities(user: User) -> bool:
    """Outcome picklists and minimum-data rules: admins."""
    return user.is_active and user.is_admin


# ---- Plans and leaderboards --------------------------------------------------------------------
# Who sells is planned: managers, heads and agents (as sales.services.SELLING_ROLES).
PLANNED_ROLES = {Role.MANAGER, Role.HEAD, Role.AGENT}


def plan_people_visible_to(user: User) -> QuerySet[User]:
    """Whose plans, progress and bonus so far the user sees: their own, a head's team's, everyone's for the roles
    that see every client."""
    return people_in_scope(user, PLANNED_ROLES)


def sees_plans(user: User) -> bool:
    """Those who are planned read their own plans; the roles that see every client read everyone's.

    Decided from the role alone: the navigation is drawn on every page and must not query.
    """
    return user.is_active and (user.role in PLANNED_ROLES or client_scope(user) == Scope.ALL)


def targets_visible_to(user: User) -> QuerySet[Target]:
    """The targets a user reads: those of the people whose plans they see, and of the teams whose figures they see."""
    from rapport.motivation.models import Target

    return Target.objects.filter(Q(user__in=plan_people_visible_to(user)) | Q(team__in=leaderboard_teams_for(user)))


def can_set_targets(by: User, *, person: User | None = None, team: Team | None = None) -> bool:
    """Admins set anyone's targets and any team's; a head their team members' and their team's."""
    if not by.is_active:
        return False
    if by.is_admin:
        return True
    if by.role != Role.HEAD or by.team_id is None:
        return False
    if team is not None:
        return team.pk == by.team_id
    return person is not None and person.team_id == by.team_id and person.role in PLANNED_ROLES


def sees_team_dashboard(user: User) -> bool:
    """The team dashboard (each person's plan, load, data quality and bonus so far): heads for their team, admins
    and analysts for any. A colleague's load and pay are for who manages them, not for operators or marketers,
    though they see every client.

    Decided from the role alone: the navigation is drawn on every page and must not query.
    """
    return user.is_active and (user.is_admin or user.role in {Role.HEAD, Role.ANALYST})


def leaderboard_teams_for(user: User) -> QuerySet[Team]:
    """The teams whose leaderboard the user sees: their own (everyone in a team sees its ranking), every team
    for the roles that see every client."""
    if client_scope(user) == Scope.ALL:
        return Team.objects.all()
    return Team.objects.filter(pk=user.team_id) if user.team_id else Team.objects.none()


# ---- Data quality ---------------------------------------------------------------------------
# Everyone sees their own score. Heads see the scores of the people whose clients their scope
# covers (their team by default) and admins everyone's: a score ranks a person, which is a
# matter for who manages them, not for colleagues.


def can_see_team_quality(user: User) -> bool:
    """The per-manager view of data quality: heads (their team) and admins (every team)."""
    return user.is_active and (user.is_admin or user.role == Role.HEAD)


def can_see_quality_of(viewer: User, person: User) -> bool:
    if not viewer.is_active:
        return False
    if viewer.pk == person.pk:
        return True
    if not can_see_team_quality(viewer):
        return False
    if viewer.is_admin:
        return True
    scope = client_scope(viewer)
    in_team = viewer.team_id is not None and person.team_id == viewer.team_id
    return scope == Scope.ALL or (scope == Scope.TEAM and in_team)


def quality_person_for(viewer: User, person_id: int) -> User:
    """The person whose data quality the viewer asks for; 404 when it is not theirs to see."""
    person = get_object_or_404(User.objects.select_related("team"), pk=person_id)
    if not can_see_quality_of(viewer, person):
        raise Http404
    return person


# ---- Bonuses ----------------------------------------------------------------------------------
# Admins configure the rules. A person's pay (statements, bonus so far) is seen by the person, by a
# head for their team (own scope / team scope as for clients), and by admins and analysts for
# everyone — not by operators or marketers, though they see every client: pay is for who manages
# people. Heads approve their team members' statements, admins anyone's — nobody their own.

# The roles that read everyone's pay (when their client scope is "all", as by default).
PAY_READERS = {Role.ADMIN, Role.ANALYST}


def can_configure_bonus_rules(user: User) -> bool:
    return user.is_active and user.is_admin


def statement_visibility(user: User) -> Q:
    if not user.is_active:
        return Q(pk__in=[])
    scope = client_scope(user)
    if scope == Scope.ALL and (user.is_admin or user.role in PAY_READERS):
        return Q()
    mine = Q(person=user)
    if scope == Scope.TEAM and user.team_id is not None:
        mine |= Q(person_id__in=team_member_ids(user))
    return mine


def statements_visible_to(user: User) -> QuerySet[Statement]:
    from rapport.motivation.models import Statement

    return Statement.objects.filter(statement_visibility(user))


def statement_for_user(user: User, statement_id: int) -> Statement:
    """The statement if the user may see it; 404 otherwise."""
    return get_object_or_404(
        statements_visible_to(user).select_related("person", "approved_by", "previous"), pk=statement_id
    )


def can_approve_statement(by: User, statement: Statement) -> bool:
    """Heads approve their team members' statements, admins anyone's; nobody approves their own."""
    if not by.is_active or statement.person_id == by.pk:
        return False
    if by.is_admin:
        return True
    person = statement.person
    return by.role == Role.HEAD and by.team_id is not None and person.team_id == by.team_id


def can_compute_statements(user: User) -> bool:
    """Recomputing statements on demand (the nightly job does it anyway): heads and admins."""
    return user.is_active and (user.is_admin or user.role == Role.HEAD)


def pay_people_visible_to(user: User) -> QuerySet[User]:
    """Whose bonus so far the user reads: as ``statement_visibility``, among the people who are planned."""
    people = plan_people_visible_to(user)
    if client_scope(user) == Scope.ALL and not (user.is_admin or user.role in PAY_READERS):
        return people.filter(pk=user.pk)
    return people


def sees_statements(user: User) -> bool:
    """Bonus statements: those who sell read their own (a head their team's too), admins and analysts everyone's.

    Decided from the role alone: the navigation is drawn on every page and must not query.
    """
    return user.is_active and (user.role in PLANNED_ROLES or user.is_admin or user.role in PAY_READERS)


# ---- Orders and purchase regularity ------------------------------------------------------------
# An order belongs to its client: whoever sees the client sees its orders, and whoever may edit the
# client (its owner, the owner's head, operators, admins) records, corrects and deletes them. A
# client's buying rhythm is read with the client and set by the same editors. The team's alerts
# (overdue and falling clients) are for heads, on their team, and admins, on any.

if TYPE_CHECKING:
    from rapport.sales.models import Order
    from rapport.supervision.models import Regularity


def _of_visible_clients(user: User) -> Q:
    """Of a living client the user sees (an order's, a rhythm's), along the record's own join to it."""
    of_company = Q(company__isnull=False, company__deleted_at__isnull=True) & client_visibility(user, "company__")
    of_contact = Q(contact__isnull=False, contact__deleted_at__isnull=True) & client_visibility(user, "contact__")
    return of_company | of_contact


def orders_visible_to(user: User) -> QuerySet[Order]:
    from rapport.sales.models import Order

    if not user.is_active:
        return Order.objects.none()
    return Order.objects.filter(_of_visible_clients(user))


def order_for_user(user: User, order_id: int) -> Order:
    """The order if its client is visible to the user; 404 otherwise."""
    return get_object_or_404(
        orders_visible_to(user).select_related("company__owner", "contact__owner", "deal"), pk=order_id
    )


def can_record_orders(user: User, client: Company | Contact) -> bool:
    return can_edit_client(user, client)


def can_import_orders(user: User) -> bool:
    """The order import is open to those who edit clients; each row is checked against its client."""
    return user.is_active and user.role in EDITING_ROLES


def can_set_regularity(user: User, client: Company | Contact) -> bool:
    return can_edit_client(user, client)


def regularities_visible_to(user: User) -> QuerySet[Regularity]:
    """Clients' buying rhythms (and so their overdue alerts), of the clients the user sees."""
    from rapport.supervision.models import Regularity

    if not user.is_active:
        return Regularity.objects.none()
    return Regularity.objects.filter(_of_visible_clients(user))


def sees_regularity_alerts(user: User) -> bool:
    """The team's overdue and falling clients: heads (their team) and admins (any team).

    Decided from the role alone: the navigation is drawn on every page and must not query.
    """
    return user.is_active and (user.is_admin or user.role == Role.HEAD)


def can_configure_regularity(user: User) -> bool:
    """How late is overdue, how big a fall is worth a look: admins."""
    return user.is_active and user.is_admin


# ---- Redistribution rules and proposals --------------------------------------------------------
# Admins write the rules and run reviews (a dry run included: it lists clients of every team).
# Everyone reads the rules that apply to them — in use, and company-wide or of their team — and
# admins every rule. A review makes one proposal per team of the clients' owners: the team's head
# reads and decides it, admins any; nobody else reads proposals.

if TYPE_CHECKING:
    from rapport.supervision.models import Proposal, RedistributionRule


def can_configure_redistribution(user: User) -> bool:
    return user.is_active and user.is_admin


def redistribution_rules_visible_to(user: User) -> QuerySet[RedistributionRule]:
    from rapport.supervision.models import RedistributionRule

    if not user.is_active:
        return RedistributionRule.objects.none()
    if user.is_admin:
        return RedistributionRule.objects.all()
    mine = Q(team__isnull=True) | Q(team_id=user.team_id) if user.team_id else Q(team__isnull=True)
    return RedistributionRule.objects.filter(mine, is_active=True)


def redistribution_rule_for_user(user: User, rule_id: int) -> RedistributionRule:
    """The rule if it applies to the user (admins: any); 404 otherwise."""
    return get_object_or_404(
        redistribution_rules_visible_to(user).select_related("team", "pipeline", "tag"), pk=rule_id
    )


def sees_rules_for_own_clients(user: User) -> bool:
    """The page of the rules that apply to one's clients: for those who own clients (the role alone decides)."""
    return user.is_active and user.role in PLANNED_ROLES


def sees_proposals(user: User) -> bool:
    """Redistribution proposals: heads (their team's) and admins (all).

    Decided from the role alone: the navigation is drawn on every page and must not query.
    """
    return user.is_active and (user.is_admin or user.role == Role.HEAD)


def proposals_visible_to(user: User) -> QuerySet[Proposal]:
    from rapport.supervision.models import Proposal, ProposalLine

    if not sees_proposals(user):
        return Proposal.objects.none()
    if user.is_admin:
        return Proposal.objects.all()
    if user.team_id is None:
        return Proposal.objects.none()
    of_team = ProposalLine.objects.filter(proposal=OuterRef("pk"), from_user__team_id=user.team_id)
    return Proposal.objects.filter(Exists(of_team))


def proposal_for_user(user: User, proposal_id: int) -> Proposal:
    """The proposal if the user reads it; 404 otherwise."""
    return get_object_or_404(
        proposals_visible_to(user).select_related("rule", "rule__team", "decided_by"), pk=proposal_id
    )


def can_decide_proposal(user: User, proposal: Proposal) -> bool:
    """Admins decide any proposal; a head one whose every client belongs to their team (one query)."""
    if not sees_proposals(user):
        return False
    if user.is_admin:
        return True
    if user.team_id is None:
        return False
    counts = proposal.lines.aggregate(ours=Count("pk", filter=Q(from_user__team_id=user.team_id)), every=Count("pk"))
    return bool(0 < counts["ours"] == counts["every"])


# ---- The shared pool ------------------------------------------------------------------------
# Every manager sees the pool's clients (``client_visibility``: outside agents never do); managers
# and heads take clients from it, within the weekly limit admins set.

# Who takes clients from the pool (as ``clients.services.client_take_from_pool``).
POOL_CLAIMING_ROLES = {Role.MANAGER, Role.HEAD}


def sees_pool(user: User) -> bool:
    """The pool's page: everyone who sees its clients. Decided from the role alone (the navigation asks)."""
    return user.is_active and (user.role != Role.AGENT or client_scope(user) == Scope.ALL)


def can_claim_from_pool(user: User) -> bool:
    return user.is_active and user.role in POOL_CLAIMING_ROLES


def can_configure_telephony(user: User) -> bool:
    """Telephony integrations, their secrets and extension maps: admins."""
    return user.is_active and user.is_admin


def can_configure_pool(user: User) -> bool:
    """The pool's limits: admins."""
    return user.is_active and user.is_admin


def pool_clients_visible_to(user: User, model: type[Company] | type[Contact]) -> QuerySet[Any]:
    """The companies or contacts in the pool (not in the trash), for those who see it; none for the others."""
    from rapport.clients.models import ClientStatus

    if not sees_pool(user):
        return model.objects.none()
    return model.objects.alive().filter(status=ClientStatus.POOL)


def client_for_pool_claim(user: User, model: type[Company] | type[Contact], client_id: int) -> Company | Contact:
    """The client a claim names: one the user sees, or one taken from the pool since the user saw it there (the
    claim is then refused, saying so, rather than answered 404); 404 for any other."""
    from rapport.clients.models import ClientTransfer, TransferKind

    visible = clients_visible_to(user, model).filter(pk=client_id).first()
    if visible is not None:
        return visible  # type: ignore[no-any-return]
    if not sees_pool(user):
        raise Http404
    taken = ClientTransfer.objects.filter(kind=TransferKind.POOL_CLAIM, **{model.__name__.lower(): OuterRef("pk")})
    once_in_pool: QuerySet[Any] = model.objects.alive().filter(Exists(taken))
    return get_object_or_404(once_in_pool, pk=client_id)  # type: ignore[no-any-return]
