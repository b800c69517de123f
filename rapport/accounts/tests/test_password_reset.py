"""Password reset over a real SMTP conversation (aiosmtpd in the test process)."""

from __future__ import annotations

import re

from django.test import Client

from conftest import Mailbox
from rapport.accounts.models import User


def test_reset_link_arrives_by_mail_and_sets_a_new_password(manager: User, smtp_server: Mailbox) -> None:
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": manager.email})
    assert response.status_code == 302

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == manager.email
    assert message["Subject"] == "Set your Rapport password"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", body)
    assert link, body

    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1)
    response = client.post(set_url, {"new_password1": "fresh-start-2026", "new_password2": "fresh-start-2026"})
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("fresh-start-2026")

    # The link works once.
    reused = client.get(link.group(1), follow=True)
    assert "already been used or has expired" in reused.content.decode()


def test_unknown_address_gets_the_same_answer_and_no_mail(manager: User, smtp_server: Mailbox) -> None:
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "Check your mail" in response.content.decode()
    assert smtp_server.messages == []
