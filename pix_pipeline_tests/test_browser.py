"""The browser the end-to-end tests use: Debian's Chromium, headless, driven by Playwright."""

import pytest

from pix_pipeline_tests.browser import chromium_problem, require_chromium


def test_chromium_renders_a_page_and_reports_where_an_element_sits(chromium):  # type: ignore[no-untyped-def]
    page = chromium.new_page()
    page.set_content(
        "<body style='margin:0'><img id=photo width=400 height=300"
        " style='display:block;margin:40px 0 0 20px'>"
        "<span id=box data-box='0.25,0.5,0.75,1.0'"
        " style='position:absolute;left:120px;top:190px;width:200px;height:150px'></span>"
        "</body>"
    )
    photo = page.locator("#photo").bounding_box()
    box = page.locator("#box").bounding_box()
    assert photo == {"x": 20, "y": 40, "width": 400, "height": 300}
    x0, y0, x1, y1 = (float(v) for v in page.locator("#box").get_attribute("data-box").split(","))
    assert box == {
        "x": photo["x"] + x0 * photo["width"],
        "y": photo["y"] + y0 * photo["height"],
        "width": (x1 - x0) * photo["width"],
        "height": (y1 - y0) * photo["height"],
    }
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")


def test_a_missing_browser_is_named_with_how_to_install_it(tmp_path):  # type: ignore[no-untyped-def]
    problem = chromium_problem(str(tmp_path / "no-chromium"))
    assert problem is not None
    assert "no-chromium" in problem and "apt-get install chromium" in problem


def test_without_chromium_browser_tests_skip_unless_ci_requires_them(  # type: ignore[no-untyped-def]
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("PIX_REQUIRE_CHROMIUM", raising=False)
    with pytest.raises(pytest.skip.Exception, match="browser tests skipped: no Chromium"):
        require_chromium()
    monkeypatch.setenv("PIX_REQUIRE_CHROMIUM", "1")
    with pytest.raises(pytest.fail.Exception, match="PIX_REQUIRE_CHROMIUM=1 but no Chromium"):
        require_chromium()
