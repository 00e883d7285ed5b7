"""Compile every `locale/*/LC_MESSAGES/*.po` to `.mo` with polib.

Django's `compilemessages` needs GNU gettext's `msgfmt`, which a fresh machine with only Python
does not have; polib is pure Python and writes the same `.mo` files.
"""

from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the .po translation files to .mo (no GNU gettext needed)."

    def handle(self, *args, **options):
        roots = [Path(p) for p in settings.LOCALE_PATHS]
        roots += [
            Path(config.path) / "locale"
            for config in apps.get_app_configs()
            # only the project's own apps, never installed packages inside the virtualenv
            if Path(config.path).is_relative_to(settings.BASE_DIR) and "site-packages" not in Path(config.path).parts
        ]
        compiled = 0
        for root in roots:
            for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation file(s).")
