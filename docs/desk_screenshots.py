"""Screenshots of the review desk with real processed photos.

Builds a demo job in a temporary storage and registry: scikit-image's astronaut (a real
face), a house front with a big house number, a clean room and a broken file. Runs the real
pipeline on it in process (sensor tick, process_pix_job, the local privacy check), serves
the desk on a free port, logs in, and has headless Chromium (Debian: `apt-get install
chromium`) photograph the jobs list, the job page, the page after a refused release and the
house front's own page with a dragged area made unrecognisable ("Kundenansicht").
docs/images/desk_job.png and desk_redaction.png are written as small palette PNGs; the others
go to --out.

    .venv/bin/python docs/desk_screenshots.py [--chromium /usr/bin/chromium] [--out /tmp]
"""

import argparse
import asyncio
import base64
import io
import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from pix_pipeline.runtime import Runtime

# Run as a script, this folder is on sys.path: the Dagster UI screenshots' browser and ports.
from ui_screenshots import Browser, DevtoolsPage, free_port

if TYPE_CHECKING:
    from pix_pipeline.runtime import Runtime

PROJECT = Path(__file__).resolve().parents[1]
JOB = "MUSTER-17"
QUIET_JOB = "MUSTER-12"
PASSWORD = "screenshot"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
# A shot's script that starts with this names an element to photograph alone.
CLIP = "clip:"


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def astronaut() -> bytes:
    from skimage import data

    return jpeg(Image.fromarray(data.astronaut()).resize((1536, 1536), Image.Resampling.LANCZOS))


def house_front() -> bytes:
    """A plastered facade with a door and a large house number plate beside it."""
    image = Image.new("RGB", (2400, 1600), (214, 204, 186))
    draw = ImageDraw.Draw(image)
    for y in range(0, 1600, 40):  # plaster texture
        draw.line((0, y, 2400, y + 6), fill=(206, 196, 178), width=3)
    draw.rectangle((0, 1320, 2400, 1600), fill=(120, 118, 112))
    draw.rectangle((900, 560, 1300, 1320), fill=(92, 62, 40))
    draw.rectangle((940, 600, 1260, 900), fill=(140, 170, 190))
    draw.rectangle((1420, 640, 1860, 900), fill=(30, 60, 120))
    draw.text((1460, 645), "17b", font=ImageFont.truetype(BOLD, 200), fill=(250, 250, 250))
    draw.rectangle((200, 420, 700, 900), fill=(150, 180, 200), outline=(250, 250, 250), width=18)
    return jpeg(image)


def room() -> bytes:
    image = Image.new("RGB", (2400, 1600), (206, 198, 184))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 1150, 2400, 1600), fill=(128, 96, 64))
    draw.rectangle((1500, 260, 2100, 900), fill=(170, 200, 225), outline=(245, 245, 245), width=20)
    draw.rectangle((300, 820, 1200, 1250), fill=(70, 80, 95))
    draw.rectangle((340, 700, 1160, 860), fill=(80, 92, 108))
    noise = Image.effect_noise((2400, 1600), 18).convert("RGB")
    return jpeg(Image.blend(image, noise, 0.12))


