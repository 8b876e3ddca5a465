"""A class run from a server whose default is the teacher's own colour model (Tiny VGG) with a
digit model beside it (the imported LeNet-5): the class reads digits with the digit model.
A student's page on the colour model offers to switch before "Send to class", and a spotlight
switches it to the digit model and back, the student's photo restored."""
from __future__ import annotations

import httpx
import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.main import create_app
from tests.browser.conftest import ready, settled
from tests.browser.helpers import class_session, draw_seven, opener, pick_picture, serve


@pytest.fixture(scope="module")
def class_url(imported_models, tmp_path_factory):
    db, token, code = class_session(tmp_path_factory.mktemp("class-models"))
    settings = Settings(model_path=imported_models / "tinyvgg.npz",
                        extra_models=(imported_models / "lenet5.npz",), classroom=True,
                        session_db=db, submits_per_minute=60)
    with serve(create_app(settings)) as url:
        yield url, token, code


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    yy, xx = np.mgrid[0:64, 0:96]
    img = np.stack([xx * 2 % 256, yy * 3 % 256, (255 - xx) % 256], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(img).save(path)
    return path


def model_id(page):
    return page.evaluate("() => window.convscope.store.get().modelId")


def test_a_student_on_the_teachers_colour_model_switches_to_send_a_digit(browser, class_url, photo):
    url, token, code = class_url
    with opener(browser, url) as open_page:
        page = open_page(f"/?code={code}")
        page.wait_for_selector(".class-switch", timeout=15_000)
        ready(page)
        assert model_id(page) == "tinyvgg"
        assert page.text_content(".class-bar .class-note") == "The class collects digits on lenet5."
        assert page.locator(".class-send").count() == 0
        page.click(".class-switch")
        page.wait_for_selector(".class-send")
        ready(page)
        assert model_id(page) == "lenet5" and "model=lenet5" in page.url
        draw_seven(page)
        page.click(".class-send")
        page.wait_for_function("() => document.querySelector('.class-result')?.textContent.startsWith('Sent.')")
        sent = page.text_content(".class-result")
        shown = page.evaluate("() => { const s = window.convscope.store.get(); return s.model.classes[s.trace.prediction]; }")
        assert sent.startswith(f"Sent. The network reads it as {shown} ("), sent
        # Back on the colour model by the selector: the bar offers the switch again.
        page.select_option("#model-select", "tinyvgg")
        page.wait_for_selector(".class-switch")
        ready(page)

        # A spotlight: the page switches to the class's model for the teacher's digit ...
        pick_picture(page, photo)
        before = page.evaluate("() => window.convscope.store.get().trace.body.image")
        teacher = {"authorization": f"Bearer {token}"}
        r = httpx.post(f"{url}/api/class/spotlight", headers=teacher, timeout=10,
                       json={"digit": {"sample": [3, 0]}, "focus": {"layer": "conv1", "unit": [2, 14, 14]}})
        assert r.status_code == 200, r.text
        page.wait_for_function("() => document.body.dataset.spotlight === 'on' && window.convscope.store.get().modelId === 'lenet5'"
                               " && window.convscope.store.get().pinned?.layer === 'conv1'", timeout=15_000)
        settled(page)
        sample = httpx.get(f"{url}/api/samples?digit=3&index=0&model=lenet5", timeout=10).json()
        # The class sends its stored digits as they are (no MNIST recipe again).
        want = httpx.post(f"{url}/api/forward?model=lenet5", json={**sample, "preprocess": False},
                          timeout=10).json()
        got = page.evaluate("() => Array.from(window.convscope.store.get().trace.probabilities)")
        assert np.allclose(got, want["probabilities"], atol=1e-6)
        page.wait_for_selector('#explain[data-layer="conv1"][data-unit="2,14,14"]')
        # ... and back to the student's own model and photo when it is released.
        assert httpx.delete(f"{url}/api/class/spotlight", headers=teacher, timeout=10).status_code == 204
        page.wait_for_function("() => document.body.dataset.spotlight === 'off' && window.convscope.store.get().modelId === 'tinyvgg'"
                               " && window.convscope.store.get().trace?.body?.image", timeout=15_000)
        settled(page)
        assert page.evaluate("() => window.convscope.store.get().trace.body.image") == before
        page.wait_for_selector(".class-switch")
        page.screenshot(path="/tmp/convscope-class-models.png")
