"""In a real Chromium: Daniel drags a rectangle over a photo on the desk, clicks "Bereich
unkenntlich machen", and the Kundenansicht next to it shows the area obscured."""

import io
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import uvicorn
from PIL import Image

from pix_pipeline.desk import words
from pix_pipeline_tests.desk.rig import JOB, PASSWORD, USER, Rig
from pix_pipeline_tests.processes import free_port, wait_for


@pytest.fixture
def desk_url(rig: Rig) -> Iterator[str]:
    """The rig's desk app behind a real HTTP server in this process."""
    port = free_port()
    app = rig.client.app
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the desk to listen")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_a_dragged_rectangle_shows_obscured_in_the_customer_view(
    rig: Rig, desk_url: str, chromium: Any
):
    page = chromium.new_page()
    page.goto(f"{desk_url}/login")
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    image_id = rig.rows()["clean.jpg"].image_id
    page.goto(f"{desk_url}/jobs/{JOB}/photos/{image_id}")
    figure = page.locator("figure#internal")
    figure.locator("img").wait_for()
    b = figure.bounding_box()
    assert b is not None
    # From 20 % / 30 % to 60 % / 70 % of the photo.
    page.mouse.move(b["x"] + 0.2 * b["width"], b["y"] + 0.3 * b["height"])
    page.mouse.down()
    page.mouse.move(b["x"] + 0.4 * b["width"], b["y"] + 0.5 * b["height"], steps=5)
    page.mouse.move(b["x"] + 0.6 * b["width"], b["y"] + 0.7 * b["height"], steps=5)
    page.mouse.up()
    assert abs(float(page.input_value("input[name=x]")) - 0.2) < 0.01
    assert abs(float(page.input_value("input[name=h]")) - 0.4) < 0.01
    page.click(f"#area-form button:has-text('{words.T.redact_area}')")
    page.wait_for_url(f"**/jobs/{JOB}/photos/{image_id}")
    [area] = rig.runtime.registry.redactions_of_job(JOB)[image_id]
    assert (area.category, area.created_by) == ("area", USER)
    assert abs(area.x0 - 0.2) < 0.01 and abs(area.y1 - 0.7) < 0.01
    # The page shows the area in the Kundenansicht: the image the browser loaded is flat there.
    customer = page.locator("figure#customer img")
    wait_for(
        lambda: customer.evaluate("img => img.complete && img.naturalWidth > 0"),
        10,
        "the customer view to load",
    )
    shown = page.request.get(customer.evaluate("img => img.src"))
    internal = page.request.get(f"{desk_url}/photos/{image_id}/1600")
    new, old = rgb(shown.body()), rgb(internal.body())
    h, w = new.shape[:2]
    middle = (slice(int(0.4 * h), int(0.6 * h)), slice(int(0.3 * w), int(0.5 * w)))
    assert new[middle].std(axis=(0, 1)).max() < 2 < 4 < old[middle].std(axis=(0, 1)).max()
    outside = (slice(0, int(0.2 * h)), slice(int(0.75 * w), w))
    assert np.abs(new[outside] - old[outside]).mean() < 1.5
    # The area is listed with who made it unrecognisable.
    assert page.locator(".area-item").count() == 1
    page.screenshot(path=str(rig.harness.root / "redaction.png"), full_page=True)
