"""Call events from telephony sources (SIP user agent, TAPI line, simulator); see issue 4.

Nothing lives here yet: the package exists so the layer rules (no Qt in the core) cover it from
the first line written into it.
"""
