"""Prints the fault tests' counts at the end of the run (sent / delivered / lost / duplicated /
recovery seconds), whatever `-r` says and also under pytest-xdist.

Tests record rows with the `fault_report` fixture; a row travels with the test's report
(`user_properties`), so the controlling process of pytest-xdist, which runs no test itself, sees it
too. Loaded from the root conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

import pytest

KEY = "fault_report"
COLUMNS = ["sent", "delivered", "lost", "duplicated", "recovery_s"]
_rows: list[dict] = []


class FaultReport:
    def __init__(self, item):
        self.item = item

    def record(self, scenario: str, **counts) -> dict:
        row = {"test": self.item.nodeid.split("::", 1)[-1], "scenario": scenario, **counts}
        self.item.user_properties.append((KEY, row))
        print(f"[fault report] {format_row(row)}")  # in the test's captured output as well
        return row


def format_row(row: dict) -> str:
    parts = [f"{row['scenario']}:"]
    for key, value in row.items():
        if key in ("test", "scenario"):
            continue
        parts.append(f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


@pytest.fixture
def fault_report(request) -> FaultReport:
    return FaultReport(request.node)


def pytest_runtest_logreport(report):
    if report.when == "call":
        _rows.extend(value for name, value in report.user_properties if name == KEY)


def pytest_terminal_summary(terminalreporter):
    if not _rows:
        return
    terminalreporter.write_sep("=", "fault tests: counts")
    header = ["scenario", *COLUMNS, "details"]
    table = [
        [
            row["scenario"],
            *(_cell(row.get(column)) for column in COLUMNS),
            " ".join(
                f"{key}={_cell(value)}" for key, value in row.items() if key not in {"test", "scenario", *COLUMNS}
            ),
        ]
        for row in _rows
    ]
    widths = [max(len(column), *(len(line[index]) for line in table)) for index, column in enumerate(header)]
    for line in [header, *table]:
        terminalreporter.write_line(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ",".join(f"{key}:{item}" for key, item in value.items())
    return f"{value:.2f}" if isinstance(value, float) else str(value)
