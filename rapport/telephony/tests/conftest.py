"""The office's PBX as the telephony tests know it: extension 101 is the manager's, the head is on duty."""

from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.telephony.models import Extension, Integration


@pytest.fixture
def pbx(manager: User, head: User) -> Integration:
    integration = Integration.objects.create(name="office-pbx", region="US", duty_manager=head)
    Extension.objects.create(integration=integration, number="101", user=manager)
    return integration
