"""Demo teams and users: a head and managers per team, plus one of each other role."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from rapport.accounts.models import Role, Team, User
from rapport.core import demo
from rapport.core.models import Notification, NotificationLevel

# Well-known sign-ins for trying each role; the other demo users get numbered usernames.
PERSONA_USERNAMES = ["manager", "head", "operator", "marketer", "analyst", "agent"]

LOCALE_LANGUAGE = {"ru_RU": "ru", "vi_VN": "vi", "bg_BG": "bg", "en_US": "en"}
LOCALE_TIME_ZONE = {
    "ru_RU": "Europe/Moscow",
    "vi_VN": "Asia/Ho_Chi_Minh",
    "bg_BG": "Europe/Sofia",
    "en_US": "America/New_York",
}


def demo_users_exist() -> bool:
    return User.objects.filter(username="manager").exists()


@demo.generator(order=10)
def teams_and_users(context: demo.DemoContext) -> None:
    scale = context.scale
    password = make_password(demo.DEMO_PASSWORD)  # hashed once: hashing per user would take minutes
    teams = Team.objects.bulk_create(
        Team(name=_("Team %(number)s") % {"number": number + 1}) for number in range(scale.teams)
    )
    users: list[User] = []

    def person(username: str, role: str, team: Team | None, locale: str) -> User:
        fake = context.faker(locale)
        male = context.rng.random() < 0.5
        user = User(
            username=username,
            first_name=fake.first_name_male() if male else fake.first_name_female(),
            last_name=fake.last_name_male() if male else fake.last_name_female(),
            email=f"{username}@demo.rapport.invalid",
            role=role,
            team=team,
            password=password,
            time_zone=LOCALE_TIME_ZONE[locale],
        )
        users.append(user)
        return user

    heads = []
    for index, team in enumerate(teams):
        locale = demo.LOCALES[index % len(demo.LOCALES)]
        context.team_locale[team.pk] = locale
        heads.append(person("head" if index == 0 else f"head{index + 1}", Role.HEAD, team, locale))
        for number in range(scale.managers_per_team):
            serial = index * scale.managers_per_team + number + 1
            person("manager" if serial == 1 else f"manager{serial}", Role.MANAGER, team, locale)
    first_locale = context.team_locale[teams[0].pk]
    for role in (Role.OPERATOR, Role.MARKETER, Role.ANALYST):
        person(role.value, role, None, first_locale)
    person("agent", Role.AGENT, teams[0], first_locale)

    created = User.objects.bulk_create(users)
    for team, head in zip(teams, [user for user in created if user.role == Role.HEAD], strict=True):
        team.head = head
    Team.objects.bulk_update(teams, ["head"])

    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    membership = User.groups.through
    membership.objects.bulk_create(membership(user_id=user.pk, group_id=groups[user.role].pk) for user in created)

    context.teams = teams
    context.managers = [user for user in created if user.role == Role.MANAGER]
    for user in created:
        context.users_by_role.setdefault(user.role, []).append(user)
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            title=_("Welcome to Rapport"),
            body=_("Your clients, deals and plan live here. Start from the home page."),
            level=NotificationLevel.SUCCESS,
            url="/",
        )
        for user in created
    )
    context.log(f"  {len(teams)} teams, {len(created)} users")
