"""docs/reliability.md's table counts the cases of the tests it names; this keeps every count
equal to the tests as they are (a case added to a table, or taken away, changes the count
the doc must state)."""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
#: A table row: | class | what is checked | count | sources |
ROW = re.compile(r"^\| (?P<name>[^|]+) \| [^|]+ \| (?P<count>\d+) \| (?P<sources>[^|]+) \|$")
SOURCE = re.compile(r"`tests/(?P<module>\w+)\.py::(?P<name>\w+)`")


def cases(module: str, name: str) -> int:
    """How many cases `name` of `tests/<module>.py` holds: the length of a table, the number
    of a test's parametrised cases (the product of its parametrisations), or 1 for a test."""
    found: Any = getattr(importlib.import_module(f"tests.{module}"), name)
    if isinstance(found, list | tuple):
        return len(found)
    assert callable(found), f"{module}::{name} is neither a table nor a test"
    sizes = [len(mark.args[1]) for mark in getattr(found, "pytestmark", [])
             if mark.name == "parametrize"]
    return math.prod(sizes)


def rows() -> list[tuple[str, int, list[tuple[str, str]]]]:
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and SOURCE.search(match["sources"]):
            sources = [(m["module"], m["name"]) for m in SOURCE.finditer(match["sources"])]
            found.append((match["name"].strip(), int(match["count"]), sources))
    return found


def test_every_count_in_the_reliability_table_is_what_its_tests_hold() -> None:
    table = rows()
    assert len(table) >= 10, "the table was not found"
    wrong = {name: (stated, sum(cases(module, test) for module, test in sources))
             for name, stated, sources in table}
    assert {name: pair for name, pair in wrong.items() if pair[0] != pair[1]} == {}


def test_the_total_is_the_sum_of_the_rows() -> None:
    total = re.search(r"\*\*(\d+) cases\*\*", DOC.read_text(encoding="utf-8"))
    assert total is not None
    assert int(total.group(1)) == sum(count for _, count, _ in rows())