def settled(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - 300
    os.utime(path, (past, past))


def process(root: Path) -> None:
    """The sensor's tick and the job's run, in this process, as Dagster would run them."""
    import dagster as dg

    from pix_pipeline.definitions import build_definitions
    from pix_pipeline.defs.partitions import PIX_JOBS
    from pix_pipeline.settings import load_settings

    folder = root / "pix-jobs" / JOB / "final_input"
    settled(folder / "Wohnzimmer.jpg", room())
    settled(folder / "Portrait_Eigentuemer.jpg", astronaut())
    settled(folder / "Hausansicht.jpg", house_front())
    settled(folder / "Flur_abgebrochen.jpg", b"\xff\xd8\xff\xe0 upload stopped here")
    quiet = root / "pix-jobs" / QUIET_JOB / "final_input"
    settled(quiet / "Kueche.jpg", room())
    settled(quiet / "Bad.jpg", room())
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        sensor = defs.resolve_sensor_def("final_input_sensor")
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(PIX_JOBS, list(request.partition_keys))
        for job_id in (QUIET_JOB, JOB):
            run = defs.resolve_job_def("process_pix_job").execute_in_process(
                instance=instance, partition_key=job_id
            )
            assert run.success


def fill_in(runtime: "Runtime") -> None:
    """Daniel's exposé content for the living room photo: its fields, first place, cover."""
    from pix_pipeline.domain.curation import move_photo, set_cover, set_photo_fields

    rows = {r.filename: r for r in runtime.registry.images_of_job(JOB)}
    living = rows["Wohnzimmer.jpg"].image_id
    set_photo_fields(
        runtime,
        JOB,
        living,
        {
            "room_type": "living_room",
            "view_type": "interior",
            "caption_short": "Helles Wohnzimmer mit Parkett",
            "caption_long": "Großes Wohnzimmer mit zwei Fenstern nach Süden und Eichenparkett.",
        },
        by="daniel",
    )
    move_photo(runtime, JOB, living, -10)
    set_cover(runtime, JOB, living)


class Chromium(Browser):
    """ui_screenshots' headless Chromium, with the desk's login cookies set before each page."""

    def shoot_logged_in(
        self, cookies: dict[str, str], shots: list[tuple[str, Path, str | None]], port: int
    ) -> None:
        asyncio.run(self._shoot(cookies, shots, port))

    async def _shoot(
        self, cookies: dict[str, str], shots: list[tuple[str, Path, str | None]], port: int
    ) -> None:
        import websockets

        async with websockets.connect(self.page_socket(), max_size=2**27) as ws:
            call = DevtoolsPage(ws).call

            await call("Page.enable")
            await call(
                "Emulation.setDeviceMetricsOverride",
                width=1400,
                height=1000,
                deviceScaleFactor=1,
                mobile=False,
            )
            for name, value in cookies.items():
                await call(
                    "Network.setCookie", name=name, value=value, url=f"http://127.0.0.1:{port}/"
                )
            for url, target, script in shots:
                await call("Page.navigate", url=url)
                await asyncio.sleep(2.5)
                # Scroll through once so lazy previews load, then back to the top.
                await call("Runtime.evaluate", expression="window.scrollTo(0, 99999)")
                await asyncio.sleep(1.0)
                await call("Runtime.evaluate", expression="window.scrollTo(0, 0)")
                await asyncio.sleep(1.0)
                clip = None
                if script and script.startswith(CLIP):
                    # Only the element the selector names, e.g. one photo card.
                    found = await call(
                        "Runtime.evaluate",
                        expression="JSON.stringify(document.querySelector("
                        f"{script[len(CLIP) :]!r}).getBoundingClientRect())",
                        returnByValue=True,
                    )
                    rect = json.loads(found["result"]["value"])
                    clip = {k: rect[k] for k in ("x", "y", "width", "height")} | {"scale": 1}
                elif script:
                    await call("Runtime.evaluate", expression=script)
                    await asyncio.sleep(2.5)
                options = {"clip": clip, "captureBeyondViewport": True} if clip else {}
                shot = await call("Page.captureScreenshot", format="png", **options)
                target.write_bytes(base64.b64decode(shot["data"]))
                print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


def redact_a_dragged_area(client: "httpx.Client", runtime: "Runtime") -> str:
    """Daniel's rectangle over the house front's door, sent as the desk's form does without
    JavaScript; returns the photo's image_id."""
    [house] = [r for r in runtime.registry.images_of_job(JOB) if r.filename == "Hausansicht.jpg"]
    page = f"/jobs/{JOB}/photos/{house.image_id}"
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get(page).text)
    assert token
    area = {"x": "0.07", "y": "0.26", "w": "0.21", "h": "0.3", "csrftoken": token.group(1)}
    done = client.post(f"{page}/redact-area", data=area)
    assert done.status_code in (200, 303), done.text
    return house.image_id


def small_png(source: Path, target: Path) -> None:
    """A palette PNG of the screenshot: readable and under 300 KB for the repository."""
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(
            target, optimize=True
        )
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "storage"
        (root / "pix-jobs").mkdir(parents=True)
        os.environ["PIX_LOCAL_ROOT"] = str(root)
        process(root)

        from pix_pipeline.desk.app import build_app
        from pix_pipeline.runtime import build_runtime
        from pix_pipeline.settings import DeskSettings, load_settings

        port = free_port()
        desk = DeskSettings("127.0.0.1", port, "daniel", PASSWORD, "shots", "http://127.0.0.1:3000")
        runtime = build_runtime(load_settings())
        fill_in(runtime)
        server = uvicorn.Server(
            uvicorn.Config(
                build_app(desk, runtime, password=PASSWORD), port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            page = client.get("/login")
            token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
            assert token
            client.post(
                "/login", data={"user": "daniel", "password": PASSWORD, "csrftoken": token.group(1)}
            )
            cookies = dict(client.cookies.items())
            house = redact_a_dragged_area(client, runtime)
        chromium = Chromium(args.chromium)
        args.out.mkdir(parents=True, exist_ok=True)
        job_png = args.out / "desk_job_full.png"
        redaction_png = args.out / "desk_redaction_full.png"
        release = "document.querySelector('.release-form button[type=submit]').click()"
        enlarge = "document.querySelectorAll('a.preview')[1].click()"
        card = f"{CLIP}article.photo[data-filename='Wohnzimmer.jpg']"
        try:
            chromium.shoot_logged_in(
                cookies,
                [
                    (f"{base}/", args.out / "desk_jobs.png", None),
                    (f"{base}/jobs/{JOB}", job_png, None),
                    (f"{base}/jobs/{JOB}", args.out / "desk_refused.png", release),
                    (f"{base}/jobs/{JOB}", args.out / "desk_large.png", enlarge),
                    (f"{base}/jobs/{JOB}/photos/{house}", redaction_png, None),
                    (f"{base}/jobs/{JOB}", args.out / "desk_card.png", card),
                ],
                port,
            )
        finally:
            chromium.close()
            server.should_exit = True
            thread.join(timeout=10)
            runtime.close()
        small_png(job_png, PROJECT / "docs" / "images" / "desk_job.png")
        small_png(redaction_png, PROJECT / "docs" / "images" / "desk_redaction.png")
        small_png(args.out / "desk_card.png", PROJECT / "docs" / "images" / "desk_card.png")


if __name__ == "__main__":
    main()
