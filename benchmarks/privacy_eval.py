"""Precision and recall of the local privacy check per category, on the built evaluation set.

Each sample goes the pipeline's own way: JPEG -> 1600 px preview -> privacy provider.
Prints one line per figure: name  value  target  PASS|FAIL, then the misses.

    .venv/bin/python benchmarks/privacy_eval.py [--seed 7] [--per-category 40] [--clean 40]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from privacy_set import build

from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
from pix_pipeline.settings import load_settings

CATEGORIES = ("text", "faces", "licence_plates")
FLOORS = {"text": 0.95, "faces": 0.9, "licence_plates": 0.8}
MAX_FALSE_ALARMS = 0.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-category", type=int, default=40)
    parser.add_argument("--clean", type=int, default=40)
    args = parser.parse_args()

    settings = load_settings()
    provider = LocalPrivacyChecks(settings.privacy)
    print(f"provider: {provider.identity}")
    tp = dict.fromkeys(CATEGORIES, 0)
    fp = dict.fromkeys(CATEGORIES, 0)
    fn = dict.fromkeys(CATEGORIES, 0)
    clean_alarms = dict.fromkeys(CATEGORIES, 0)
    clean_total = 0
    misses: list[str] = []
    seconds: list[float] = []
    for sample in build(args.seed, args.per_category, args.clean):
        preview = open_preview(make_previews(sample.jpeg(), settings.max_image_pixels).large_jpeg)
        started = time.perf_counter()
        result = provider.analyze(preview)
        seconds.append(time.perf_counter() - started)
        is_clean = not sample.truth
        clean_total += is_clean
        for category in CATEGORIES:
            if category in sample.ignore:
                continue
            found = result.category(category)
            detected = found.status.value == "detected"
            expected = category in sample.truth
            if detected and expected:
                tp[category] += 1
            elif detected:
                fp[category] += 1
                clean_alarms[category] += is_clean
                what = ", ".join(f"{i.label}:{i.text or ''}@{i.score:.2f}" for i in found.items)
                misses.append(f"false alarm  {category:<15} {sample.name}: {what}")
            elif expected:
                fn[category] += 1
                misses.append(f"missed       {category:<15} {sample.name} ({sample.note})")

    print(f"{'figure':<34}{'value':>8}{'target':>10}  verdict")
    ok = True
    for category in CATEGORIES:
        recall = tp[category] / max(1, tp[category] + fn[category])
        precision = tp[category] / max(1, tp[category] + fp[category])
        alarms = clean_alarms[category] / max(1, clean_total)
        rows = [
            (
                f"{category} recall",
                recall,
                f">= {FLOORS[category]:.2f}",
                recall >= FLOORS[category],
            ),
            (f"{category} precision", precision, "", True),
            (
                f"{category} false alarms on clean",
                alarms,
                f"<= {MAX_FALSE_ALARMS:.2f}",
                alarms <= MAX_FALSE_ALARMS,
            ),
        ]
        for name, value, target, passed in rows:
            verdict = ("PASS" if passed else "FAIL") if target else ""
            ok = ok and passed
            print(f"{name:<34}{value:>8.3f}{target:>10}  {verdict}")
    seconds.sort()
    print(f"{'median seconds per preview':<34}{seconds[len(seconds) // 2]:>8.3f}")
    print(f"samples: {len(seconds)} ({clean_total} clean)")
    for line in misses:
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
