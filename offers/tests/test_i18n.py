"""PLT-1 for offers: a complete German catalogue."""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_string_of_the_offers_app_is_translated():
    po = polib.pofile(str(CATALOGUE))
    assert [e.msgid for e in po if e.fuzzy] == []
    assert [e.msgid for e in po if not e.msgid_plural and not e.msgstr] == []
    assert [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())] == []
