"""Sensor tick cost at production scale on the local filesystem: 10,000 jobs x 50 files.

Builds the folders and a registry that already knows every file (as after months of work;
every job active, its last file change two days ago, so none is hot), then times the watcher
pass of `final_input_sensor` (scan_final_input) with default settings: the first tick after an
upgrade (no listing digests or folder stamps stored yet), a no-op tick, and a tick that finds
one new file. It also rewrites one file in place (its folder unchanged) and counts the ticks
until the rotating verification finds it. The anchor is the bare cost of looking: scandir +
stat of every job's final_input/ in plain Python, with no database at all.

    .venv/bin/python benchmarks/sensor_tick.py [--jobs 10000] [--files 50]
"""

import argparse
import hashlib
import io
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import insert

from pix_pipeline.domain.intake import IntakeReport, scan_final_input
from pix_pipeline.registry.schema import ImageRow, JobRow, utcnow
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings

OLD_NS = 1_600_000_000 * 10**9


def build(root: Path, jobs: int, files: int, database_url: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 80, 40)).save(buffer, "JPEG")
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    settings = load_settings(
        {
            "PIX_LOCAL_ROOT": str(root),
            "PIX_DATABASE_URL": database_url,
            "PIX_PRIVACY_PROVIDER": "none",
        }
    )
    rt = build_runtime(settings)
    now = utcnow() - timedelta(days=2)
    try:
        for start in range(0, jobs, 500):
            job_ids = [f"JOB{j:05d}" for j in range(start, min(jobs, start + 500))]
            job_rows, image_rows = [], []
            for job_id in job_ids:
                folder = root / "pix-jobs" / job_id / "final_input"
                folder.mkdir(parents=True)
                job_rows.append(
                    {
                        "job_id": job_id,
                        "revision": 1,
                        "processed_revision": 1,
                        "gallery_status": "draft_ready",
                        "gallery_visibility": "internal",
                        "release_count": 0,
                        "last_activity_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                for i in range(files):
                    path = folder / f"IMG_{i:04d}.jpg"
                    path.write_bytes(data)
                    os.utime(path, ns=(OLD_NS, OLD_NS))
                    image_rows.append(
                        {
                            "image_id": str(uuid.uuid4()),
                            "job_id": job_id,
                            "filename": path.name,
                            "storage_path": f"pix-jobs/{job_id}/final_input/{path.name}",
                            "source": "editor",
                            "status": "processed",
                            "size_bytes": len(data),
                            "mtime_ns": OLD_NS,
                            "content_hash": digest,
                            "registered_at": now,
                            "updated_at": now,
                        }
                    )
                os.utime(folder, ns=(OLD_NS, OLD_NS))
            with rt.registry.session() as s:
                s.execute(insert(JobRow), job_rows)
                s.execute(insert(ImageRow), image_rows)
    finally:
        rt.close()


def look(root: Path) -> None:
    """The anchor: every final_input/ listed and every file stat'ed, nothing else."""
    with os.scandir(root / "pix-jobs") as jobs:
        for job in jobs:
            with os.scandir(Path(job.path) / "final_input") as entries:
                for entry in entries:
                    entry.stat(follow_symlinks=False)


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def rewrite_in_place(path: Path) -> None:
    """Another photo's bytes in an existing file, its folder's mtime untouched (`cp new old`)."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 90)).save(buffer, "JPEG")
    folder = os.stat(path.parent)
    with path.open("r+b") as handle:
        handle.truncate(0)
        handle.write(buffer.getvalue())
    os.utime(path, ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    os.utime(path.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "storage"
        url = f"sqlite:///{tmp}/registry.sqlite3"
        started = time.perf_counter()
        build(root, args.jobs, args.files, url)
        print(
            f"built {args.jobs} jobs x {args.files} files in {time.perf_counter() - started:.0f} s"
        )
        settings = load_settings(
            {
                "PIX_LOCAL_ROOT": str(root),
                "PIX_DATABASE_URL": url,
                "PIX_PRIVACY_PROVIDER": "none",
                "PIX_SETTLE_SECONDS": "0",
            }
        )
        rt = build_runtime(settings)
        reports: list[IntakeReport] = []

        def tick() -> float:
            started = time.perf_counter()
            reports.append(scan_final_input(rt, time_budget_seconds=3600))
            return time.perf_counter() - started

        try:
            first = tick()
            noop = [tick() for _ in range(5)]
            anchor = statistics.median(timed(lambda: look(root)) for _ in range(3))
            folder = root / "pix-jobs" / "JOB00042" / "final_input"
            (folder / "late.jpg").write_bytes((folder / "IMG_0000.jpg").read_bytes())
            os.utime(folder / "late.jpg", ns=(OLD_NS, OLD_NS))
            one_new = tick()
            assert reports[-1].total("registered") == 1, reports[-1].summary()
            # Every job was just listed; the rewritten one comes up when the rotation does.
            rewrite_in_place(
                root / "pix-jobs" / f"JOB{args.jobs // 2:05d}" / "final_input" / "IMG_0001.jpg"
            )
            rotation: list[float] = []
            while not reports[-1].total("changed") and len(rotation) < 200:
                rotation.append(tick())
        finally:
            rt.close()
    verified = statistics.median(r.jobs_verified for r in reports[-len(rotation) :])
    print(
        f"rewritten file found after {len(rotation)} tick(s); {verified:.0f} of {args.jobs}"
        f" folders verified per tick (PIX_VERIFY_SECONDS={settings.verify_seconds})"
    )
    rows = [
        ("first tick after upgrade, s", first, anchor, None),
        ("no-op tick, median s", statistics.median(noop), anchor, 1.0),
        ("tick with 1 new file, s", one_new, anchor, 1.5),
        ("tick while rotating, median s", statistics.median(rotation), anchor, None),
    ]
    print(f"{'name':<32}{'ours':>8}{'anchor':>9}{'ratio':>8}{'target':>9}  verdict")
    ok = True
    for name, ours, base, target in rows:
        verdict = "" if target is None else ("PASS" if ours <= target else "FAIL")
        ok &= verdict != "FAIL"
        shown = "" if target is None else f"<= {target}"
        print(f"{name:<32}{ours:>8.2f}{base:>9.2f}{ours / base:>8.2f}{shown:>9}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
