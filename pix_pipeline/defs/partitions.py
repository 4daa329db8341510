"""One dynamic partition per photo job (key = job_id); images are rows in the registry."""

import dagster as dg

PIX_JOBS = "pix_jobs"
RUN_REVISION_TAG = "pix/revision"
PARTITION_TAG = "dagster/partition"

pix_jobs = dg.DynamicPartitionsDefinition(name=PIX_JOBS)
