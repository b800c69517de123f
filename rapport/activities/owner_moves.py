"""Open activities follow their client: when a client changes owner, its planned activities that the
previous owner held become the new owner's (registered with ``clients.services.register_owner_moved``).

Only the client's own: a company's activities that name one of its contact people belong to that
contact, and move when the contact moves. Done and cancelled ones stay with who did them (they are
history). A client going into the pool leaves its planned activities with the previous owner
meanwhile: the pool has nobody to do them, and they would drop out of every "my day". Whoever takes
the client out of the pool gets them (``clients.services`` names that owner as ``previous``).
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity
from rapport.clients.models import Company, Contact
from rapport.clients.services import register_owner_moved


def planned_activities_follow(client: Company | Contact, previous: User | None, new_owner: User | None) -> int:
    """Give the client's planned activities held by ``previous`` to ``new_owner``; how many moved. One query."""
    if previous is None or new_owner is None or previous.pk == new_owner.pk:
        return 0
    own = {"contact_id": client.pk} if isinstance(client, Contact) else {"company_id": client.pk, "contact": None}
    # A version bump: a form drawn before the move is refused rather than silently giving it back.
    return (
        Activity.objects.planned()
        .filter(owner=previous, **own)
        .update(owner=new_owner, version=F("version") + 1, updated_at=timezone.now())
    )


register_owner_moved(planned_activities_follow)
