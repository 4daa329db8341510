"""A processed photo job and the review desk in front of it, for the desk's tests.

The job is real: JPEGs made by Pillow go through the sensor and the processing run, and the
privacy provider places known findings (a face on red-cornered photos, house number "17b"
on blue-cornered ones).
"""

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageDraw
from starlette.testclient import TestClient

from pix_pipeline.desk.app import build_app
from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.desk.runs import Launcher
from pix_pipeline.registry.schema import ImageRow
from pix_pipeline.runtime import Runtime
from pix_pipeline.settings import DeskSettings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled

JOB = "DESK1"
USER, PASSWORD = "daniel", "correct horse battery"
TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')


def marked(colour: tuple[int, int, int], seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo-like JPEG whose top-left corner has `colour` (the provider's signal)."""
    image = photo(size, seed=seed)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 8, size[1] // 8), fill=colour)
    return jpeg_bytes(image)


def plain(seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    image = photo(size, seed=seed)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 8, size[1] // 8), fill=(120, 160, 120))
    return jpeg_bytes(image)


def write_job(folder: Path) -> None:
    write_settled(folder / "face.jpg", marked((255, 0, 0), 1))
    write_settled(folder / "door.jpg", marked((0, 0, 255), 2, (600, 800)))
    write_settled(folder / "clean.jpg", plain(3))
    write_settled(folder / "broken.jpg", b"\xff\xd8\xff garbage")


def csrf(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page carries no csrftoken field"
    return found.group(1)


@dataclass
class Rig:
    harness: Harness
    runtime: Runtime
    client: TestClient
    settings: DeskSettings
    throttle: LoginThrottle

    def login(self, client: TestClient | None = None, password: str = PASSWORD) -> None:
        c = client or self.client
        page = c.get("/login")
        done = c.post(
            "/login",
            data={"user": USER, "password": password, "csrftoken": csrf(page.text), "next": "/"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text

    def rows(self, job_id: str = JOB) -> dict[str, ImageRow]:
        return {r.filename: r for r in self.runtime.registry.images_of_job(job_id)}

    def post(self, path: str, data: dict[str, str], page: str | None = None):  # type: ignore[no-untyped-def]
        """A form post as the browser sends it: with the token of the page it came from."""
        token = csrf(self.client.get(page or f"/jobs/{JOB}").text)
        return self.client.post(path, data={**data, "csrftoken": token}, follow_redirects=False)

    def new_app(self, dagster_url: str | None = None) -> TestClient:
        """Another browser on a desk over the same registry (optionally another Dagster)."""
        settings = self.settings
        if dagster_url is not None:
            settings = desk_settings(dagster_url)
        return desk_client(settings, self.runtime, self.throttle)


def desk_client(
    settings: DeskSettings,
    runtime: Runtime,
    throttle: LoginThrottle,
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> TestClient:
    app = build_app(
        settings,
        runtime,
        password=PASSWORD,
        launcher=Launcher(settings.dagster_url, timeout=10),
        throttle=throttle,
    )
    return TestClient(app, base_url="http://127.0.0.1:3001", client=client)


def desk_settings(dagster_url: str) -> DeskSettings:
    return DeskSettings(
        host="127.0.0.1",
        port=3001,
        user=USER,
        password=PASSWORD,
        secret="test-secret",
        dagster_url=dagster_url,
    )
