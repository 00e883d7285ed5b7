"""The project number (`p-10042`): one pattern for URLs, forms and services.

Numbers are stored in lower case; input may use either case (`P-10042`). At most 18 digits, so
the number part always fits the database's 64-bit integers.
"""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

PROJECT_NUMBER_REGEX = r"[pP]-[0-9]{1,18}"
_PROJECT_NUMBER = re.compile(PROJECT_NUMBER_REGEX)

INVALID_MESSAGE = _("Enter a project number like p-10042.")

validate_project_number = RegexValidator(rf"\A{PROJECT_NUMBER_REGEX}\Z", message=INVALID_MESSAGE)


def is_project_number(value) -> bool:
    return isinstance(value, str) and _PROJECT_NUMBER.fullmatch(value) is not None


class ProjectNumberConverter:
    """`<project_number:number>` in URLs: `p-10042` in any case, handed to the view in lower case."""

    regex = PROJECT_NUMBER_REGEX

    def to_python(self, value: str) -> str:
        return value.lower()

    def to_url(self, value: str) -> str:
        return str(value)
