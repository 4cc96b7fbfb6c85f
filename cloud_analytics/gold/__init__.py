"""Gold layer: business-ready marts, each a pure function of silver DataFrames.

Modules: ``usage`` (org/service/region usage, resources), ``anomalies`` (daily cost anomaly
mart), ``finance`` (revenue, credits, cost vs billing), ``support`` (tickets), ``product``
(genai tokens, users, campaigns), ``customer_360`` (one row per org with a health score).
``schemas`` declares every mart's columns, primary key and partition column (the contract);
``common`` holds the money and snapshot conventions they share.
"""
