"""The local privacy check on the labelled real-photo development set, against the issue's targets.

Each photo goes the pipeline's way: JPEG -> the thumbs step's 1600 px preview -> the `local`
privacy provider, one photo at a time on one core. Prints one line per figure
(`name  ours  target  PASS|FAIL`), then the median privacy seconds per preview, then misses
and false alarms by file. A label `unsure` counts neither as a positive nor as a negative.

    .venv/bin/python benchmarks/privacy_real.py [--set ../shared/privacy_real_dev]
        [--half tuning|held-out|all] [--show-held-out]

The set (photos + MANIFEST.tsv) lives outside the repository and is for evaluation only.

The rules were tuned on the photos with odd file numbers only; the even-numbered ones are
held out, and the targets (counts: "at most one missed") are judged on them. Every figure is
printed for the tuning half, the held-out half and the whole set, as a count and a rate.
Misses and false alarms by file are listed for the tuning half; for the held-out half only
with --show-held-out, so tuning never looks at them.
"""

import argparse
import csv
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks
from pix_pipeline.domain.models import Finding, PrivacyResult
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
from pix_pipeline.settings import load_settings

DEFAULT_SET = Path(__file__).resolve().parents[1] / ".." / "shared" / "privacy_real_dev"
LABELS = ("face", "plate", "house_number", "other_text")


@dataclass(frozen=True)
class Photo:
    file: str
    labels: dict[str, str]
    scene: str
    note: str

    @property
    def number(self) -> int:
        """The file's number: 17 for images/017.jpg."""
        return int(Path(self.file).stem)

    def clean_property(self) -> bool:
        """No face, plate, house number or lettering, and an interior or exterior."""
        return self.scene in ("interior", "exterior") and all(
            self.labels[k] == "no" for k in LABELS
        )


def has(result: PrivacyResult, category: str, label: str | None = None) -> bool:
    found = result.category(category)
    if found.status is not Finding.DETECTED:
        return False
    return label is None or any(d.label == label for d in found.items)


def any_finding(result: PrivacyResult) -> bool:
    return bool(result.detected())


@dataclass(frozen=True)
class Target:
    """A count of photos: those `selected` (positives or negatives of one label) for which
    `hit` holds. A recall figure (`recall`) counts the hits and allows `allowed` misses on the
    held-out half; a false-alarm figure counts the hits and allows `allowed` of them. Without
    `allowed` the figure is reported without a target."""

    name: str
    selected: Callable[[Photo], bool]
    hit: Callable[[PrivacyResult], bool]
    recall: bool
    allowed: int | None


def label_is(label: str, value: str) -> Callable[[Photo], bool]:
    return lambda p: p.labels[label] == value


TARGETS = (
    Target("faces found", label_is("face", "yes"), lambda r: has(r, "faces"), True, 0),
    Target(
        "faces: false alarms (photos without a face)",
        label_is("face", "no"),
        lambda r: has(r, "faces"),
        False,
        0,
    ),
    Target("clean property photos with any finding", Photo.clean_property, any_finding, False, 0),
    Target(
        "plates labelled licence_plates",
        label_is("plate", "yes"),
        lambda r: has(r, "licence_plates"),
        True,
        1,
    ),
    Target(
        "plate false alarms (photos without a plate)",
        label_is("plate", "no"),
        lambda r: has(r, "licence_plates"),
        False,
        0,
    ),
    Target(
        "house numbers found by any finding",
        label_is("house_number", "yes"),
        lambda r: has(r, "text") or has(r, "licence_plates"),
        True,
        1,
    ),
    Target(
        "house numbers labelled house_number",
        label_is("house_number", "yes"),
        lambda r: has(r, "text", "house_number"),
        True,
        None,
    ),
    Target(
        "house_number false labels",
        label_is("house_number", "no"),
        lambda r: has(r, "text", "house_number"),
        False,
        2,
    ),
    Target(
        "other lettering found",
        label_is("other_text", "yes"),
        lambda r: has(r, "text"),
        True,
        None,
    ),
)
# The photos with odd file numbers (001, 003, ...) are the ones the rules were tuned on; the
# even ones are held out, and the targets are judged on them alone.
HALVES = {
    "tuning": lambda p: p.number % 2 == 1,
    "held-out": lambda p: p.number % 2 == 0,
    "whole set": lambda p: True,
}
JUDGED = "held-out"


def read_manifest(folder: Path) -> list[Photo]:
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Photo(row["file"], {k: row[k] for k in LABELS}, row["scene"], row["note"]) for row in rows
    ]


