"""Call events from telephony sources (SIP user agent, TAPI line, simulator); see issue 4.

``events.py`` defines what every source produces. Nothing here imports Qt.
"""
