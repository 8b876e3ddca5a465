"""The camera snapshot of a picture model (static/js/views/camera.js) in a real Chromium.

Chromium's fake camera (--use-fake-device-for-media-stream) draws a moving test pattern, green
on green; --use-fake-ui-for-media-stream answers the permission prompt "allow". The Tiny VGG
import (3×64×64 RGB) is the picture model; the shipped MNIST model is a drawing one.

- Camera -> live preview -> Take photo: the pattern reaches the network in colour through the
  picker's path (an image body), every track of the stream has ended, focus comes back, no CSP
  violation or console error; Permissions-Policy lets the page have the camera and no microphone.
- "Switch camera" moves to the next camera (the first one stopped), "Mirror" flips the preview
  and the photo alike (compared with the held frame), and both are kept for the next photo.
- Every way out stops the stream: Cancel, Escape, an app tab switch, a hidden page, pagehide,
  a frozen pad (the class's "Eyes up"), a model switch; the pad is left as it was.
- A refused camera (getUserMedia rejecting NotAllowedError) and a machine with no camera (this
  Chromium without the fake device) give the calm note, not an exception.
- A plain-http phone on the LAN has no navigator.mediaDevices: Camera is then a file input with
  capture="environment", and a photo through it reaches the network.
- Screenshots (laptop 1280×720, phone 390×844) of the dialog and of the photo read by the
  network: /tmp/convscope-camera-*.png; the dialog fits the phone's screen.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM, ready, settled
from tests.browser.helpers import assert_no_errors
from tests.browser.test_csp import LISTEN
from tests.browser.test_imported import imported_url  # noqa: F401  (the module's server fixture)

# two fake cameras (fake_device_0, fake_device_1): "Switch camera" has somewhere to go
FAKE_CAMERA = ["--use-fake-device-for-media-stream=device-count=2",
               "--use-fake-ui-for-media-stream"]
RED, BLUE = (230, 20, 20), (20, 20, 230)
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
             device_scale_factor=2)
# Every stream the page is given, kept so a test can ask whether its tracks have ended.
RECORD_STREAMS = """window.__streams = [];
if (navigator.mediaDevices?.getUserMedia) {
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await gum(c); window.__streams.push(s); return s; };
}"""
DENY = """navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"""
# What a phone on http://192.168.x.x sees: not a secure context, so no mediaDevices at all.
INSECURE = "delete Navigator.prototype.mediaDevices;"

PLAYING = """() => { const v = document.getElementById('camera-video');
  return v.readyState >= 2 && v.currentTime > 0
    && !document.getElementById('camera-take').disabled; }"""
PICTURE_IN = """() => { const c = window.convscope, s = c.store.get();
  return !c.pad.blank && s.trace && s.trace.body.image && s.trace.body === s.drawing
    && c.live.idle; }"""
TRACKS = "() => window.__streams.map(s => s.getTracks().map(t => t.readyState))"
# The input layer's mean per channel (normalised).
CHANNELS = """() => { const l = window.convscope.store.get().trace.byName.get('input');
  const n = l.values.length / 3, m = [0, 0, 0];
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) m[c] += l.values[c * n + i] / n;
  return m; }"""
OPEN = "() => document.getElementById('camera-dialog').open"
CLOSED = "() => !document.getElementById('camera-dialog').open && !window.convscope.camera.active"
FOCUSED = "() => document.activeElement.id"
BODY = "() => window.convscope.store.get().trace.body"
# The left and right quarters of the pad (mean RGB, 0..255) and of the network's input (mean of
# each normalised channel over those columns).
HALVES = """() => { const c = window.convscope.pad.canvas, w = c.width, h = c.height;
  const d = c.getContext('2d').getImageData(0, 0, w, h).data, q = Math.floor(w / 4);
  const pad = [[0, 0, 0], [0, 0, 0]];
  for (let y = 0; y < h; y++) for (let x = 0; x < q; x++) for (let k = 0; k < 3; k++) {
    pad[0][k] += d[(y * w + x) * 4 + k] / (q * h);
    pad[1][k] += d[(y * w + w - 1 - x) * 4 + k] / (q * h); }
  const l = window.convscope.store.get().trace.byName.get('input'), [C, H, W] = l.shape, Q = W / 4;
  const input = [[0, 0, 0], [0, 0, 0]];
  for (let ch = 0; ch < C; ch++) for (let y = 0; y < H; y++) for (let x = 0; x < Q; x++) {
    input[0][ch] += l.values[(ch * H + y) * W + x] / (Q * H);
    input[1][ch] += l.values[(ch * H + y) * W + W - 1 - x] / (Q * H); }
  return { pad, input }; }"""
LABEL = "() => document.getElementById('camera-video').srcObject.getVideoTracks()[0].label"
FREEZE = "(on) => document.querySelectorAll('.pad-tools button').forEach(b => { b.disabled = on; })"


@pytest.fixture(scope="module")
def camera_browser(browser):
    """A second Chromium from the session's Playwright, with the fake camera and prompt."""
    b = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=FAKE_CAMERA)
    yield b
    b.close()


