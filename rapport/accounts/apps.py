from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "rapport.accounts"
    label = "accounts"
    verbose_name = _("Users and teams")

    def ready(self) -> None:
        from rapport.accounts import roles, shell  # noqa: F401  (shell registers navigation and search)

        # Later apps add models and permissions, so role groups are brought up to date
        # after every migrate rather than frozen in one data migration.
        post_migrate.connect(roles.sync_role_groups_after_migrate, sender=self)
