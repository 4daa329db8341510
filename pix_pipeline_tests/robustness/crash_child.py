"""Runs process_pix_job for one partition in this process and SIGKILLs it at a chosen point.

    python -m pix_pipeline_tests.robustness.crash_child JOB QUALNAME ARGUMENT TEXT COUNT

The process kills itself, with SIGKILL, on the COUNT-th call of the function QUALNAME whose
ARGUMENT contains TEXT (for example the 3rd `LocalStorage.write_bytes` whose `key` contains
`/pipeline/thumbs/`). QUALNAME `os.replace` stops a write between its temp file and the rename.
A profiler hook only watches the calls; the pipeline's code runs unchanged.
"""

import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import dagster as dg

from pix_pipeline.definitions import build_definitions
from pix_pipeline.settings import load_settings


def install_kill_switch(qualname: str, argument: str, text: str, count: int) -> None:
    seen = 0
    lock = threading.Lock()

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal seen
        if qualname == "os.replace":
            hit = event == "c_call" and arg is os.replace
        else:
            hit = event == "call" and frame.f_code.co_qualname == qualname
        if not hit or text not in str(frame.f_locals.get(argument)):
            return
        with lock:
            seen += 1
            if seen == count:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(hook)
    threading.setprofile(hook)


def main() -> None:
    job_id, qualname, argument, text, count = sys.argv[1:6]
    job = build_definitions(load_settings()).resolve_job_def("process_pix_job")
    install_kill_switch(qualname, argument, text, int(count))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("pix_jobs", [job_id])
        result = job.execute_in_process(instance=instance, partition_key=job_id)
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main()
