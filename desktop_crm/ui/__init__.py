"""The Qt desktop client. Everything that imports PySide6 lives here (and in ``app.py``).

Threading rule (docs/architecture.md): no Qt call from a Python worker thread, not even
``Signal.emit``; work off the GUI thread goes through :mod:`desktop_crm.ui.tasks`.
"""
