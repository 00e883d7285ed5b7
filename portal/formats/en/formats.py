"""English output formats (issue 16): one date format everywhere, in pages, emails and PDFs.

"2 Dec 2026" and "2 Dec 2026, 21:43" – day first and a 24-hour clock, as the portal's
readers in Europe expect; the short formats are the same so that no page mixes two styles.
Input formats are Django's own (this module only overrides what it defines).
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
