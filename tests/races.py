"""Races on real PostgreSQL: functions started together in threads, each with its own connection."""

from __future__ import annotations

import threading

from django.db import connection


def run_together(*functions):
    """Run the functions in threads released by one barrier; return ("ok", result) or ("error", error)."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", function())
        except Exception as error:  # noqa: BLE001 - the loser's error is the point
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def one_winner(results, loser_type=Exception):
    """Exactly one function succeeded; the other raised `loser_type`. Returns the winner's result."""
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    loser = next(value for kind, value in results if kind == "error")
    assert isinstance(loser, loser_type), repr(loser)
    return next(value for kind, value in results if kind == "ok")
