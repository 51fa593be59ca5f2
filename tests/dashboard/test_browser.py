"""The dashboard in a real headless Chromium against a real service.

Debian's ``chromium`` package, driven by Playwright (``executable_path``:
Playwright cannot download its own browsers here). Without the browser the
tests skip, except under CI, where a missing browser fails them.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.service import ROOT, Service, wait_for_job
from tests.fixtures.streams import slow_digits_spec

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "test-artifacts" / "dashboard-job.png"
# Playwright's waits are in milliseconds.
WAIT_MS = 60_000


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing; install it with `apt-get install chromium`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(tmp_path_factory.mktemp("dashboard")).start()
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page that fails the test on any script error or console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    yield opened
    context.close()
    assert errors == []


def submit(service: Service, spec: dict[str, Any]) -> str:
    response = httpx.post(f"{service.url}/v1/jobs", json=spec, timeout=30)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def points(page: Any) -> int:
    return int(page.evaluate("window.descentJob.charts.loss.data[0].length"))


def test_curves_grow_while_training_and_the_button_cancels(
    service: Service, page: Any
) -> None:
    job_id = submit(service, slow_digits_spec(epochs=2000))
    try:
        page.goto(f"{service.url}/jobs/{job_id}")
        page.wait_for_function(
            "window.descentJob?.charts.loss.data[0].length >= 3", timeout=WAIT_MS
        )
        before = points(page)
        page.wait_for_function(
            f"window.descentJob.charts.loss.data[0].length >= {before + 3}",
            timeout=WAIT_MS,
        )
        assert page.text_content("#status") == "running"
        # Three dense layers: three gradient-flow series beside the x values.
        gradients = page.evaluate("window.descentJob.charts.gradients.data")
        assert len(gradients) == 4 and all(v > 0 for v in gradients[1] if v)
        assert page.evaluate("window.descentJob.charts.lr.data[1][0]") == 0.001

        page.wait_for_function(
            "window.descentJob.charts.loss.data[0].length >= 12", timeout=WAIT_MS
        )
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        page.click("#cancel")
        page.wait_for_function(
            "document.getElementById('status').textContent === 'cancelled'",
            timeout=WAIT_MS,
        )
        assert page.is_disabled("#cancel")
    finally:
        httpx.post(f"{service.url}/v1/jobs/{job_id}/cancel", timeout=30)
    with service.client() as http:
        assert wait_for_job(http, job_id, timeout_s=30)["status"] == "cancelled"


def test_the_list_links_a_finished_job_to_its_model_page(
    service: Service, page: Any
) -> None:
    spec = {
        "dataset": "iris",
        "network": {
            "layers": [
                {"type": "dense", "units": 8, "activation": "relu"},
                {"type": "dense", "units": 3, "activation": "softmax"},
            ]
        },
        "loss": "cross_entropy",
        "optimizer": {"name": "adam", "learning_rate": 0.02},
        "training": {"epochs": 40, "batch_size": 16, "test_split": 0.2, "seed": 0},
    }
    job_id = submit(service, spec)
    with service.client() as http:
        assert wait_for_job(http, job_id)["status"] == "succeeded"

    page.goto(f"{service.url}/")
    page.click(f'a[href="/jobs/{job_id}"]')
    # The page opens on the finished job; the stream then replays its epochs.
    page.wait_for_function(
        "window.descentJob?.charts.loss.data[0].length === 40", timeout=WAIT_MS
    )
    assert page.text_content("#status") == "succeeded"
    page.click("#model a")
    assert page.locator("#confusion tbody tr").count() == 3
    for index, value in enumerate(["5.1", "3.5", "1.4", "0.2"]):
        page.fill(f'input[name="f{index}"]', value)
    page.click("#predict button[type=submit]")
    page.wait_for_selector("#predicted", timeout=WAIT_MS)
    assert page.text_content("#predicted") == "Prediction: setosa"
