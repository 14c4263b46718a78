"""The ticket board (supervisors), "My tickets" (agents) and the ticket dialog.

The names load on first use (PEP 562), so walking the package tree (as the architecture test
does to prove the core is Qt-free) does not import Qt through this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "AgentFiguresModel": "models",
    "QueueFiguresModel": "models",
    "TicketListModel": "models",
    "MyTickets": "widgets",
    "TicketBoard": "widgets",
    "TicketListPane": "widgets",
    "TicketDialog": "dialog",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
