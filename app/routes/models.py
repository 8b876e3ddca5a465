"""GET /api/models (added endpoint): the models this server can switch between."""
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.schemas import ModelEntry

router = APIRouter(prefix="/api", tags=["model"])


@router.get("/models", response_model=list[ModelEntry])
async def models(request: Request) -> Response:
    """`{id, name, label, description, dataset, classes, accuracy, default}` per model, the
    default first; pass an `id` as `?model=` to the other endpoints."""
    return request.app.state.registry.listing.response(request)
