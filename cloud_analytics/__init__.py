"""Cloud Analytics: Dagster assets over PySpark + Delta Lake, served from Apache Cassandra."""

import warnings

from dagster import BetaWarning

# BackfillPolicy is beta in Dagster 1.13 but is exactly what partitioned Spark assets need
# (a range of partitions in one Spark job); silence its warning once for the package.
warnings.filterwarnings("ignore", category=BetaWarning)
