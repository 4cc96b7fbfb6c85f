"""The speed layer: low-latency views of the usage stream, fed by bronze's micro-batches.

It reads ``bronze/usage_events`` as a Delta stream (insert-only, so every new row arrives
exactly once), and per micro-batch: sliding-window aggregates with a watermark
(``windows.py``), enrichment and anomaly alerts against the batch layer's baselines
(``alerts.py``, ``baseline.py``), and provisional rows in the serving tables for dates the
batch layer has not covered yet (``serving.py``). ``stream.py`` runs it; ``assets.py``
declares it to Dagster.
"""
