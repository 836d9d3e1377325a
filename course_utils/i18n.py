"""The language of what course_utils prints: English, or Chinese from ``locale/zh.po``."""

from functools import cache
from importlib import resources

import polib

LANGUAGES = ("en", "zh")
_language = "en"


def set_language(language: str) -> None:
    """Print course_utils' messages in ``language`` ("en" or "zh") from now on."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    _language = language


def language() -> str:
    return _language


@cache
def _catalogue(language: str) -> dict[str, str]:
    path = resources.files("course_utils").joinpath("locale", f"{language}.po")
    entries = polib.pofile(path.read_text(encoding="utf-8"))
    return {e.msgid: e.msgstr for e in entries if e.msgstr and not e.fuzzy and not e.obsolete}


def _(message: str) -> str:
    """``message`` in the current language; English where the catalogue has no current entry."""
    return message if _language == "en" else _catalogue(_language).get(message, message)
