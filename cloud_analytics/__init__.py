"""Cloud Analytics: Dagster assets over PySpark + Delta Lake, served from Apache Cassandra."""

import warnings

# BackfillPolicy is beta in Dagster 1.13 but is exactly what partitioned Spark assets need
# (a range of partitions in one Spark job); silence its warning once for the package. Matched
# by message, not by importing dagster.BetaWarning, so the Dagster-free modules (table specs,
# transforms) import no Dagster at all.
warnings.filterwarnings("ignore", message=r".*is currently in beta")
