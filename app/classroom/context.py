"""What every class route shares in one worker: the store, the live hub, the model's
resources and the settings (`app.state.classroom`, set by `app.classroom.install`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import segno
from fastapi import Request

from app.classroom.live import Hub
from app.classroom.store import Store
from app.config import Settings

MAX_QR_URL = 200


@dataclass
class ClassContext:
    store: Store
    hub: Hub
    res: object            # app.deps.Resources of the class's network (service.class_model)
    settings: Settings
    model_id: str | None = None   # its ?model= id; None when no served model reads digits
    qr_cache: dict = field(default_factory=dict)

    def join_info(self, request: Request, code: str | None) -> dict:
        """The addresses students open (with the code, so a scan joins at once) and a QR of
        the first. LAN addresses from `serve --classroom`; else the one this page came from."""
        bases = list(self.settings.join_urls) or [str(request.base_url)]
        urls = [f"{b.rstrip('/')}/?code={code}" if code else b for b in bases]
        typed = [urlsplit(b).netloc for b in bases]   # what a student types: 192.168.1.5:8000
        qr = ""
        if len(urls[0]) <= MAX_QR_URL:
            qr = self.qr_cache.get(urls[0])
            if qr is None:
                if len(self.qr_cache) >= 8:
                    self.qr_cache.clear()
                qr = self.qr_cache[urls[0]] = segno.make(urls[0], error="m").svg_inline(
                    scale=8, dark="#000", light="#fff", omitsize=True)   # viewBox: CSS sizes it
        return {"urls": urls, "addresses": typed, "code": code, "qr_svg": qr}


async def get_context(request: Request) -> ClassContext:
    return request.app.state.classroom
