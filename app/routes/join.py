"""GET /api/join (added endpoint): the address students open, and its QR code as inline SVG.

The QR is drawn only for this server's own addresses (the `--classroom` LAN URLs, or the
address this page was opened at once app/hosts.py has checked the Host header names this
server), each drawn once, in the thread pool: a QR costs ~15 ms of CPU, which on the event
loop would stall every other request of the worker.
"""
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app import errors
from app.deps import ResourcesDep
from app.hosts import HostRefused, page_url
from app.responses import json_response
from app.schemas import ErrorBody, Join

router = APIRouter(prefix="/api", tags=["classroom"])

# Few distinct URLs are ever valid (this machine's names and addresses on one port): bounded
# anyway, in case a machine has many.
_QR_CACHE: dict[str, str] = {}
_QR_CACHE_MAX = 32


def _qr_svg(url: str) -> str:
    import segno
    # Dark modules on a transparent background, 4 px each: readable from a projector.
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


async def qr_svg(url: str) -> str:
    svg = _QR_CACHE.get(url)
    if svg is None:
        svg = await run_in_threadpool(_qr_svg, url)
        if len(_QR_CACHE) >= _QR_CACHE_MAX:
            _QR_CACHE.clear()
        _QR_CACHE[url] = svg
    return svg


@router.get("/join", response_model=Join, responses={
    400: {"model": ErrorBody, "description": "The Host header is not a host[:port]."},
    421: {"model": ErrorBody, "description": "The Host header names another server."}})
async def join(request: Request, res: ResourcesDep) -> Response:
    """`convscope serve --classroom` lists the LAN URLs; otherwise the URL this page came from."""
    urls = list(res.settings.join_urls)
    if not urls:
        try:
            urls = [page_url(request.headers.get("host"), request.url.scheme,
                             request.scope.get("server"))]
        except HostRefused as exc:
            raise errors.refused(exc.status, exc.detail) from None
    svg = await qr_svg(urls[0])
    return json_response(request, {"urls": urls, "qr_svg": svg}, res.settings.gzip_level)
