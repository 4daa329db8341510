"""Screenshots of Daniel's cockpit: the asset graph and one gallery materialization.

Starts `dagster dev` on a temporary instance and storage with a demo job of five photos,
waits until the job's gallery is drafted and checked, then has headless Chromium
(Debian: `apt-get install chromium`) photograph the UI into docs/images/: the asset graph, a
gallery materialization, and its contact sheet opened.

    .venv/bin/python docs/ui_screenshots.py [--chromium /usr/bin/chromium]
"""

import argparse
import asyncio
import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "docs" / "images"
JOB = "DEMO1"
DAGSTER = Path(sys.executable).with_name("dagster")


def demo_photo(seed: int) -> bytes:
    """A room-like picture: floor, wall, window, a little noise (not flat colour)."""
    image = Image.new("RGB", (2400, 1600), (200 - seed * 9, 190, 170 + seed * 7))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 1100, 2400, 1600), fill=(120, 90, 60))
    draw.rectangle((300 + seed * 120, 300, 900 + seed * 120, 900), fill=(170, 210, 240))
    draw.rectangle((1500, 800, 2100, 1150), fill=(90, 70 + seed * 20, 60))
    noise = Image.effect_noise((2400, 1600), 20).convert("RGB")
    image = Image.blend(image, noise, 0.15).filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def graphql(port: int, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def gallery_checked(port: int) -> bool:
    try:
        answer = graphql(
            port,
            '{ assetCheckExecutions(assetKey: {path: ["gallery"]},'
            f' checkName: "gallery_matches_images", partition: "{JOB}", limit: 1)'
            " { evaluation { success } } }",
        )
    except OSError:
        return False
    data = answer.get("data")
    executions = data.get("assetCheckExecutions") if isinstance(data, dict) else None
    # Executions are listed from the run's start; the evaluation arrives with the result.
    return bool(executions and executions[0].get("evaluation"))


class DevtoolsPage:
    """One page's DevTools connection: numbered commands, each awaited for its own answer."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.counter = 0

    async def call(self, method: str, **params: object) -> dict[str, Any]:
        self.counter += 1
        number = self.counter
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == number:
                return dict(message.get("result", {}))


class Browser:
    """Headless Chromium driven over the DevTools protocol (websockets ships with Dagster)."""

    def __init__(self, chromium: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def page_socket(self) -> str:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=5) as r:
                    targets = json.loads(r.read())
                return str(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
            except (OSError, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()

    def shoot(self, url: str, target: Path, height: int = 1000, click: str | None = None) -> None:
        """Open `url`, optionally click the last element whose text is `click`, save a PNG."""
        asyncio.run(self._shoot(url, target, height, click))
        print(f"wrote {target.relative_to(PROJECT)} ({target.stat().st_size // 1024} KiB)")

    async def _shoot(self, url: str, target: Path, height: int, click: str | None) -> None:
        import websockets

        async with websockets.connect(self.page_socket(), max_size=2**26) as ws:
            call = DevtoolsPage(ws).call

            await call(
                "Emulation.setDeviceMetricsOverride",
                width=1600,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await call("Page.navigate", url=url)
            await asyncio.sleep(8)  # the UI loads its data after the page
            if click is not None:
                script = (
                    "(() => { const hits = [...document.querySelectorAll('a, button, span')]"
                    f".filter(e => e.textContent.trim() === {json.dumps(click)});"
                    " if (hits.length) hits[hits.length - 1].click(); return hits.length; })()"
                )
                found = await call("Runtime.evaluate", expression=script, returnByValue=True)
                if not found.get("result", {}).get("value"):
                    raise RuntimeError(f"nothing to click named {click!r} on {url}")
                await asyncio.sleep(2)
            shot = await call("Page.captureScreenshot", format="png")
            target.write_bytes(base64.b64decode(shot["data"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        config = (PROJECT / "scripts" / "dagster.local.yaml").read_text(encoding="utf-8")
        # No first-visit newsletter dialog over the screenshots.
        (home / "dagster.yaml").write_text(config + "\nnux:\n  enabled: false\n", "utf-8")
        root = Path(tmp) / "storage"
        folder = root / "pix-jobs" / JOB / "final_input"
        folder.mkdir(parents=True)
        for i in range(5):
            path = folder / f"IMG_{i:04d}.jpg"
            path.write_bytes(demo_photo(i))
            old = time.time() - 120
            os.utime(path, (old, old))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
        env.update(
            DAGSTER_HOME=str(home),
            PIX_LOCAL_ROOT=str(root),
            PIX_SENSOR_INTERVAL_SECONDS="3",
            PIX_SETTLE_SECONDS="1",
        )
        dev = subprocess.Popen(
            [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while not gallery_checked(port):
                if time.monotonic() > deadline:
                    print("the demo job was not processed within 5 minutes", file=sys.stderr)
                    return 1
                time.sleep(2)
            base = f"http://127.0.0.1:{port}"
            gallery = f"{base}/assets/gallery?view=partitions&partition={JOB}"
            browser = Browser(args.chromium)
            try:
                browser.shoot(f"{base}/asset-groups", OUT / "asset_graph.png")
                browser.shoot(gallery, OUT / "gallery_materialization.png", height=1300)
                browser.shoot(gallery, OUT / "contact_sheet.png", click="[Show Markdown]")
            finally:
                browser.close()
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
