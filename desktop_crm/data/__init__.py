"""The data layer: ORM models, sessions, migrations, services, import and export.

Nothing here imports Qt; the UI, the command line and the listeners all call these services
and never build SQL themselves.
"""
