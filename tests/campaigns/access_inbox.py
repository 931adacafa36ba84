"""Access cases for the inbox (站内消息): one's own messages only, writes by POST."""

from __future__ import annotations

from typing import Any

from branches.models import Message, MessageKind
from tests.access_matrix import ANON_REDIRECT, Case, Spec


def build_world(world: dict[str, Any]) -> None:
    world["inbox_message_a1"] = Message.objects.create(
        recipient=world["branch_secretary"], kind=MessageKind.NOTICE, title="通报", url="/campaigns/notices/"
    )


def _message(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["inbox_message_a1"].pk}


MATRIX: dict[str, Spec] = {
    "branches:inbox": Spec("authenticated", (ANON_REDIRECT,)),
    "branches:message_read": Spec(
        "authenticated",
        (
            Case("anonymous", "post", 302),
            # Somebody else's message does not exist for you.
            Case("branch_member", "post", 404),
            Case("committee_admin", "post", 404),
        ),
        args=_message,
        writes=True,
    ),
    "branches:inbox_read_all": Spec("authenticated", (Case("anonymous", "post", 302),), writes=True),
}