def describe(result: PrivacyResult) -> str:
    parts = []
    for name in result.detected():
        for d in result.category(name).items:
            text = f" {d.text!r}" if d.text else ""
            parts.append(f"{d.label}{text} @{d.score:.2f}")
    return "; ".join(parts) or "nothing"


def figure(
    target: Target, photos: list[Photo], results: dict[str, PrivacyResult]
) -> tuple[str, str, bool | None, list[Photo]]:
    """(ours, target, passed or None without a target, the photos missed or falsely hit)."""
    chosen = [p for p in photos if target.selected(p)]
    hits = [p for p in chosen if target.hit(results[p.file])]
    rate = len(hits) / len(chosen) if chosen else 0.0
    ours = f"{len(hits)}/{len(chosen)} ({rate:.3f})"
    wrong = [p for p in chosen if p not in hits] if target.recall else hits
    if target.allowed is None:
        return ours, "", None, wrong
    if target.recall:
        bound = f">= {len(chosen) - target.allowed}/{len(chosen)}"
        return ours, bound, len(chosen) - len(hits) <= target.allowed, wrong
    return ours, f"<= {target.allowed}/{len(chosen)}", len(hits) <= target.allowed, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        type=Path,
        default=DEFAULT_SET,
        help="folder with MANIFEST.tsv and images/ (default: ../shared/privacy_real_dev)",
    )
    parser.add_argument(
        "--half",
        choices=("tuning", "held-out", "all"),
        default="all",
        help="check only the tuning (odd) or held-out (even) photos; default all",
    )
    parser.add_argument(
        "--show-held-out",
        action="store_true",
        help="also list the held-out photos' misses and false alarms by file (not while tuning)",
    )
    args = parser.parse_args()
    folder: Path = args.set.resolve()
    if not (folder / "MANIFEST.tsv").is_file():
        print(
            f"privacy_real: no development set at {folder} (expected MANIFEST.tsv and images/"
            " there); pass its folder with --set",
            file=sys.stderr,
        )
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    settings = load_settings()
    provider = LocalPrivacyChecks(settings.privacy)
    photos = read_manifest(folder)
    if args.half != "all":
        photos = [p for p in photos if HALVES[args.half](p)]
    results: dict[str, PrivacyResult] = {}
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    for photo in photos:
        preview = make_previews((folder / photo.file).read_bytes(), settings.max_image_pixels)
        image = open_preview(preview.large_jpeg)
        started, cpu_started = time.perf_counter(), time.process_time()
        results[photo.file] = provider.analyze(image)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)

    print(f"provider: {provider.identity}")
    print(f"photos: {len(photos)} from {folder}")
    ok = True
    report: list[str] = []
    for half, member in HALVES.items():
        chosen = [p for p in photos if member(p)]
        if not chosen or (half == "whole set" and args.half != "all"):
            continue
        judged = half == JUDGED
        print(f"\n{half} half: {len(chosen)} photos" if half != "whole set" else "\nwhole set")
        print(f"{'name':<46}{'ours':>16}{'target':>12}  verdict")
        for target in TARGETS:
            ours, bound, passed, wrong = figure(target, chosen, results)
            if not judged or passed is None:
                verdict = "-" if passed is None or not judged else ""
                print(f"{target.name:<46}{ours:>16}{bound if judged else '':>12}  {verdict}")
            else:
                ok = ok and passed
                print(f"{target.name:<46}{ours:>16}{bound:>12}  {'PASS' if passed else 'FAIL'}")
            if half != "whole set" and (not judged or args.show_held_out):
                kind = "miss" if target.recall else "false alarm"
                for p in wrong:
                    report.append(
                        f"{half:<9}{kind:<12}{target.name:<46}{p.file}: {describe(results[p.file])}"
                    )
    median = statistics.median(seconds)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    # Wall time counts what other processes on the machine take from this core.
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    fast = median <= 1.0
    ok = ok and fast
    name = "median privacy seconds per preview (1 core)"
    print(f"\n{name:<46}{median:>16.3f}{'<= 1.00':>12}  {'PASS' if fast else 'FAIL'}")
    cpu = statistics.median(cpu_seconds)
    print(f"{'(the same, CPU seconds of this process)':<46}{cpu:>16.3f}")
    print(f"(slowest {max(seconds):.3f} s; cpu cores used: {cores}; load average {load})")
    for line in report:
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
