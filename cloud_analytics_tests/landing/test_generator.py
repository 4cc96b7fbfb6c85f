"""The generated landing dataset matches every published figure of landing-dataset.md.

Files are read back with csv/json only; expected figures are the spec's numbers, written
literally (never computed from the generator's own helpers).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from cloud_analytics.landing.generator import EVENTS_DIR, EXPECTED_FILES, generate

CSV_NAMES = ["customers_orgs.csv", "users.csv", "resources.csv", "billing_monthly.csv",
             "support_tickets.csv", "marketing_touches.csv", "nps_surveys.csv"]
SCALE1_COUNTS = {"customers_orgs": 80, "users": 800, "resources": 400, "billing_monthly": 240,
                 "support_tickets": 1000, "marketing_touches": 1500, "nps_surveys": 92,
                 "usage_events": 43200}
REGIONS = {"sa-east", "us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast"}
SERVICES = {"compute", "storage", "database", "networking", "analytics", "genai"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FLOAT = re.compile(r"^-?\d+\.\d+$")


# ------------------------------------------------------------------------------ fixtures


def _read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _event_files(folder: Path) -> list[Path]:
    return sorted((folder / "usage_events_stream").glob("*.jsonl"))


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing_scale1")
    counts = generate(out, scale=1, seed=42)
    return out, counts


@pytest.fixture(scope="module")
def land(generated) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def t(land):
    """All CSV tables, as lists of dicts of strings."""
    return {name[:-4]: _read_csv(land, name) for name in CSV_NAMES}


@pytest.fixture(scope="module")
def events(land):
    """(file name, raw line, parsed event) for every line of every event file."""
    out = []
    for path in _event_files(land):
        with open(path, encoding="utf-8", newline="") as f:
            for line in f:
                out.append((path.name, line, json.loads(line)))
    return out


@pytest.fixture(scope="module")
def evs(events):
    return [e for _, _, e in events]


def _none(value: str):
    return None if value == "" else value


def _nulls(rows, column) -> int:
    return sum(1 for r in rows if r[column] == "")


def _signups(t) -> dict[str, str]:
    return {o["org_id"]: o["signup_date"] for o in t["customers_orgs"]}


# ------------------------------------------------------------------------------ layout and formats


def test_constants():
    assert EXPECTED_FILES == tuple(CSV_NAMES)
    assert EVENTS_DIR == "usage_events_stream"


def test_layout_and_returned_counts(generated):
    land, counts = generated
    assert counts == SCALE1_COUNTS
    top = sorted(p.name for p in land.iterdir())
    assert top == sorted(CSV_NAMES + ["usage_events_stream"])
    names = sorted(p.name for p in (land / "usage_events_stream").iterdir())
    assert names == [f"events_part_{i:04d}.jsonl" for i in range(120)]
    assert not [p for p in land.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_csv_headers_and_row_counts(land, t):
    headers = {
        "customers_orgs": "org_id,org_name,industry,hq_region,plan_tier,is_enterprise,signup_date,"
                          "sales_rep,lifecycle_stage,marketing_source,nps_score",
        "users": "user_id,org_id,email,role,active,created_at,last_login",
        "resources": "resource_id,org_id,service,region,created_at,state,tags_json",
        "billing_monthly": "invoice_id,org_id,month,subtotal,credits,taxes,currency,exchange_rate_to_usd",
        "support_tickets": "ticket_id,org_id,category,severity,created_at,resolved_at,csat,sla_breached",
        "marketing_touches": "touch_id,org_id,campaign,channel,timestamp,clicked,converted",
        "nps_surveys": "org_id,survey_date,nps_score,comment",
    }
    rows = {"customers_orgs": 80, "users": 800, "resources": 400, "billing_monthly": 240,
            "support_tickets": 1000, "marketing_touches": 1500, "nps_surveys": 92}
    for stem, header in headers.items():
        raw = (land / f"{stem}.csv").read_bytes()
        assert b"\r" not in raw
        assert raw.decode().split("\n")[0] == header
        assert len(t[stem]) == rows[stem]


def test_csv_value_formats(land, t):
    booleans = [("customers_orgs", "is_enterprise"), ("users", "active"),
                ("support_tickets", "sla_breached"), ("marketing_touches", "clicked"),
                ("marketing_touches", "converted")]
    for stem, col in booleans:
        assert {r[col] for r in t[stem]} == {"True", "False"}, (stem, col)
    dates = [("customers_orgs", "signup_date"), ("users", "created_at"), ("users", "last_login"),
             ("resources", "created_at"), ("billing_monthly", "month"),
             ("support_tickets", "created_at"), ("support_tickets", "resolved_at"),
             ("marketing_touches", "timestamp"), ("nps_surveys", "survey_date")]
    for stem, col in dates:
        assert all(DATE.match(r[col]) for r in t[stem] if r[col]), (stem, col)
    floats = [("customers_orgs", "nps_score"), ("billing_monthly", "subtotal"),
              ("billing_monthly", "credits"), ("billing_monthly", "taxes"),
              ("billing_monthly", "exchange_rate_to_usd"), ("support_tickets", "csat"),
              ("nps_surveys", "nps_score")]
    for stem, col in floats:
        assert all(FLOAT.match(r[col]) for r in t[stem] if r[col]), (stem, col)
    assert '"[""' in (land / "resources.csv").read_text()


def test_ids_format_and_unique(t, evs):
    specs = [("customers_orgs", "org_id", "org"), ("users", "user_id", "user"),
             ("resources", "resource_id", "res"), ("billing_monthly", "invoice_id", "inv"),
             ("support_tickets", "ticket_id", "tkt"), ("marketing_touches", "touch_id", "mkt")]
    for stem, col, prefix in specs:
        values = [r[col] for r in t[stem]]
        assert all(re.fullmatch(prefix + r"_[a-z0-9]{8}", v) for v in values), stem
        assert len(set(values)) == len(values), stem
    event_ids = [e["event_id"] for e in evs]
    assert all(re.fullmatch(r"evt_[a-z0-9]{12}", v) for v in event_ids)
    assert len(set(event_ids)) == 43200


# ------------------------------------------------------------------------------ CSV sources


def test_customers_orgs(t):
    orgs = t["customers_orgs"]
    assert len(orgs) == 80
    for i, o in enumerate(orgs):
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ " + str(i), o["org_name"])
    assert {o["industry"] for o in orgs} <= {"Education", "Media", "Manufacturing", "E-commerce",
                                             "Retail", "Healthcare", "Energy", "Fintech", "Gaming",
                                             "Government"}
    assert {o["hq_region"] for o in orgs} <= REGIONS
    assert {o["plan_tier"] for o in orgs} == {"free", "standard", "pro", "enterprise"}
    enterprise = [o for o in orgs if o["plan_tier"] == "enterprise"]
    assert len(enterprise) == 10
    assert sum(o["is_enterprise"] == "True" for o in enterprise) == 1
    assert sum(o["is_enterprise"] == "True" for o in orgs if o["plan_tier"] != "enterprise") == 16
    disagree = sum((o["plan_tier"] == "enterprise") != (o["is_enterprise"] == "True") for o in orgs)
    assert disagree == 25
    signups = [o["signup_date"] for o in orgs]
    assert (min(signups), max(signups)) == ("2025-05-04", "2025-07-02")
    assert {o["sales_rep"] for o in orgs} <= {"rep_a", "rep_b", "rep_c", "rep_d", "rep_e"}
    assert {o["lifecycle_stage"] for o in orgs} <= {"lead", "prospect", "active", "at_risk", "churned"}
    assert {o["marketing_source"] for o in orgs} <= {"partner", "event", "organic", "ads", "referral"}
    assert _nulls(orgs, "nps_score") == 11
    nps = [float(o["nps_score"]) for o in orgs if o["nps_score"]]
    assert [s for s in nps if not -100 <= s <= 100] == [101.0]
    inside = [s for s in nps if s != 101.0]
    assert (min(inside), max(inside)) == (-38.0, 100.0)
    assert abs(statistics.fmean(nps) - 18.7) < 0.1


def test_users(t):
    users, signup = t["users"], _signups(t)
    assert len(users) == 800
    per_org = Counter(u["org_id"] for u in users)
    assert set(per_org) == set(signup)
    assert (min(per_org.values()), max(per_org.values())) == (3, 19)
    assert statistics.fmean(per_org.values()) == 10
    assert all(u["email"] == f"{u['user_id']}@example.com" for u in users)
    assert {u["role"] for u in users} <= {"admin", "developer", "devops", "data_engineer",
                                          "ml_engineer", "analyst"}
    assert sum(u["active"] == "True" for u in users) == 728
    created = [u["created_at"] for u in users]
    assert (min(created), max(created)) == ("2025-05-04", "2025-08-11")
    logins = [u["last_login"] for u in users if u["last_login"]]
    assert (min(logins), max(logins)) == ("2025-05-14", "2025-08-31")
    assert _nulls(users, "last_login") == 139
    assert sum(1 for u in users if u["last_login"] and u["last_login"] < u["created_at"]) == 232
    assert sum(1 for u in users if u["created_at"] < signup[u["org_id"]]) == 249


def test_resources(t):
    resources, signup = t["resources"], _signups(t)
    assert len(resources) == 400
    per_org = Counter(r["org_id"] for r in resources)
    assert set(per_org) <= set(signup)
    assert (min(per_org.values()), max(per_org.values())) == (1, 11)
    assert statistics.fmean(per_org.values()) == 5
    assert {r["service"] for r in resources} == SERVICES
    assert {r["region"] for r in resources} == REGIONS
    created = [r["created_at"] for r in resources]
    assert (min(created), max(created)) == ("2025-05-04", "2025-08-21")
    assert sum(1 for r in resources if r["created_at"] < signup[r["org_id"]]) == 119
    assert Counter(r["state"] for r in resources) == {"running": 242, "stopped": 119, "terminated": 39}
    assert _nulls(resources, "tags_json") == 83
    tags = [json.loads(r["tags_json"]) for r in resources if r["tags_json"]]
    allowed = {"env:prod", "env:dev", "team:core", "team:ml", "costcenter:alpha", "costcenter:beta",
               "pii:true", "backup:daily"}
    assert all(isinstance(tl, list) and tl and set(tl) <= allowed for tl in tags)
    assert sum("pii:true" in tl for tl in tags) == 85


def test_billing_monthly(t):
    bills = t["billing_monthly"]
    assert len(bills) == 240
    months = defaultdict(list)
    for b in bills:
        months[b["org_id"]].append(b["month"])
    assert set(months) == set(_signups(t))
    assert all(sorted(m) == ["2025-06-01", "2025-07-01", "2025-08-01"] for m in months.values())
    subtotal = [float(b["subtotal"]) for b in bills]
    assert (min(subtotal), max(subtotal)) == (-1671.83, 2237.39)
    assert sum(s < 0 for s in subtotal) == 13
    assert abs(statistics.fmean(subtotal) - 717) < 5
    assert _nulls(bills, "credits") == 137
    credits = [float(b["credits"]) for b in bills if b["credits"]]
    assert (min(credits), max(credits)) == (0.0, 79.06)
    taxes = [float(b["taxes"]) for b in bills]
    assert all(abs(tx - 0.21 * abs(s)) <= 0.0051 for tx, s in zip(taxes, subtotal))
    assert (min(taxes), max(taxes)) == (13.18, 469.85)
    assert Counter(b["currency"] for b in bills) == {"USD": 160, "ARS": 51, "EUR": 29}
    currencies = defaultdict(set)
    for b in bills:
        currencies[b["org_id"]].add(b["currency"])
    assert sum(len(c) > 1 for c in currencies.values()) == 50
    expected = {"ARS": (0.00133, 0.00162), "EUR": (0.9981, 1.19808), "USD": (0.85463, 1.11791)}
    for cur, bounds in expected.items():
        rates = [float(b["exchange_rate_to_usd"]) for b in bills if b["currency"] == cur]
        assert (min(rates), max(rates)) == bounds, cur
    assert not [b for b in bills if b["currency"] == "USD" and float(b["exchange_rate_to_usd"]) == 1.0]


def test_support_tickets(t):
    tickets, signup = t["support_tickets"], _signups(t)
    assert len(tickets) == 1000
    assert {k["org_id"] for k in tickets} <= set(signup)
    assert {k["category"] for k in tickets} == {"performance", "security", "availability", "usability",
                                                "integration", "billing"}
    assert {k["severity"] for k in tickets} == {"low", "medium", "high", "critical"}
    assert sum(k["severity"] == "critical" for k in tickets) == 56
    created = [k["created_at"] for k in tickets]
    assert (min(created), max(created)) == ("2025-05-09", "2025-08-31")
    resolved = [k["resolved_at"] for k in tickets if k["resolved_at"]]
    assert (min(resolved), max(resolved)) == ("2025-05-10", "2025-09-19")
    assert _nulls(tickets, "resolved_at") == 240
    assert all(k["resolved_at"] >= k["created_at"] for k in tickets if k["resolved_at"])
    assert _nulls(tickets, "csat") == 254
    csat = [float(k["csat"]) for k in tickets if k["csat"]]
    outside = [c for c in csat if not 1 <= c <= 5]
    assert len(outside) == 40 and set(outside) == {0.0, 6.0, 7.0}
    assert sum(1 for k in tickets if not k["resolved_at"] and k["csat"]) == 172
    assert sum(k["sla_breached"] == "True" for k in tickets) == 95
    assert sum(1 for k in tickets if k["created_at"] < signup[k["org_id"]]) == 209


def test_marketing_touches(t):
    touches = t["marketing_touches"]
    assert len(touches) == 1500
    assert {m["org_id"] for m in touches} <= set(_signups(t))
    assert {m["campaign"] for m in touches} == {"welcome", "genai_launch", "security_week",
                                                "webinar_finops", "upgrade_pro", "upgrade_enterprise"}
    assert {m["channel"] for m in touches} == {"email", "ads", "event", "in_app"}
    days = [m["timestamp"] for m in touches]
    assert all(DATE.match(d) for d in days)
    assert (min(days), max(days)) == ("2025-05-04", "2025-08-31")
    assert sum(m["clicked"] == "True" for m in touches) == 453
    assert sum(m["converted"] == "True" for m in touches) == 144
    assert sum(m["converted"] == "True" and m["clicked"] == "False" for m in touches) == 96


def test_nps_surveys(t):
    surveys, signup = t["nps_surveys"], _signups(t)
    assert len(surveys) == 92
    per_org = Counter(s["org_id"] for s in surveys)
    assert set(per_org) <= set(signup) and len(per_org) == 60
    assert Counter(per_org.values()) == {1: 28, 2: 32}
    days = [s["survey_date"] for s in surveys]
    assert (min(days), max(days)) == ("2025-05-24", "2025-08-31")
    assert sum(1 for s in surveys if s["survey_date"] < signup[s["org_id"]]) == 10
    assert _nulls(surveys, "nps_score") == 19
    scores = [float(s["nps_score"]) for s in surveys if s["nps_score"]]
    assert (min(scores), max(scores)) == (-16.0, 68.0)
    assert _nulls(surveys, "comment") == 10
    assert {s["comment"] for s in surveys if s["comment"]} <= {
        "Missing features", "Love genAI features", "Complex billing", "Stable but slow",
        "Too expensive", "Great support"}


# ------------------------------------------------------------------------------ usage events


def test_event_files_and_lines(land, events):
    files = _event_files(land)
    assert len(files) == 120
    per_file = Counter(name for name, _, _ in events)
    assert set(per_file.values()) == {360}
    keys_v1 = ["event_id", "timestamp", "org_id", "resource_id", "service", "region", "metric",
               "value", "unit", "cost_usd_increment", "schema_version"]
    for _, line, e in events:
        assert line.endswith("\n") and line[:-1] == json.dumps(e)
        expected = keys_v1 + (["carbon_kg"] if e["schema_version"] == 2 else [])
        expected += ["genai_tokens"] if e["schema_version"] == 2 and e["service"] == "genai" else []
        assert list(e) == expected


def test_event_times_and_schema_versions(evs):
    assert len(evs) == 43200
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z", e["timestamp"]) for e in evs)
    per_day = Counter(e["timestamp"][:10] for e in evs)
    assert len(per_day) == 60 and set(per_day.values()) == {720}
    assert (min(per_day), max(per_day)) == ("2025-07-03", "2025-08-31")
    v1 = [e["timestamp"] for e in evs if e["schema_version"] == 1]
    v2 = [e["timestamp"] for e in evs if e["schema_version"] == 2]
    assert (len(v1), len(v2)) == (10800, 32400)
    assert (min(v1)[:10], max(v1)) == ("2025-07-03", "2025-07-17T23:56:00Z")
    assert (min(v2), max(v2)[:10]) == ("2025-07-18T00:01:00Z", "2025-08-31")


def test_event_versioned_fields(evs):
    assert sum("carbon_kg" in e for e in evs) == 32400
    assert all(("carbon_kg" in e) == (e["schema_version"] == 2) for e in evs)
    carbon = [e["carbon_kg"] for e in evs if "carbon_kg" in e]
    assert sum(type(c) is int for c in carbon) == 2638
    assert all(c == 0 for c in carbon if type(c) is int)
    assert all(type(c) is float for c in carbon if type(c) is not int)
    tokens = [e for e in evs if "genai_tokens" in e]
    assert len(tokens) == 3132
    assert all(e["schema_version"] == 2 and e["service"] == "genai" for e in tokens)
    assert all(type(e["genai_tokens"]) is int for e in tokens)
    assert sum(e["schema_version"] == 2 and e["service"] == "genai" for e in evs) == 3132


def test_event_metrics_values_units(evs):
    assert Counter(e["metric"] for e in evs) == {"requests": 19512, "storage_gb_hours": 12996,
                                                 "cpu_hours": 10692}
    by_service = defaultdict(set)
    for e in evs:
        by_service[e["service"]].add(e["metric"])
    assert by_service == {s: {"requests", "storage_gb_hours", "cpu_hours"} for s in SERVICES}
    units = {"requests": "count", "cpu_hours": "hours", "storage_gb_hours": "gb_hours"}
    assert all(e["unit"] == units[e["metric"]] for e in evs if e["unit"] is not None)
    kinds = Counter("null" if e["value"] is None else "string" if isinstance(e["value"], str)
                    else "number" for e in evs)
    assert kinds == {"number": 41014, "string": 1309, "null": 877}
    assert all(type(e["value"]) in (int, float) for e in evs
               if e["value"] is not None and not isinstance(e["value"], str))
    strings = [e["value"] for e in evs if isinstance(e["value"], str)]
    assert all(FLOAT.match(s) for s in strings)
    assert sum(e["unit"] is None for e in evs) == 2075
    assert sum(e["unit"] is None and e["value"] is not None for e in evs) == 2038
    assert sum(e["unit"] is None and e["value"] is None for e in evs) == 37


def test_event_cost(evs):
    cost = [e["cost_usd_increment"] for e in evs]
    assert all(type(c) is float for c in cost)
    assert (min(cost), max(cost)) == (-154.46, 317.43)
    assert sum(c < 0 for c in cost) == 216
    assert sum(c < -0.01 for c in cost) == 211
    q = statistics.quantiles(cost, n=1000, method="inclusive")
    assert q[499] == 1.0  # p50
    assert q[899] == 10.0  # p90
    assert abs(q[989] - 16.72) < 0.01  # p99
    assert abs(q[998] - 132.27) < 0.5  # p99.9
    assert abs(statistics.fmean(cost) - 3.41) < 0.01
    assert abs(statistics.stdev(cost) - 7.92) < 0.05


def test_event_services_and_regions(evs):
    assert Counter(e["service"] for e in evs) == {"compute": 12498, "storage": 7614, "database": 7419,
                                                  "networking": 6921, "analytics": 4590, "genai": 4158}
    assert Counter(e["region"] for e in evs) == {"ap-northeast": 7773, "us-east": 7566, "us-west": 6384,
                                                 "sa-east": 6270, "ap-south": 5943, "eu-west": 4854,
                                                 "eu-central": 4410}


def test_event_referential_integrity(t, evs):
    orgs = {o["org_id"] for o in t["customers_orgs"]}
    resources = {r["resource_id"]: r for r in t["resources"]}
    predating = 0
    for e in evs:
        assert e["org_id"] in orgs
        res = resources[e["resource_id"]]
        assert (res["org_id"], res["service"], res["region"]) == (e["org_id"], e["service"], e["region"])
        predating += e["timestamp"][:10] < res["created_at"]
    assert predating == 7371


def test_every_file_spans_the_whole_range(events):
    dates = defaultdict(set)
    for name, _, e in events:
        dates[name].add(e["timestamp"][:10])
    assert len(dates) == 120
    for name, days in dates.items():
        assert len(days) >= 50, name
        assert min(days) <= "2025-07-10" and max(days) >= "2025-08-24", name


# ------------------------------------------------------------------------------ scale, determinism, atomicity


def test_scale_2_doubles_every_count(tmp_path):
    counts = generate(tmp_path, scale=2, seed=42)
    assert counts == {stem: 2 * n for stem, n in SCALE1_COUNTS.items()}
    for name, rows in [("customers_orgs.csv", 160), ("users.csv", 1600), ("resources.csv", 800),
                       ("billing_monthly.csv", 480), ("support_tickets.csv", 2000),
                       ("marketing_touches.csv", 3000), ("nps_surveys.csv", 184)]:
        assert len(_read_csv(tmp_path, name)) == rows, name
    files = _event_files(tmp_path)
    assert [p.name for p in files] == [f"events_part_{i:04d}.jsonl" for i in range(240)]
    evs = [json.loads(line) for p in files for line in p.read_text().splitlines()]
    assert len(evs) == 86400 and len({e["event_id"] for e in evs}) == 86400
    assert set(Counter(e["timestamp"][:10] for e in evs).values()) == {1440}
    assert Counter(e["service"] for e in evs)["genai"] == 2 * 4158
    assert sum(e["value"] is None for e in evs) == 2 * 877
    orgs = _read_csv(tmp_path, "customers_orgs.csv")
    assert len({o["org_id"] for o in orgs}) == 160
    assert sum(o["plan_tier"] == "enterprise" for o in orgs) == 20
    resources = {r["resource_id"]: r for r in _read_csv(tmp_path, "resources.csv")}
    assert len(resources) == 800
    assert sum(e["timestamp"][:10] < resources[e["resource_id"]]["created_at"] for e in evs) == 2 * 7371


def test_same_seed_same_bytes(land, tmp_path):
    generate(tmp_path, scale=1, seed=42)
    assert _hashes(tmp_path) == _hashes(land)


def test_different_seed_different_bytes(land, tmp_path):
    generate(tmp_path, scale=1, seed=7)
    mine, other = _hashes(tmp_path), _hashes(land)
    assert mine.keys() == other.keys()
    assert all(mine[name] != other[name] for name in mine)


def test_files_appear_atomically(tmp_path, monkeypatch):
    renames = []
    real_replace = os.replace

    def recording_replace(src, dst):
        src, dst = Path(src), Path(dst)
        assert src.exists() and not dst.exists()
        renames.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    generate(tmp_path, scale=1, seed=3)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 7 + 120
    assert sorted(dst for _, dst in renames) == written
    for src, dst in renames:
        assert src.parent == dst.parent and src.name == f".{dst.name}.tmp"
    assert not list(tmp_path.rglob("*.tmp"))


def test_rejects_bad_scale(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0)
