"""Laws 1 and 2, per source: ``landing = bronze + rejects + duplicates`` (the landing side
counted by ``audit.landing``, independently of the pipeline) and ``bronze = silver +
quarantine``, each on the source's window: a snapshot CSV on its latest snapshot partition,
billing over every month, events over every ingested file (law 1) and every date (law 2)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cloud_analytics.audit.gather import Aggregate, Request, count
from cloud_analytics.audit.landing import csv_landing, event_files, jsonl_lines
from cloud_analytics.audit.report import AuditReport, Law, missing
from cloud_analytics.bronze.specs import CSV_SOURCES, EVENTS_DIR
from cloud_analytics.lib.progress import progress

EVENTS = "usage_events"
SOURCES: tuple[str, ...] = (*[s.name for s in CSV_SOURCES], EVENTS)
LEDGER = "_usage_events_ledger"


def requests() -> dict[str, Request]:
    """What laws 1 and 2 read from the lake."""
    out: dict[str, Request] = {}
    for source in CSV_SOURCES:
        out[f"bronze/{source.name}"] = count("bronze", source.name, (source.partition_column,))
        out[f"silver/{source.name}"] = count("silver", source.name, (source.partition_column,))
    for table in SOURCES:
        out[f"quarantine/{table}"] = count("quarantine", table, ("partition_date", "rule_id"))
    out["bronze/csv_rejects"] = count("bronze", "csv_rejects", ("source", "partition_key"))
    out[f"bronze/{EVENTS}"] = count("bronze", EVENTS)
    out[f"bronze/{EVENTS}_rejects"] = count("bronze", f"{EVENTS}_rejects")
    out[f"bronze/{LEDGER}"] = Aggregate("bronze", LEDGER, (
        ("duplicates", "sum(duplicates_in_batch + duplicates_existing)"),
        ("files", "array_distinct(flatten(collect_list(files)))")))
    out[f"silver/{EVENTS}"] = count("silver", EVENTS)
    return out


def _rows(grouped: dict | None, group) -> int:
    return grouped[group]["rows"] if grouped and group in grouped else 0


def csv_laws(facts: dict, report: AuditReport, landing: Path) -> dict[str, date | None]:
    """Law 1 for the CSV sources; returns each snapshot source's latest snapshot date."""
    from cloud_analytics.partitions import BILLING_START

    rejects = facts["bronze/csv_rejects"] or {}
    latest: dict[str, date | None] = {}
    for source in CSV_SOURCES:
        counts = report.counts[source.name]
        name = f"landing = bronze + rejects + duplicates: {source.name}"
        snapshot = source.partitioning == "snapshot"
        floor = None if snapshot else date.fromisoformat(BILLING_START)
        landed = csv_landing(Path(landing) / source.file_name, source, floor)
        counts["landing"] = landed.records
        counts["duplicates"] = landed.duplicates
        bronze = facts[f"bronze/{source.name}"]
        if bronze is None:
            if snapshot:
                latest[source.name] = None
            report.laws.append(missing(name, f"bronze/{source.name}"))
            continue
        if snapshot:
            day = max(bronze) if bronze else None
            latest[source.name] = day
            report.windows[source.name] = f"snapshot {day}"
            counts["bronze"] = _rows(bronze, day)
            counts["rejects"] = _rows(rejects, (source.name, day.isoformat() if day else ""))
        else:
            months = sorted(bronze)
            report.windows[source.name] = f"months {months[0]:%Y-%m}..{months[-1]:%Y-%m}" if months else "months"
            counts["bronze"] = sum(r["rows"] for r in bronze.values())
            counts["rejects"] = _rows(rejects, (source.name, "invalid"))
        balance = counts["bronze"] + counts["rejects"] + counts["duplicates"]
        report.laws.append(Law(name, landed.records == balance,
                               f"{landed.records:,} landed = {counts['bronze']:,} bronze + {counts['rejects']:,} "
                               f"rejects + {counts['duplicates']:,} duplicates ({report.windows[source.name]})"
                               + ("" if landed.records == balance else
                                  f"; difference {landed.records - balance:+,}")))
    return latest


def events_law(facts: dict, report: AuditReport, lake: Path | str, landing: Path) -> None:
    """Law 1 for the events: the lines of the files the stream's ledger lists."""
    counts = report.counts[EVENTS]
    name = f"landing = bronze + rejects + duplicates: {EVENTS}"
    report.windows[EVENTS] = "every event date"
    bronze, ledger = facts[f"bronze/{EVENTS}"], facts[f"bronze/{LEDGER}"]
    if bronze is None or ledger is None:
        report.laws.append(missing(name, f"bronze/{EVENTS}" if bronze is None else f"bronze/{LEDGER}"))
        return
    files = event_files(ledger["files"] or [], lake, Path(landing) / EVENTS_DIR)
    counts["landing"] = sum(jsonl_lines(p) for p in progress(files.ingested, desc="audit: landed event files",
                                                             unit=" files"))
    counts["bronze"] = bronze["rows"]
    counts["rejects"] = (facts[f"bronze/{EVENTS}_rejects"] or {}).get("rows", 0)
    counts["duplicates"] = int(ledger["duplicates"] or 0)
    balance = counts["bronze"] + counts["rejects"] + counts["duplicates"]
    detail = (f"{counts['landing']:,} lines in {len(files.ingested)} ingested files = {counts['bronze']:,} bronze + "
              f"{counts['rejects']:,} rejects + {counts['duplicates']:,} duplicates")
    if counts["landing"] != balance:
        detail += f"; difference {counts['landing'] - balance:+,}"
    if files.gone:
        detail += f"; {len(files.gone)} ingested file(s) no longer in landing, e.g. {files.gone[0]}"
    report.laws.append(Law(name, counts["landing"] == balance and not files.gone, detail))
    if files.pending:
        lines = sum(jsonl_lines(p) for p in files.pending)
        report.notes.append(f"{len(files.pending)} landed event file(s) ({lines:,} lines) not ingested yet, "
                            f"e.g. {files.pending[0].name}: the next stream run reads them")


def silver_laws(facts: dict, report: AuditReport, snapshots: dict[str, date | None]) -> None:
    """Law 2: bronze = silver + quarantine, per silver table, on the source's window."""
    for table in SOURCES:
        counts = report.counts[table]
        name = f"bronze = silver + quarantine: {table}"
        silver, quarantine = facts[f"silver/{table}"], facts[f"quarantine/{table}"]
        if counts["bronze"] is None:
            continue  # law 1 already says bronze is missing
        if silver is None:
            report.laws.append(missing(name, f"silver/{table}"))
            continue
        if table == EVENTS:
            window = None  # every date
            counts["silver"] = silver["rows"]
        elif table in snapshots:
            window = snapshots[table]
            counts["silver"] = _rows(silver, window)
        else:  # billing: every month
            window = None
            counts["silver"] = sum(r["rows"] for r in silver.values())
        rules: dict[str, int] = {}
        for (day, rule), row in (quarantine or {}).items():
            if window is None or day == window:
                rules[rule] = rules.get(rule, 0) + row["rows"]
        report.quarantine_rules[table] = dict(sorted(rules.items()))
        counts["quarantine"] = sum(rules.values())
        ok = counts["bronze"] == counts["silver"] + counts["quarantine"]
        report.laws.append(Law(name, ok, f"{counts['bronze']:,} bronze = {counts['silver']:,} silver + "
                                         f"{counts['quarantine']:,} quarantined ({report.windows[table]})"
                               + ("" if ok else f"; difference "
                                  f"{counts['bronze'] - counts['silver'] - counts['quarantine']:+,}")))
