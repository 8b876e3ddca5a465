"""Links on a picture model (Tiny VGG, 64×64×3): a link cannot carry a photo, so Copy link keeps
the picture on screen (it used to turn the pad's full alpha into 56×56 white ink and replace the
photo), says so, and the link reopens the same model, tab and pinned unit without a drawing.
Screenshot: /tmp/convscope-link-picture.png."""
import numpy as np
import pytest
from PIL import Image

from app.main import create_app
from app.config import Settings
from tests.browser.conftest import ready, settled
from tests.browser.helpers import assert_no_errors, new_page, serve


@pytest.fixture(scope="module")
def picture_url(imported_models):
    with serve(create_app(Settings(model_path=imported_models / "tinyvgg.npz"))) as url:
        yield url


def channel_spread(page):
    return page.evaluate("""() => { const l = window.convscope.store.get().trace.byName.get('input');
        const n = l.shape[1] * l.shape[2]; let d = 0;
        for (let i = 0; i < n; i++) d += Math.abs(l.values[i] - l.values[n + i]); return d / n; }""")


def test_copy_link_keeps_the_picture_and_reopens_the_view(browser, picture_url, tmp_path):
    ctx, page = new_page(browser, picture_url + "/")
    other_ctx = None
    try:
        ctx.grant_permissions(["clipboard-read", "clipboard-write"])
        ready(page)
        yy, xx = np.mgrid[0:80, 0:120]
        picture = np.stack([xx * 2 % 256, yy * 3 % 256, (255 - xx) % 256], -1).astype(np.uint8)
        Image.fromarray(picture).save(tmp_path / "p.png")
        page.set_input_files("#pad-file", str(tmp_path / "p.png"))
        page.wait_for_function("() => window.convscope.store.get().trace.body.image")
        settled(page)
        before = channel_spread(page)
        assert before > 0.1
        assert page.evaluate("(v) => window.convscope.views.apply(v)",
                             {"tab": "network", "pin": {"layer": "conv1", "unit": [3, 20, 30]}}) == []
        page.wait_for_function("() => window.convscope.store.get().explanation")
        page.click("#share-button")
        page.click("#share-copy")
        page.wait_for_function("() => window.convscope.store.get().linkCopied")
        href = page.evaluate("() => window.convscope.store.get().linkCopied")
        assert "ink=" not in href and "sample=" not in href and "pin=conv1:3,20,30" in href
        assert "cannot carry a photo" in page.text_content("#share-status")
        settled(page)
        # The photo is still what the network reads: not a white square of link ink.
        assert page.evaluate("() => !!window.convscope.store.get().trace.body.image")
        assert channel_spread(page) == pytest.approx(before)
        page.screenshot(path="/tmp/convscope-link-picture.png")

        other_ctx, other = new_page(browser, href)
        ready(other)
        other.wait_for_function("() => window.convscope.store.get().explanation")
        s = other.evaluate("""() => { const s = window.convscope.store.get();
            return { model: s.modelId, tab: s.tab, pinned: s.pinned, layer: s.explanation.layer, unit: s.explanation.unit }; }""")
        assert s == {"model": "tinyvgg", "tab": "network", "pinned": {"layer": "conv1", "unit": [3, 20, 30]},
                     "layer": "conv1", "unit": [3, 20, 30]}
        assert other.locator("#link-note").is_hidden()
        assert_no_errors([page, other])
    finally:
        ctx.close()
        if other_ctx:
            other_ctx.close()