@pytest.fixture(scope="module")
def split_camera(browser, tmp_path_factory):
    """A Chromium whose camera films one still picture: red on its left half, blue on its right
    (a Y4M file, BT.601 studio range: Chromium shows it back within a level or two)."""
    w, h = 640, 480
    rgb = np.zeros((h, w, 3))
    rgb[:, : w // 2], rgb[:, w // 2:] = RED, BLUE
    r, g, b = np.moveaxis(rgb, -1, 0)
    planes = (16 + 0.257 * r + 0.504 * g + 0.098 * b, 128 - 0.148 * r - 0.291 * g + 0.439 * b,
              128 + 0.439 * r - 0.368 * g - 0.071 * b)
    sub = [planes[0]] + [p.reshape(h // 2, 2, w // 2, 2).mean((1, 3)) for p in planes[1:]]
    frame = b"FRAME\n" + b"".join(np.rint(p).clip(0, 255).astype(np.uint8).tobytes() for p in sub)
    path = tmp_path_factory.mktemp("camera") / "split.y4m"
    path.write_bytes(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 2)
    b = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=[
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={path}"])
    yield b
    b.close()


@pytest.fixture
def open_camera_page(camera_browser, imported_url):  # noqa: F811  (the fixture imported above)
    opened = []

    def _open(path="/?model=tinyvgg", init=(RECORD_STREAMS,), browser=None, base=None, **context):
        ctx = (browser or camera_browser).new_context(
            **({"viewport": {"width": 1280, "height": 720}} | context))
        for script in (LISTEN, *init):
            ctx.add_init_script(script)
        page = ctx.new_page()
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
        page.goto((base or imported_url) + path)
        opened.append((ctx, page))
        ready(page)
        return page
    yield _open
    violations = [v for _, p in opened for v in p.evaluate("() => window.__csp")]
    assert_no_errors([p for _, p in opened])
    for ctx, _ in opened:
        ctx.close()
    assert not violations, "CSP violations:\n" + "\n".join(violations)


def _open_dialog(page):
    page.click("#pad-camera")
    page.wait_for_function(PLAYING)
    assert page.evaluate(OPEN)
    # focus moved into the dialog (onto Take photo once the preview plays)
    assert page.evaluate("() => document.getElementById('camera-dialog')"
                         ".contains(document.activeElement)")


def _closed_and_stopped(page, streams):
    page.wait_for_function(CLOSED)
    tracks = page.evaluate(TRACKS)
    assert len(tracks) == streams and all(tracks), tracks
    assert all(state == "ended" for stream in tracks for state in stream), tracks
    assert page.evaluate("() => document.getElementById('camera-video').srcObject") is None


def test_a_photo_reaches_the_network_in_colour_and_the_camera_stops(open_camera_page, split_camera):
    page = open_camera_page(browser=split_camera)
    assert page.is_visible("#pad-camera") and not page.is_visible("#pad-camera-take")
    assert page.text_content("#prediction").strip() == "Pick an image"
    blank = page.evaluate(CHANNELS)
    _open_dialog(page)
    video = page.evaluate("""() => { const v = document.getElementById('camera-video');
        return { muted: v.muted, inline: v.playsInline, stream: v.srcObject instanceof MediaStream,
                 live: v.srcObject.getVideoTracks().map(t => t.readyState),
                 audio: v.srcObject.getAudioTracks().length }; }""")
    assert video == {"muted": True, "inline": True, "stream": True, "live": ["live"], "audio": 0}
    assert page.evaluate(FOCUSED) == "camera-take"
    # a webcam that does not say which way it faces is previewed as a mirror
    assert page.get_attribute("#camera-mirror", "aria-pressed") == "true"
    assert "mirrored" in page.get_attribute("#camera-video", "class")
    page.click("#camera-take")
    _closed_and_stopped(page, 1)
    page.wait_for_function(PICTURE_IN)
    settled(page)
    assert page.evaluate(FOCUSED) == "pad-camera"   # focus came back
    assert page.evaluate(BODY)["image"].startswith("data:image/jpeg")   # the picker's body
    shape = page.evaluate("() => window.convscope.store.get().trace.byName.get('input').shape")
    assert shape == [3, 64, 64]
    # The photo as previewed: mirrored, so blue on the pad's left and red on its right, and so
    # in the network's input, channel by channel (R, G, B in that order; the blank pad's three
    # channels were alike). Tiny VGG's input is (x - mean) / std: its own mean and std.
    model = page.evaluate("() => window.convscope.store.get().model.input")
    halves = page.evaluate(HALVES)
    assert halves["pad"] == [pytest.approx(BLUE, abs=6), pytest.approx(RED, abs=6)], halves
    expect = [[(v / 255 - m) / sd for v, m, sd in zip(side, model["mean"], model["std"])]
              for side in (BLUE, RED)]
    assert halves["input"] == [pytest.approx(e, abs=0.12) for e in expect], halves
    assert max(blank) - min(blank) < 0.5, blank
    # "Mirror" off: the next photo is as the camera sees it, red on the left.
    first = page.evaluate(BODY)["image"]
    _open_dialog(page)
    page.click("#camera-mirror")
    assert page.get_attribute("#camera-mirror", "aria-pressed") == "false"
    assert "mirrored" not in page.get_attribute("#camera-video", "class")
    page.click("#camera-take")
    _closed_and_stopped(page, 2)
    page.wait_for_function("(first) => window.convscope.store.get().trace.body.image !== first",
                           arg=first)
    page.wait_for_function(PICTURE_IN)
    settled(page)
    halves = page.evaluate(HALVES)
    assert halves["pad"] == [pytest.approx(RED, abs=6), pytest.approx(BLUE, abs=6)], halves
    # Permissions-Policy: the page may have the camera, never the microphone.
    allowed = page.evaluate("() => ['camera', 'microphone']"
                            ".map(f => document.featurePolicy.allowsFeature(f))")
    assert allowed == [True, False]
    asked = page.evaluate("() => navigator.mediaDevices.getUserMedia({audio: true})"
                          ".then(() => 'granted', e => e.name)")
    assert asked == "NotAllowedError"
    refused = [e for e in page.errors if "microphone is not allowed" in e]   # Chromium says why
    assert refused and len(refused) == len(page.errors), page.errors
    page.errors.clear()


def test_every_way_out_stops_the_camera_and_leaves_the_pad(open_camera_page):
    page = open_camera_page()
    before = page.evaluate(BODY)
    _open_dialog(page)
    page.click("#camera-cancel")
    _closed_and_stopped(page, 1)
    assert page.evaluate(FOCUSED) == "pad-camera"
    _open_dialog(page)
    page.keyboard.press("Escape")
    _closed_and_stopped(page, 2)
    assert page.evaluate(FOCUSED) == "pad-camera"
    assert page.evaluate("() => window.convscope.pad.blank")
    assert page.evaluate(BODY)["image"] == before["image"]
    _open_dialog(page)
    page.evaluate("() => window.convscope.store.set({ tab: '3d' })")       # another tab
    _closed_and_stopped(page, 3)
    page.evaluate("() => window.convscope.store.set({ tab: 'network' })")   # before 3D has loaded
    _open_dialog(page)
    page.evaluate("""() => {   // another app or browser tab in front
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange')); delete document.hidden; }""")
    _closed_and_stopped(page, 4)
    _open_dialog(page)
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    _closed_and_stopped(page, 5)
    assert page.evaluate("() => window.convscope.pad.blank")
    _open_dialog(page)
    # the class's "Eyes up" freezes the pad by disabling its tools (classroom/student.js)
    page.evaluate(FREEZE, True)
    _closed_and_stopped(page, 6)
    page.evaluate(FREEZE, False)
    _open_dialog(page)
    page.select_option("#model-select", "lenet5")                            # another model
    _closed_and_stopped(page, 7)
    page.wait_for_function("() => window.convscope.store.get().model.modelId === 'lenet5'")
    ready(page)
    assert not page.is_visible("#pad-camera")        # a drawing model: no camera at all


def test_switch_camera_and_mirror_are_kept_for_the_next_photo(open_camera_page):
    page = open_camera_page()
    _open_dialog(page)
    page.wait_for_selector("#camera-switch:not([hidden])")   # two cameras
    first = page.evaluate(LABEL)
    page.click("#camera-switch")
    page.wait_for_function(PLAYING)
    page.wait_for_function("(first) => document.getElementById('camera-video').srcObject"
                           ".getVideoTracks()[0].label !== first", arg=first)
    second = page.evaluate(LABEL)
    assert page.evaluate(FOCUSED) == "camera-switch"   # focus stayed on it through the restart
    tracks = page.evaluate(TRACKS)
    assert tracks[0] == ["ended"] and tracks[1] == ["live"], tracks   # one camera at a time
    assert page.text_content("#camera-name") == second                # says which one is live
    page.click("#camera-mirror")                                      # as the camera sees
    assert page.get_attribute("#camera-mirror", "aria-pressed") == "false"
    assert "mirrored" not in page.get_attribute("#camera-video", "class")
    page.click("#camera-take")
    _closed_and_stopped(page, 2)
    page.wait_for_function(PICTURE_IN)
    _open_dialog(page)                        # the next photo: the same camera, unmirrored
    assert page.evaluate(LABEL) == second
    assert page.get_attribute("#camera-mirror", "aria-pressed") == "false"
    page.click("#camera-cancel")
    _closed_and_stopped(page, 3)


def test_a_refused_camera_is_a_calm_note(open_camera_page):
    page = open_camera_page(init=(DENY,))
    page.click("#pad-camera")
    page.wait_for_selector("#pad-camera-note:not([hidden])")
    assert page.text_content("#pad-camera-note") == (
        "The camera was not allowed: Permission denied; choose or paste an image instead.")
    assert not page.evaluate("() => document.getElementById('camera-dialog').open")
    assert page.evaluate(FOCUSED) == "pad-camera"
    assert page.evaluate("() => window.convscope.pad.blank")


def test_no_camera_on_this_machine_is_a_calm_note(open_camera_page, browser):
    page = open_camera_page(browser=browser)      # Chromium without the fake device
    page.click("#pad-camera")
    page.wait_for_selector("#pad-camera-note:not([hidden])")
    assert page.text_content("#pad-camera-note") == (
        "No camera was found on this device; choose or paste an image instead.")
    assert not page.evaluate("() => document.getElementById('camera-dialog').open")


def test_without_a_secure_context_the_camera_is_the_phones_camera_app(open_camera_page, tmp_path):
    page = open_camera_page(init=(INSECURE,), **PHONE)
    assert page.evaluate("() => navigator.mediaDevices") is None
    assert not page.is_visible("#pad-camera") and page.is_visible("#pad-camera-take")
    assert page.text_content("#pad-camera-take").strip() == "Camera"
    attrs = page.eval_on_selector("#pad-camera-file",
                                  "i => [i.type, i.accept, i.getAttribute('capture')]")
    assert attrs == ["file", "image/*", "environment"]
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[..., 2] = 220           # a blue photo, as a phone's camera app would hand it back
    photo[100:200, 150:250, 0] = 255
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=92)
    page.set_input_files("#pad-camera-file", str(path))
    page.wait_for_function(PICTURE_IN)
    settled(page)
    r, g, b = page.evaluate(CHANNELS)
    assert b > r and b > g + 1, (r, g, b)


def test_a_drawing_model_has_no_camera(open_camera_page, server_url):
    page = open_camera_page(path="/", base=server_url)
    assert page.evaluate("() => window.convscope.store.get().model.input.channels") == 1
    assert not page.is_visible("#pad-camera") and not page.is_visible("#pad-camera-take")
    assert not page.is_visible("#pad-picker")


@pytest.mark.parametrize("screen", ["laptop", "phone"])
def test_camera_screenshots(open_camera_page, screen):
    page = open_camera_page(**(PHONE if screen == "phone" else {}))
    _open_dialog(page)
    size = page.viewport_size
    box = page.locator("#camera-dialog").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"], (box, size)
    assert box["y"] + box["height"] <= size["height"], (box, size)
    take = page.locator("#camera-take").bounding_box()
    assert take["y"] + take["height"] <= size["height"] and take["height"] >= 40, take
    page.screenshot(path=f"/tmp/convscope-camera-{screen}-dialog.png")
    page.click("#camera-take")
    page.wait_for_function(PICTURE_IN)
    settled(page)
    page.screenshot(path=f"/tmp/convscope-camera-{screen}-photo.png")
