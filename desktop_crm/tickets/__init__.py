"""Tickets, queues and SLAs (issue 7): the clock, the services, assignment, escalation, the board.

No Qt here; see docs/architecture.md, "Tickets and SLAs".
"""
