"""Language of the desktop client: German or English, from the ``ui.language`` setting.

Source strings are English (``tr()`` / ``QCoreApplication.translate``). German comes from a
compiled Qt catalogue, ``translations/desktop_crm_de.qm``, built from the translator's file
``resources/translations/desktop_crm_de.ts`` with ``resources/translations/update.py``
(pyside6-lupdate + pyside6-lrelease, both shipped with PySide6-Essentials). Qt's own catalogue
(``qtbase_de.qm``) translates the standard buttons and context menus.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

LANGUAGES = ("de", "en")
TRANSLATIONS_DIR = Path(__file__).with_name("translations")
CATALOGUE = "desktop_crm"

_installed: list[QTranslator] = []


def resolve_language(setting: str) -> str:
    """``de`` or ``en``; ``system`` means German on a German-speaking system, else English."""
    if setting in LANGUAGES:
        return setting
    return "de" if QLocale.system().language() == QLocale.Language.German else "en"


def install_translators(app: QCoreApplication, setting: str) -> str:
    """Switch the application to the language ``setting`` names; returns ``de`` or ``en``.

    Replaces the translators an earlier call installed, so this can be called again (tests do).
    Widgets made before the switch keep their texts.
    """
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    language = resolve_language(setting)
    if language == "en":
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
        return language
    locale = QLocale(QLocale.Language.German, QLocale.Country.Germany)
    QLocale.setDefault(locale)
    own = QTranslator(app)
    if own.load(locale, CATALOGUE, "_", str(TRANSLATIONS_DIR)):
        _installed.append(own)
    else:
        log.warning("German translations not found in %s; showing English", TRANSLATIONS_DIR)
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        _installed.append(qt)
    for translator in _installed:
        app.installTranslator(translator)
    return language
