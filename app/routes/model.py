"""GET /api/model and /api/model/weights: fixed for the server's life, so serialised once."""
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.models_registry import ModelDep
from app.schemas import LayerWeights, ModelInfo

router = APIRouter(prefix="/api", tags=["model"])


@router.get("/model", response_model=ModelInfo)
async def model(request: Request, res: ModelDep) -> Response:
    """Name, dataset, class names, test accuracy and every stage (no values)."""
    return res.model_json.response(request)


@router.get("/model/weights", response_model=dict[str, LayerWeights])
async def model_weights(request: Request, res: ModelDep) -> Response:
    """Every conv and dense stage's weight (PyTorch layout, flat) and bias."""
    return res.weights_json.response(request)
