"""What a job run leaves behind, and how to compare it: shared by the crash and race tests."""

import functools
import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from pix_pipeline.definitions import build_definitions
from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled

JOB = "CRASH1"
PROJECT = Path(__file__).resolve().parents[2]


def environment(root: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PIX_LOCAL_ROOT": str(root),
        "PIX_DATABASE_URL": database_url,
        "PIX_IMAGE_WORKERS": "1",
        "PIX_PRIVACY_PROVIDER": "pix_pipeline_tests.providers:FacesEverywhere",
    }


@functools.cache
def delivery() -> dict[str, bytes]:
    """The same bytes for every run (Pillow's noise is not seeded)."""
    return {f"IMG_{i}.jpg": jpeg_bytes(photo((480, 320), seed=i)) for i in range(4)}


def deliver(root: Path, env: dict[str, str]) -> None:
    folder = root / "pix-jobs" / JOB / "final_input"
    for name, data in delivery().items():
        write_settled(folder / name, data)
    write_settled(folder / "broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    rt = build_runtime(load_settings(env))
    try:
        assert scan_final_input(rt).total("registered") == 4
    finally:
        rt.close()


def run_in_process(env: dict[str, str]) -> None:
    job = build_definitions(load_settings(env)).resolve_job_def("process_pix_job")
    saved = dict(os.environ)
    os.environ.update(env)  # the resource reads PIX_* when the run builds it
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("pix_jobs", [JOB])
            result = job.execute_in_process(instance=instance, partition_key=JOB)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert result.success


def snapshot(root: Path, env: dict[str, str]) -> dict[str, Any]:
    """Everything a run leaves behind, with random image ids replaced by file names."""
    rt = build_runtime(load_settings(env))
    try:
        images = rt.registry.images_of_job(JOB)
        names = {r.image_id: r.filename for r in images}
        steps = rt.registry.step_results(JOB)
        job = rt.registry.get_job(JOB)
    finally:
        rt.close()
    assert job is not None

    def named(text: str) -> str:
        for image_id, filename in names.items():
            text = text.replace(image_id, f"<{filename}>")
        return text

    files: dict[str, Any] = {}
    job_root = root / "pix-jobs" / JOB
    for path in sorted(job_root.rglob("*")):
        relative = path.relative_to(job_root).as_posix()
        if path.is_dir() or relative.startswith("final_input/"):
            continue
        data = path.read_bytes()
        files[named(relative)] = (
            json.loads(named(data.decode("utf-8"))) if path.suffix == ".json" else data
        )
    return {
        "files": files,
        "images": sorted(
            (r.filename, r.status, r.content_hash, named(r.error_message or ""), r.gallery_hash)
            for r in images
        ),
        "steps": sorted(
            (
                names[image_id],
                step,
                row.status,
                row.input_fingerprint,
                row.provider,
                json.loads(named(json.dumps(row.result, sort_keys=True))),
            )
            for (image_id, step), row in steps.items()
        ),
        "job": (job.revision, job.gallery_status, job.gallery_visibility, job.release_count),
    }


def difference(actual: Any, expected: Any, where: str = "") -> str | None:
    """Where two JSON-like values first differ, and how; None when they are equal."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(actual.keys() | expected.keys(), key=str):
            found = difference(actual.get(key), expected.get(key), f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            found = difference(a, e, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if actual == expected else f"{where}: {actual!r:.200} != {expected!r:.200}"


def assert_same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equality, with a message that names the first differing file or row."""
    assert actual["files"].keys() == expected["files"].keys()
    for name, content in expected["files"].items():
        assert actual["files"][name] == content, difference(actual["files"][name], content, name)
    for part in ("images", "steps", "job"):
        assert actual[part] == expected[part], part


def temp_files(root: Path) -> list[Path]:
    return [p for p in (root / "pix-jobs").rglob(".*.tmp")]
