"""User text is text: a scenario name written as Markdown, a link, an image and styling is shown
as its literal characters to every session, fetches nothing, and downloads under a safe name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from streamlit.testing.v1 import AppTest

from cxroi.sim.scenario import parse_scenario
from cxroi.store import Store
from cxroi.testing.browser import free_port, open_page, wait_idle
from cxroi.text import WORD_JOINER
from tests.app.browser import choose_option, click_button, screenshot
from tests.app.conftest import EXAMPLE_SCENARIOS, SCREENSHOTS, app_environment

PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4b00000000049454e44ae426082")


@pytest.fixture
def pixel_server() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server answering every GET with a 1×1 PNG; yields (port, paths requested)."""
    requested: list[str] = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PIXEL)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Pixel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def hostile_name(port: int) -> str:
    """A scenario name that would load an image, link away and style itself if rendered."""
    return (f"![x](http://127.0.0.1:{port}/pixel.png) [details](http://127.0.0.1:{port}/link) "
            f":red[**APPROVED BY CFO**] :material/verified: <img src=http://127.0.0.1:{port}/tag.png>")


def shown_text(page) -> str:
    """What the main area shows (its text and the values of its inputs), without the invisible
    word joiners that keep addresses from becoming links."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const values = [...main.querySelectorAll('input')].map(i => i.value);
        return [main.innerText, ...values].join('\\n');
    }""").replace(WORD_JOINER, "")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_markdown_scenario_name_is_shown_as_text_and_fetches_nothing(browser, fresh_app_url, tmp_path,
                                                                      pixel_server):
    port, requested = pixel_server
    name = hostile_name(port)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        author = context.new_page()
        author.app_url = fresh_app_url
        open_page(author, "planner")
        author.get_by_text("Save this scenario").click()
        author.get_by_label("Name").fill(name)
        click_button(author, "Save")
        author.get_by_text("as version 1").wait_for()
        assert f"Saved '{name}' as version 1" in shown_text(author)
        store = Store(app_environment(tmp_path)["CXROI_DATABASE_URL"])
        store.save_scenario("Plain plan", parse_scenario(EXAMPLE_SCENARIOS[1]).to_dict())
        store.close()

        reader = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        reader.app_url = fresh_app_url
        open_page(reader, "planner")
        choose_option(reader, "Saved scenarios", f"{name} — version 1")
        click_button(reader, "Open")
        reader.get_by_text("version 1").first.wait_for()
        wait_idle(reader)
        assert f"Opened '{name}' version 1" in shown_text(reader)
        for path in ("Export", "Compare"):  # through the sidebar: the same session, the opened plan kept
            reader.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=path).click()
            wait_idle(reader)
            reader.wait_for_timeout(800)  # time for any image or chart to load
            screenshot(reader, SCREENSHOTS, f"hostile_name_{path.lower()}")
            assert name in shown_text(reader)
            assert reader.locator(f'img[src*=":{port}"], a[href*=":{port}"]').count() == 0
            assert reader.locator("strong", has_text="APPROVED BY CFO").count() == 0
        reader.context.close()
    finally:
        context.close()
    assert requested == []


CJK_NAME = "顧客体験投資計画" * 12 + "東京大阪名古屋"  # 103 characters, 309 bytes in UTF-8


def test_a_long_cjk_scenario_name_downloads_under_a_short_safe_name(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("CXROI_DATABASE_URL", f"sqlite:///{tmp_path / 'cjk.db'}")
    store = Store(f"sqlite:///{tmp_path / 'cjk.db'}")
    name = CJK_NAME[:100]
    store.save_scenario(name, parse_scenario({**EXAMPLE_SCENARIOS[1], "name": name}).to_dict())
    store.close()
    at = AppTest.from_string("from cxroi.app.pages.export import export\nexport()", default_timeout=60).run()
    at.selectbox[0].set_value((name, 1)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    names = [b.proto.help.removeprefix("Saves ") for b in at.get("download_button")]
    assert {n.rsplit(".", 1)[1] for n in names} >= {"xlsx", "csv", "parquet"}, names
    for file_name in names:
        assert len(file_name.encode()) <= 120 and file_name.startswith("顧客体験投資計画"), file_name
