"""The review desk driven in real headless Chromium (Debian's `chromium` and
`chromium-driver`; nothing is downloaded): open a letter, see its page image,
correct its number, mark a task done, follow task → letter → cited letter →
citing letter.  One browser session for the whole flow; a screenshot of each
step is saved under the test's tmp folder (printed), and with
CONGVAN_DESK_SCREENSHOT=PATH the letter's page is also saved to PATH (how
docs/desk.png is made).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from desk_support import build_desk_db

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="headless Chromium is not installed (apt-get install chromium chromium-driver)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def desk_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    from pipeline.analyst.serve import make_datasette

    monkeypatch.setenv("CONGVAN_CACHE_DIR", str(tmp_path / "cache"))
    db_path = build_desk_db(tmp_path / "desk")
    datasette = make_datasette(db_path)
    asyncio.run(datasette.invoke_startup())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(datasette.app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", db_path
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}", "--lang=vi"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_desk_flow_in_headless_chromium(desk_server, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    base, db_path = desk_server
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> None:
        browser.save_screenshot(str(shots / f"{name}.png"))

    def click_and_wait(element) -> None:  # type: ignore[no-untyped-def]
        """Click a link or a submit button and wait until the next page replaced this one."""
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        html = browser.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(browser, 10).until(expected_conditions.staleness_of(html))

    def image_loaded(element) -> bool:  # type: ignore[no-untyped-def]
        for _ in range(100):
            if browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", element):
                return True
            time.sleep(0.1)
        return False

    # 1. The queue, oldest first: the decision (its subject was not read), then the plan
    #    (its number was not read); "Next" walks from one to the other.
    browser.get(f"{base}/-/desk")
    assert "Bàn rà soát / Review desk" in browser.title
    rows = browser.find_element(By.ID, "queue").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.text.split(" ")[0] for r in rows] == ["2011/QĐ-UBND", "(không"]
    assert "Số, ký hiệu / Number" in rows[1].text
    shot("01-queue")
    click_and_wait(browser.find_element(By.ID, "start-review"))
    assert browser.find_element(By.ID, "doc-number").text == "2011/QĐ-UBND"
    click_and_wait(browser.find_element(By.ID, "next"))
    assert browser.find_element(By.ID, "doc-number").text == "(không số / no number)"

    # 2. Its page image, rendered from the original kept in done/2024/03/, beside the fields;
    #    the missing number shows the crop of its slot.
    page = browser.find_element(By.ID, "page-1")
    assert image_loaded(page) and page.size["width"] > 300
    crop = browser.find_element(By.ID, "crop-doc_number")
    assert image_loaded(crop)
    field = browser.find_element(By.ID, "field-doc_number")
    assert "trống / null" in field.text and "0.00" in field.text  # the confidence, marked low
    shot("02-letter-with-page-image")
    if os.environ.get("CONGVAN_DESK_SCREENSHOT"):
        shutil.copy(shots / "02-letter-with-page-image.png", os.environ["CONGVAN_DESK_SCREENSHOT"])

    # 3. Correct the number: a POST with Datasette's CSRF token; the history shows it.
    browser.find_element(By.ID, "desk-by").send_keys("Nguyễn Thị Lan")
    number_input = field.find_element(By.NAME, "value")
    number_input.clear()
    number_input.send_keys("35/KH-UBND")
    click_and_wait(field.find_element(By.CSS_SELECTOR, "form.correct button"))
    assert browser.find_element(By.ID, "doc-number").text == "35/KH-UBND"
    assert "doc_number saved" in browser.find_element(By.ID, "saved").text
    history = browser.find_element(By.ID, "history").find_element(By.XPATH, "following-sibling::table").text
    assert "Nguyễn Thị Lan" in history and "35/KH-UBND" in history
    # The corrected number links the letter that cited it.
    assert "61/PNV" in browser.find_element(By.ID, "cited-by").find_element(By.XPATH, "following-sibling::ul").text
    shot("03-number-corrected")

    # 4. Mark the first task done.
    task = browser.find_elements(By.CSS_SELECTOR, ".task")[0]
    task_id = task.get_attribute("id")
    click_and_wait(task.find_element(By.CSS_SELECTOR, "button.done"))
    task = browser.find_element(By.ID, task_id)
    assert "✓ xong / done (Nguyễn Thị Lan" in task.find_element(By.CLASS_NAME, "task-state").text
    shot("04-task-done")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select doc_number from documents where doc_number = '35/KH-UBND'").fetchone()
        assert conn.execute("select count(*) from tasks where done_at is not null").fetchone() == (1,)
        assert conn.execute("select by from corrections order by id").fetchall() == [("Nguyễn Thị Lan",)] * 2

    # 5. task → letter → cited letter → citing letter, starting from a canned query.
    browser.get(f"{base}/congvan/upcoming_deadlines?today=2024-03-01&days=60")
    shot("05-canned-query")
    click_and_wait(browser.find_element(By.PARTIAL_LINK_TEXT, "nhiệm vụ / task"))
    assert browser.find_element(By.ID, "doc-number").text == "35/KH-UBND"
    assert browser.current_url.split("#")[1].startswith("task-")
    click_and_wait(browser.find_element(By.CSS_SELECTOR, "a.cited"))
    assert browser.find_element(By.ID, "doc-number").text == "2011/QĐ-UBND"
    shot("06-cited-letter")
    citing = browser.find_element(By.CSS_SELECTOR, "a.citing")
    assert citing.text == "35/KH-UBND"
    click_and_wait(citing)
    assert browser.find_element(By.ID, "doc-number").text == "35/KH-UBND"
    shot("07-back-to-the-plan")
    print(f"\nscreenshots: {shots}")
    assert len(list(shots.glob("*.png"))) == 7
