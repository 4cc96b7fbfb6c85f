"""``cloud-analytics audit``: follow every record from landing to Cassandra and check that
nothing was lost or counted twice.

For each source (the seven CSVs and the usage events) the audit counts the records at every
stage, from sources that do not trust one another:

- **landing**: the files themselves, read with Python (``landing.py``: the ``csv`` module, or
  the raw lines of the JSONL files), never Spark's or the ingest's own numbers;
- **bronze**, **rejects**, **quarantine**, **silver** and **gold**: the Delta tables, one
  aggregation pass per table (``gather.py``);
- **duplicates removed**: for CSVs recomputed from the file; for events the stream's ledger;
- **cassandra**: the serving tables read back with the driver, one query per partition.

and checks each conservation law, in this order (the first that fails is named):

1. ``landing = bronze + rejects + duplicates`` per source (``laws.py``);
2. ``bronze = silver + quarantine`` per silver table, on the same window (``laws.py``);
3. ``gold = silver``: every gold spec's ``reconciliations`` (``reconcile.py``);
4. ``cassandra = gold`` per serving table fed from gold: rows, the spec's ``total`` and
   ``extras``, batch rows only (``serving.py``).

Adding a table adds its laws: a gold mart through its spec's ``reconciliations``, a serving
table through its spec's ``total``, a source through the bronze specs.

``table_fingerprints`` (``fingerprints.py``, used by the idempotence test) gives every lake
and serving table a row count and an order-independent checksum without run stamps.
"""

from cloud_analytics.audit.fingerprints import (
    VOLATILE_COLUMNS,
    _canonical_value,
    cassandra_fingerprint,
    delta_fingerprint,
    table_fingerprints,
)
from cloud_analytics.audit.landing import CsvLanding, csv_landing, jsonl_lines, landed_event_files
from cloud_analytics.audit.laws import EVENTS, SOURCES
from cloud_analytics.audit.report import NOTHING_TO_AUDIT, STAGES, AuditReport, Law, ServingFigures
from cloud_analytics.audit.run import run_audit
from cloud_analytics.audit.serving import ServingTableMissing, read_serving

__all__ = [
    "EVENTS", "NOTHING_TO_AUDIT", "SOURCES", "STAGES", "VOLATILE_COLUMNS", "AuditReport", "CsvLanding", "Law",
    "ServingFigures", "ServingTableMissing", "_canonical_value", "cassandra_fingerprint", "csv_landing",
    "delta_fingerprint", "jsonl_lines", "landed_event_files", "read_serving", "run_audit", "table_fingerprints",
]
