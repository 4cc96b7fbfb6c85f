"""Gold layer: business-ready marts, each a pure function of silver DataFrames.

Modules: ``usage`` (org/service/region usage, resources), ``anomalies`` (daily cost anomaly
mart), ``finance`` (revenue, credits, cost vs billing), ``support`` (tickets), ``product``
(genai tokens, users, campaigns), ``customer_360`` (one row per org with a health score),
``baselines`` (the cost baselines the speed layer scores against). ``specs`` is the contract
of every gold table (columns from ``columns``, key, partitions, builder, checks, audit laws);
``inputs`` is what a builder reads; ``common`` holds the money and snapshot conventions they
share; ``assets`` derives the Dagster assets from the specs.
"""
