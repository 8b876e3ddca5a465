"""Security headers on every response: the classroom LAN is hostile.

- `X-Content-Type-Options: nosniff`: a browser never runs a JSON answer or an uploaded-looking
  file as script or HTML because its bytes look like one.
- `Content-Security-Policy`: the page's ES modules, CSS and fetches come from this server only;
  no inline script, no eval, no plugin, no <base>; images may be data:/blob: URLs (the pad's
  PNG, canvas snapshots). Tests load every tab (3D/WebGL included) in Chromium with a
  `securitypolicyviolation` listener and require none. A route that serves its own inline
  script (/docs, /redoc: app/docs.py) sets its own policy, which is kept.
- `frame-ancestors 'none'` and `X-Frame-Options: DENY` (for browsers that predate
  frame-ancestors): no other site can frame the page and click-jack the drawing pad.
- `Referrer-Policy: no-referrer`: the class's LAN address does not leak to a linked site.
- `Permissions-Policy: camera=(self), microphone=(), geolocation=()`: the page's own camera
  snapshot (static/js/views/camera.js) may ask for the camera and nothing else may; the page
  never records sound or asks where anyone is, so no script can. The stream it previews goes
  to `video.srcObject`, which loads no URL: the CSP needs no media-src for it.

`secured(send)` wraps an ASGI send so its response start carries them; app/front.py applies
it to every HTTP request, outermost, so 413s and 503s answered before the app carry them too.
app/protocol.py's answers from uvicorn's level (431, 414, 408, 400, 503) write `PLAIN_HEADERS`.
"""
from __future__ import annotations

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "connect-src 'self'", "font-src 'self'", "worker-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))

HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer"),
           (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"))
_POLICY = (b"content-security-policy", PAGE_POLICY.encode())
_NAMES = frozenset(name for name, _ in HEADERS + (_POLICY,))

# The same headers as raw HTTP/1.1 lines, for answers written below ASGI (app/protocol.py).
PLAIN_HEADERS = b"".join(name + b": " + value + b"\r\n" for name, value in HEADERS + (_POLICY,))


def with_headers(headers) -> list:
    """`headers` plus each security header it does not set itself (names compared lowercase)."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    if _NAMES.isdisjoint(present):           # the usual case: every one of them is added
        headers += HEADERS
        headers.append(_POLICY)
        return headers
    headers += [h for h in HEADERS if h[0] not in present]
    if _POLICY[0] not in present:
        headers.append(_POLICY)
    return headers


def secured(send):
    """An ASGI send whose `http.response.start` carries the security headers."""
    async def send_secured(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": with_headers(message.get("headers", ()))}
        await send(message)

    return send_secured
