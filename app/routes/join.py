"""GET /api/join (added endpoint): the address students open, and its QR code as inline SVG."""
import segno
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.deps import ResourcesDep
from app.responses import json_response
from app.schemas import Join

router = APIRouter(prefix="/api", tags=["classroom"])


def _qr_svg(url: str) -> str:
    # Dark modules on a transparent background, 4 px each: readable from a projector.
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


@router.get("/join", response_model=Join)
async def join(request: Request, res: ResourcesDep) -> Response:
    """`convscope serve --classroom` lists the LAN URLs; otherwise the URL this page came from."""
    urls = list(res.settings.join_urls) or [str(request.base_url)]
    svg = res.qr_cache.get(urls[0])
    if svg is None:
        if len(res.qr_cache) >= 16:   # Host headers are client-chosen: keep the cache bounded
            res.qr_cache.clear()
        svg = res.qr_cache[urls[0]] = _qr_svg(urls[0])
    return json_response(request, {"urls": urls, "qr_svg": svg}, res.settings.gzip_level)
