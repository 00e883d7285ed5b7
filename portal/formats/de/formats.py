"""German output formats (issue 16): "2. Dez. 2026" and "2. Dez. 2026, 21:43" everywhere.

`N` is the abbreviated month with Django's German translations ("Dez.", "März", "Juni").
"""

DATE_FORMAT = "j. N Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j. N Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j. N"
YEAR_MONTH_FORMAT = "F Y"
