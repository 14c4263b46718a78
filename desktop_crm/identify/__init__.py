"""Caller and sender identification: dialling rules, caller IDs, senders, one resolver.

``resolve_caller`` (CTI), ``resolve_sender`` (mail) and ``resolve`` (search, command line) all
go through the same code and return a :class:`Resolution` with ranked :class:`Match` es.
"""

from __future__ import annotations

from .caller import CallerNumber, CallerStatus, Reading, read_caller_id
from .report import format_report, lookup_report, resolution_json
from .resolve import (
    Channel,
    Match,
    MatchedRecord,
    Reason,
    RecordKind,
    Resolution,
    remember_pick,
    resolve,
    resolve_caller,
    resolve_sender,
)
from .rules import DialingRules
from .sender import Sender, is_freemail, read_sender, sender_address

__all__ = [
    "CallerNumber",
    "CallerStatus",
    "Channel",
    "DialingRules",
    "Match",
    "MatchedRecord",
    "Reading",
    "Reason",
    "RecordKind",
    "Resolution",
    "Sender",
    "format_report",
    "is_freemail",
    "lookup_report",
    "read_caller_id",
    "read_sender",
    "remember_pick",
    "resolution_json",
    "resolve",
    "resolve_caller",
    "resolve_sender",
    "sender_address",
]
