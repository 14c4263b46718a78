"""The ``desktop-crm lookup`` output: a JSON-able report and its human-readable text."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from desktop_crm.data.phone import format_international, normalize_phone

from .resolve import Match, RecordKind, Resolution, resolve
from .rules import DialingRules


def match_json(match: Match) -> dict[str, Any]:
    return {
        "contact_id": match.contact_id,
        "organization_id": match.organization_id,
        "name": match.record.name,
        "organization": match.record.organization
        if match.record.kind is not RecordKind.ORGANIZATION
        else match.record.name,
        "matched": match.matched,
        "reason": str(match.reason),
        "score": round(match.score, 3),
    }


def resolution_json(resolution: Resolution) -> dict[str, Any]:
    return {
        "query": resolution.query,
        "normalized": resolution.normalized,
        "matches": [match_json(m) for m in resolution.matches],
    }


def lookup_report(session: Session, value: str, rules: DialingRules) -> dict[str, Any]:
    """``{"query", "normalized", "matches": [{contact_id, organization_id, name, organization,
    matched, reason, score}]}`` for a number or address; an empty list when nothing matches."""
    return resolution_json(resolve(session, value, rules))


def _extension(normalized: str, matched: str) -> str | None:
    stored = normalize_phone(matched)
    base = stored.base_e164 or stored.e164
    if base and normalized.startswith(base) and len(normalized) > len(base):
        return normalized[len(base) :]
    return None


def format_report(report: dict[str, Any]) -> str:
    """The report as lines for a terminal."""
    normalized = report.get("normalized")
    query = str(report.get("query", ""))
    if normalized and normalized.startswith("+"):
        shown = format_international(normalized)
    else:
        shown = normalized or query
    matches = report.get("matches") or []
    if normalized is None:
        head = f"{query!r}: withheld or not a number, matches nobody"
    elif not matches:
        what = "sender" if "@" in normalized else "caller"
        head = f"{shown}: unknown {what}"
    else:
        head = f"{shown}: {len(matches)} match{'es' if len(matches) != 1 else ''}"
    lines = [head]
    for number, m in enumerate(matches, start=1):
        name = m.get("name") or "(no name)"
        org = m.get("organization") or ""
        who = f"{name} ({org})" if org and org != name else name
        detail = str(m.get("reason"))
        if m.get("reason") == "switchboard" and normalized and normalized.startswith("+"):
            ext = _extension(normalized, str(m.get("matched", "")))
            if ext:
                detail += f", extension {ext}"
        lines.append(
            f"  {number}. {who} — {detail}, stored as {m.get('matched')!s}, "
            f"score {float(m.get('score', 0)):.2f}"
        )
    return "\n".join(lines)
