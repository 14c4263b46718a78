"""Stored codes in words."""

from __future__ import annotations

from typing import Any

from desktop_crm.data.models import Direction
from desktop_crm.ui import labels


def test_an_unanswered_outgoing_call_was_not_reached(qapp: Any) -> None:
    assert labels.outcome("missed", Direction.INBOUND) == "missed"
    assert labels.outcome("missed", Direction.OUTBOUND) == "not reached"
    assert labels.outcome("something new") == "something new"  # unknown: as stored
