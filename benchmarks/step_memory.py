"""Peak resident memory of the per-image work on 24 MP and 12000 x 8000 JPEGs.

Each case runs in a fresh process that does what a run's step process does for one photo:
the thumbs step (make_previews) and the privacy step (the local OCR / cascade check on the
1600 px preview), with the models loaded. The process reports its peak resident set size
(VmHWM, Linux). The anchor is the size of the photo's full RGB raster: what a step that decoded
the whole photo would hold at least once.

    .venv/bin/python benchmarks/step_memory.py
"""

import io
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from privacy_set import photo_like, real_backgrounds

CASES = (("24 MP (6000 x 4000)", (6000, 4000), 1024), ("96 MP (12000 x 8000)", (12000, 8000), 1536))

# VmHWM is the peak of this process image; ru_maxrss would also count the parent's memory at
# the fork that started it (Linux keeps it across exec).
CHILD = """
import json, sys
from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
data = open(sys.argv[1], "rb").read()
provider = LocalPrivacyChecks()
previews = make_previews(data, 150_000_000)
result = provider.analyze(open_preview(previews.large_jpeg))
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(json.dumps({
    "peak_mib": int(status[0]) / 1024,
    "large": previews.large_size,
    "faces": result.faces.status.value,
}))
"""


def main() -> int:
    rng = random.Random(11)
    background = real_backgrounds()[0][1]
    print(f"{'name':<30}{'ours MiB':>10}{'anchor':>9}{'ratio':>8}{'target':>10}  verdict")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, target in CASES:
            path = Path(tmp) / "photo.jpg"
            buffer = io.BytesIO()
            photo_like(background, size, rng).save(buffer, format="JPEG", quality=90)
            path.write_bytes(buffer.getvalue())
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            report = json.loads(done.stdout.strip().splitlines()[-1])
            peak = float(report["peak_mib"])
            raster = size[0] * size[1] * 3 / 2**20
            passed = peak <= target
            ok &= passed
            print(
                f"{name + ', peak':<30}{peak:>10.0f}{raster:>9.0f}{peak / raster:>8.2f}"
                f"{'<= ' + str(target):>10}  {'PASS' if passed else 'FAIL'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
