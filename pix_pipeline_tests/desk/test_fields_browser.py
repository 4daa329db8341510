"""Daniel's exposé content in a real Chromium: the desk's script saves a photo's fields without
reloading the page, dragging a card reorders the gallery, and "Als Titelbild" picks the cover.

The job is the desk rig's (processed in process); the desk is served by uvicorn on a free port.
"""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from pix_pipeline.desk import words
from pix_pipeline.desk.app import build_app
from pix_pipeline_tests.desk.rig import JOB, PASSWORD, USER, Rig
from pix_pipeline_tests.processes import free_port


@pytest.fixture
def desk_url(rig: Rig) -> Iterator[str]:
    port = free_port()
    app = build_app(rig.settings, rig.runtime, password=PASSWORD)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.05):
        if server.started:
            started.set()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def card(page: Any, filename: str) -> Any:
    return page.locator(f"article.photo[data-filename='{filename}']")


def test_daniel_sets_fields_drags_the_order_and_picks_a_cover_in_the_browser(
    rig: Rig, desk_url: str, chromium: Any
):
    ids = {name: row.image_id for name, row in rig.rows().items()}
    page = chromium.new_page()
    page.goto(f"{desk_url}/jobs/{JOB}")
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{desk_url}/jobs/{JOB}")
    page.evaluate("window.notReloaded = true")

    clean = card(page, "clean.jpg")
    clean.locator("select[name=room_type]").select_option(label=words.ROOM_TYPE["kitchen"])
    short = clean.locator("input[name=caption_short]")
    short.fill("Küche mit Insel")
    assert clean.locator(".count").inner_text() == "15/80"
    short.press("Enter")  # the keyboard saves
    saved = clean.locator(".saved")
    # The script says "Speichert …" until the answer is in, then how it went.
    page.wait_for_function(
        "([el, busy]) => el.textContent && el.textContent !== busy",
        arg=[saved.element_handle(), words.F.saving],
    )
    assert saved.inner_text() == words.F.saved
    assert clean.locator(".source[data-field=caption_short]").inner_text() == words.F.by_daniel
    assert page.evaluate("window.notReloaded") is True
    stored = rig.runtime.registry.semantic_values_of_image(ids["clean.jpg"])
    assert (stored["room_type"].value, stored["caption_short"].value) == (
        "kitchen",
        "Küche mit Insel",
    )

    # Dragged onto the first card, face.jpg goes first (the grid starts clean, door, face).
    # The drag's events as the browser sends them, on the cards' real positions.
    target = card(page, "clean.jpg")
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    transfer = page.evaluate_handle("() => new DataTransfer()")
    with page.expect_response(lambda r: r.url.endswith(f"/jobs/{JOB}/order")) as answer:
        card(page, "face.jpg").dispatch_event("dragstart", {"dataTransfer": transfer})
        where = {"dataTransfer": transfer, "clientX": box["x"] + 5, "clientY": box["y"] + 5}
        target.dispatch_event("dragover", where)
        target.dispatch_event("drop", where)
        card(page, "face.jpg").dispatch_event("dragend", {"dataTransfer": transfer})
    assert answer.value.ok
    order = page.locator("article.photo").evaluate_all(
        "cards => cards.map(c => c.dataset.filename)"
    )
    assert order == ["face.jpg", "clean.jpg", "door.jpg"]

    card(page, "door.jpg").get_by_role("button", name=words.F.make_cover).click()
    page.wait_for_load_state()
    card(page, "door.jpg").locator(".cover-badge").wait_for()

    document = rig.harness.read_json(JOB, "gallery/expose.json")
    assert [p["filename"] for p in document["images"]] == ["face.jpg", "clean.jpg", "door.jpg"]
    assert document["cover_image_id"] == ids["door.jpg"]
    photo = next(p for p in document["images"] if p["filename"] == "clean.jpg")
    assert (photo["room_type"], photo["caption_short"]) == ("kitchen", "Küche mit Insel")
