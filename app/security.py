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

A pure ASGI middleware (no BaseHTTPMiddleware), so it costs one header merge per response.
"""
from __future__ import annotations

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "connect-src 'self'", "font-src 'self'", "worker-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))

HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer"))


class SecurityHeaders:
    def __init__(self, app, policy: str = PAGE_POLICY):
        self.app = app
        self.policy = policy.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", self.policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
