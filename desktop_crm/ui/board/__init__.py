"""The ticket board (supervisors) and "My tickets" (agents); see docs/architecture.md."""

from .dialog import TicketDialog
from .models import AgentFiguresModel, QueueFiguresModel, TicketListModel
from .widgets import MyTickets, TicketBoard, TicketListPane

__all__ = [
    "AgentFiguresModel",
    "MyTickets",
    "QueueFiguresModel",
    "TicketBoard",
    "TicketDialog",
    "TicketListModel",
    "TicketListPane",
]
