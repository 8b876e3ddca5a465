"""GET /api/health: the liveness probe (and the bench's baseline for per-request overhead)."""
from fastapi import APIRouter
from starlette.responses import Response

from app.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])
_OK = b'{"status":"ok"}'


@router.get("/health", response_model=Health)
async def health() -> Response:
    return Response(_OK, media_type="application/json")
