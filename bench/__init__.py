"""`make bench` (bench/run.py): arc against its anchors, one module per row.

common: paths, running and timing commands, the result table, medians, the inputs the
archive rows share; servers: rclone serve s3, nginx, an OTLP sink and SeaweedFS (the first
and the last from scripts/arcservers.py, as the tests and the demo start them). Rows:
pipeline, tracing, collect, plan, memory, telem_log, telem_trace, wf_run, silver (silver-convert,
silver-check), s3 (s3-upload, s3-download, s3-copy, s3-big, s3-memory).
"""
