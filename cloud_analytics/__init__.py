"""Cloud Analytics: Dagster assets over PySpark + Delta Lake, served from Apache Cassandra."""
