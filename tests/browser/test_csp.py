"""The page passes its own Content-Security-Policy on every tab (3D/WebGL, Learn, Lab, the Join
popover with its QR code), and /docs and /redoc render with no request leaving 127.0.0.1.

A `securitypolicyviolation` listener is installed before any page script; Chromium also logs
each violation as a console error, which the same test collects.
"""
from __future__ import annotations

import segno

from tests.browser.conftest import ready, settled

LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`),
  true);"""


def _context(browser, viewport=(1280, 900)):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    ctx.add_init_script(LISTEN)
    return ctx


def _watch(page):
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))


def _violations(page) -> list[str]:
    return page.evaluate("() => window.__csp") + [e for e in page.errors if "Content Security" in e
                                                  or "Refused to" in e]


def test_no_csp_violation_on_any_tab(browser, server_url):
    ctx = _context(browser)
    page = ctx.new_page()
    _watch(page)
    lan = "http://192.168.1.23:8000/"
    # the real QR markup the server draws, for a LAN address (this server is on loopback)
    qr = segno.make(lan, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    page.route("**/api/join*", lambda route: route.fulfill(json={"urls": [lan], "qr_svg": qr}))
    response = page.goto(server_url + "/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    ready(page)
    page.click("#sample-load")
    settled(page)
    page.click("#join-button")
    page.wait_for_selector("#join-popover svg")
    page.keyboard.press("Escape")
    page.click("#tab-3d")
    page.wait_for_function("() => document.querySelector('canvas.view3d-canvas')?.view3d"
                           "?.stats.frames > 0", timeout=15_000)      # WebGL drew
    page.click("#tab-learn")
    page.wait_for_function("() => window.convscope.learn && window.convscope.learn.idle "
                           "&& document.querySelector('#learn-table thead')", timeout=15_000)
    page.click("#learn-step")
    page.wait_for_function("() => document.querySelector('#learn-table thead')"
                           ".textContent.includes('after 1 step')", timeout=15_000)
    page.click("#tab-lab")
    page.wait_for_selector("#view-lab[data-ready]", timeout=15_000)
    page.select_option("#lab-kernel", "classic:edge_all")
    page.click(".lab-step-toggle")
    page.click("[data-act=fwd]")
    page.click("#tab-network")
    page.wait_for_timeout(300)       # a late violation (an async render) has time to land
    violations = _violations(page)
    ctx.close()
    assert not violations, "CSP violations:\n" + "\n".join(violations)


def test_the_listener_does_see_a_violation(browser, server_url):
    """The check above can fail: an inline script on our page is reported."""
    ctx = _context(browser)
    page = ctx.new_page()
    _watch(page)
    page.goto(server_url + "/")
    ready(page)
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = 1'; document.body.append(s); }""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("() => window.__ran") is None
    assert any("script-src" in v for v in _violations(page)), _violations(page)
    ctx.close()


def _offline_page(browser, server_url, path):
    ctx = _context(browser)
    page = ctx.new_page()
    _watch(page)
    outside = []

    def gate(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host == "127.0.0.1":
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", gate)
    page.goto(server_url + path)
    return ctx, page, outside


def test_docs_render_with_no_request_leaving_the_machine(browser, server_url):
    ctx, page, outside = _offline_page(browser, server_url, "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)   # operations listed
    page.get_by_text("/api/forward").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() >= 10
    violations = _violations(page)
    ctx.close()
    assert not outside, f"/docs requested {outside}"
    assert not violations, violations


def test_redoc_renders_with_no_request_leaving_the_machine(browser, server_url):
    ctx, page, outside = _offline_page(browser, server_url, "/redoc")
    page.wait_for_selector("[data-section-id]", timeout=20_000)       # ReDoc's sections
    page.get_by_text("/api/forward").first.wait_for(state="attached")
    # ReDoc 2's bundle hard-codes its maker's logo from their CDN (and hides the <img> when it
    # fails): the policy blocks that load before any request, which is the point. Nothing else.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    violations = [v for v in _violations(page) if logo not in v]
    ctx.close()
    assert not outside, f"/redoc requested {outside}"
    assert not violations, violations
