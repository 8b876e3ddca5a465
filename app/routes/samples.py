"""GET /api/samples?digit=D&index=I: a test-set digit as a forward body, for the pad."""
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from app.models_registry import ModelDep
from app.responses import json_response
from app.schemas import ErrorBody, Sample

router = APIRouter(prefix="/api", tags=["samples"])


@router.get("/samples", response_model=Sample,
            responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def sample(digit: int, index: int, request: Request, res: ModelDep) -> Response:
    """`digit` is the class index (for Fashion-MNIST too); `index` picks one of its samples."""
    if res.samples is None:
        raise HTTPException(404, res.samples_problem)
    classes, per_class = res.samples.images.shape[:2]
    problems = []
    if not 0 <= digit < classes:
        problems.append(f"digit must be 0..{classes - 1} (a class index of "
                        f"{res.model_info['name']}), got {digit}")
    if not 0 <= index < per_class:
        problems.append(f"index must be 0..{per_class - 1}, got {index}")
    if problems:
        raise HTTPException(422, "; ".join(problems))
    image = res.samples.images[digit, index]
    body = {"pixels": image.ravel(), "width": int(image.shape[1]), "height": int(image.shape[0])}
    if res.samples.dataset != "mnist":
        # MNIST's preprocessing (crop to the ink, fit 20×20, centre) is how MNIST digits were
        # made; a Fashion-MNIST image fills its 28×28 frame and must reach the net as it is.
        body["preprocess"] = False
    return json_response(request, body, res.settings.gzip_level)
