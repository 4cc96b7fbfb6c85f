"""Silver layer: conformed, DQ-flagged, enriched tables and SCD2 dimensions as pure Spark
functions (DataFrame in, DataFrame out); the Dagster assets that read and write them live
elsewhere."""
