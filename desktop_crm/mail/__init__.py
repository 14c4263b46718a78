"""Mail events from IMAP mailboxes; see issue 5.

Nothing lives here yet: the package exists so the layer rules (no Qt in the core) cover it from
the first line written into it.
"""
