#!/usr/bin/env python3
"""Modern-engine check: the Lintas schema and query pack on current ClickHouse, through chDB.

The only ClickHouse server installable here is 18.16; chDB (PyPI `chdb-core`) is ClickHouse
26.x in-process. This script asks the Rust code for everything it feeds to chDB, so what is
checked is what production sends:

1. `cargo run -p lintas-clickhouse --example write_fixture` renders, for chDB's version:
   the migrations (the modern variant: LowCardinality, DateTime64, Map, TTL, deduplication
   windows), the query-pack fixture as RowBinary from the sink's encoder plus the same rows
   as JSON, and every expected answer's query rendered with its parameters.
2. Here: create the schema, load the RowBinary twice with the same insert_deduplication_token
   (the retry must be dropped, also by the rollups), compare every value read back with the
   JSON, check the modern columns and the rollups, run every query of the pack and compare
   with sql/queries/expected/.

Run by the `chdb` step of scripts/test.sh (which installs chdb-core into a venv), or by hand
with a Python that has chdb-core: `python scripts/chdb_check.py`. Ends with a line
`chdb: N passed, M failed` and exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "lintas"
# Exercised so the TTL clause is rendered and accepted; long enough to keep the 2026 fixture.
TTL_DAYS = 3650
TOKEN = "lintas.interactions.classified.v1/0/0-19"


def unescape_tsv(field: str) -> str:
    """Undo TabSeparated escapes (the same rules as lintas_clickhouse::query::parse_tsv)."""
    out = []
    chars = iter(field)
    escapes = {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "b": "\b", "f": "\f"}
    for c in chars:
        if c != "\\":
            out.append(c)
            continue
        nxt = next(chars, None)
        out.append("\\" if nxt is None else escapes.get(nxt, nxt))
    return "".join(out)


def parse_tsv(text: str) -> list[list[str]]:
    return [[unescape_tsv(f) for f in line.split("\t")] for line in text.splitlines()]


class Engine:
    """One chDB session; `tsv` returns the answer's rows."""

    def __init__(self) -> None:
        try:
            from chdb import session  # noqa: PLC0415 (a clear message when it is missing)
        except ImportError:
            sys.exit("chdb_check: the chdb-core package is missing: pip install chdb-core")
        self.session = session.Session()

    def run(self, sql: str) -> str:
        return self.session.query(sql, "TabSeparated").bytes().decode()

    def tsv(self, sql: str, fmt: str = "TabSeparated") -> list[list[str]]:
        return parse_tsv(self.session.query(sql, fmt).bytes().decode())

    def scalar(self, sql: str) -> str:
        rows = self.tsv(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, f"one value expected from {sql}: {rows}"
        return rows[0][0]


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Exception:  # noqa: BLE001 (every failure is reported, then the next check runs)
            self.failed += 1
            print(f"FAIL {name}")
            print("     " + traceback.format_exc().strip().replace("\n", "\n     "))
        else:
            self.passed += 1
            print(f"ok   {name}")


def statements(script: str) -> list[str]:
    """Split `lintas migrate --dry-run` output: comment lines dropped, `;` at line ends."""
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    return [s.strip() for s in re.split(r";\n", body) if s.strip()]


def write_fixture(out: Path, version: str) -> None:
    cargo = os.environ.get("CARGO", "cargo")
    command = [
        cargo, "run", "--quiet", "--locked", "-p", "lintas-clickhouse",
        "--example", "write_fixture", "--", str(out), version, str(TTL_DAYS),
    ]
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep", type=Path, help="write the generated files here and keep them")
    args = parser.parse_args()

    engine = Engine()
    version = engine.scalar("SELECT version()")
    print(f"chdb: ClickHouse {version} in-process")
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="lintas-chdb-") as tmp:
        out = args.keep or Path(tmp)
        write_fixture(out, version)
        run_checks(engine, checks, out)
    print(f"chdb: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def run_checks(engine: Engine, checks: Checks, out: Path) -> None:
    columns = (out / "columns.txt").read_text().split()
    expected_rows = [json.loads(line) for line in (out / "fixture.jsonl").read_text().splitlines()]
    pack = json.loads((out / "pack.json").read_text())

    def create_schema() -> None:
        script = (out / "schema.sql").read_text()
        assert "modern schema" in script.splitlines()[0], script.splitlines()[0]
        for statement in statements(script):
            engine.run(statement)
        ddl = engine.scalar(f"SHOW CREATE TABLE {DATABASE}.interactions")
        for feature in [
            "`tenant_id` LowCardinality(String)",
            "`occurred_at64` DateTime64(6, 'UTC')",
            "`attributes` Map(String, String)",
            f"TTL occurred_at + toIntervalDay({TTL_DAYS})",
            "non_replicated_deduplication_window = 1000",
        ]:
            assert feature in ddl, f"{feature!r} not in {ddl}"

    checks.check("modern schema created by the rendered migrations", create_schema)

    stored: list[list[str]] = []

    def stored_columns_are_the_insert_columns() -> None:
        stored.extend(engine.tsv(
            f"SELECT name, type FROM system.columns WHERE database = '{DATABASE}' "
            "AND table = 'interactions' AND default_kind = '' ORDER BY position"
        ))
        assert [name for name, _ in stored] == columns, stored

    checks.check("stored columns are the encoder's columns, in order", stored_columns_are_the_insert_columns)

    def load_twice() -> None:
        structure = ", ".join(f"{name} {ty}" for name, ty in stored)
        # A string literal: the Enum8 member names inside are quoted too.
        structure = structure.replace("\\", "\\\\").replace("'", "\\'")
        insert = (
            f"INSERT INTO {DATABASE}.interactions ({', '.join(columns)}) "
            f"SETTINGS insert_deduplication_token = '{TOKEN}', "
            "deduplicate_blocks_in_dependent_materialized_views = 1 "
            f"SELECT * FROM file('{out / 'fixture.bin'}', RowBinary, '{structure}')"
        )
        engine.run(insert)
        parts_after_first = engine.scalar(
            f"SELECT count() FROM system.parts WHERE database = '{DATABASE}' AND active"
        )
        # The sink's retry of the same batch: the same token, dropped by every table.
        engine.run(insert)
        parts_after_retry = engine.scalar(
            f"SELECT count() FROM system.parts WHERE database = '{DATABASE}' AND active"
        )
        assert parts_after_retry == parts_after_first, (parts_after_first, parts_after_retry)
        rows = engine.scalar(
            f"SELECT sum(r) FROM (SELECT countMerge(rows) AS r FROM {DATABASE}.interactions_volume_hourly)"
        )
        assert rows == str(len(expected_rows)), f"rollup counted {rows} rows, sent {len(expected_rows)}"

    checks.check("RowBinary loads; a retried batch (same token) is dropped, rollups too", load_twice)

    def values_read_back() -> None:
        # Enums as their numbers and 64-bit integers unquoted: the JSON the encoder's rows
        # serialize to. Rows of one event are collapsed on insert (ReplacingMergeTree), so
        # compare per event with the newest row of each (the highest Kafka offset).
        select = []
        for name, ty in stored:
            if ty.startswith("Array(Enum8"):
                select.append(f"arrayMap(x -> toInt8(x), {name}) AS {name}")
            elif ty.startswith("Enum8"):
                select.append(f"toInt8({name}) AS {name}")
            else:
                select.append(name)
        text = engine.session.query(
            f"SELECT {', '.join(select)} FROM {DATABASE}.interactions FINAL ORDER BY event_id "
            "SETTINGS output_format_json_quote_64bit_integers = 0",
            "JSONEachRow",
        ).bytes().decode()
        got = [json.loads(line) for line in text.splitlines()]
        newest: dict[str, dict] = {}
        for row in expected_rows:
            if row["event_id"] not in newest or row["kafka_offset"] > newest[row["event_id"]]["kafka_offset"]:
                newest[row["event_id"]] = row
        want = [newest[k] for k in sorted(newest)]
        assert len(got) == len(want) == 18, (len(got), len(want))
        for g, w in zip(got, want):
            assert g == w, f"event {w['event_id']}:\n got  {g}\n want {w}"

    checks.check("every value read back equals the encoder's row", values_read_back)

    def modern_columns() -> None:
        rows = engine.tsv(
            f"SELECT toString(occurred_at64), toString(occurred_at), toString(attributes) "
            f"FROM {DATABASE}.interactions FINAL WHERE source_event_id = 'src-4'"
        )
        assert rows == [[
            "2026-03-05 10:00:00.250000",
            "2026-03-05 10:00:00",
            "{'campaign':'ramadan','order_number':'1042'}",
        ]], rows

    checks.check("DateTime64 and Map columns are computed from the stored ones", modern_columns)

    def rollups() -> None:
        first_response = engine.tsv(
            "SELECT conversation_id, intDiv(minIfMerge(first_reply_us) - minIfMerge(first_inbound_us), 1000000), "
            f"argMinIfMerge(first_reply_agent) FROM {DATABASE}.conversation_first_response "
            "WHERE tenant_id = 'acme-shop' GROUP BY conversation_id ORDER BY conversation_id"
        )
        assert first_response == [
            ["wa:101", "300", "agent:ana"],
            ["wa:103", "120", "bot:faq"],
            ["zendesk_ticket:7", "3600", "agent:budi"],
        ], first_response
        feedback = engine.tsv(
            "SELECT day, rating_scale, uniqMerge(answers), avgMerge(value_avg), countIfMerge(promoters), "
            f"countIfMerge(satisfied) FROM {DATABASE}.feedback_daily WHERE tenant_id = 'acme-shop' "
            "GROUP BY day, rating_scale ORDER BY day"
        )
        assert feedback == [
            ["2026-03-06", "nps", "1", "9", "1", "1"],
            ["2026-03-11", "csat", "1", "2", "0", "0"],
            ["2026-04-03", "stars", "1", "5", "0", "1"],
        ], feedback
        volume = engine.tsv(
            "SELECT sum(i), sum(c) FROM (SELECT uniqMerge(interactions) AS i, uniqIfMerge(customers) AS c "
            f"FROM {DATABASE}.interactions_volume_hourly WHERE tenant_id = 'acme-shop' "
            "GROUP BY hour, channel, interaction_type, journey_stage, direction)"
        )
        assert volume == [["17", "16"]], volume

    checks.check("rollups hold the fixture's figures", rollups)

    engine.run(f"USE {DATABASE}")
    for case in pack:
        def run_case(case: dict = case) -> None:
            got = engine.tsv(case["sql"], "TabSeparatedWithNames")
            assert got == case["expected"], (
                f"{case['file']}:\n got  {got}\n want {case['expected']}\n{case['sql']}"
            )

        checks.check(f"query pack: {case['file']}", run_case)
    names = {case["query"] for case in pack}
    checks.check(
        "every query of the pack was run",
        lambda: assert_equal(names, {p.stem for p in (ROOT / "sql" / "queries").glob("*.sql")}),
    )


def assert_equal(got: object, want: object) -> None:
    assert got == want, f"got {got}, want {want}"


if __name__ == "__main__":
    sys.exit(main())
