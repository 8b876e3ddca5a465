"""The class session (issue 13): a teacher's dashboard, students' submissions, spotlight,
rounds and the class's own test set, held in SQLite and pushed live by Server-Sent Events.

`install(app, settings, resources)` mounts all of it; `create_app` calls it only when
`settings.classroom` is set (`convscope serve --classroom`), so without the flag not one of
these paths exists (404). Modules: store.py (SQLite schema, migrations, every operation),
live.py (the cross-worker event hub and the SSE response), service.py (what the engine does
for a round, a submission or the export), routes.py (the thin HTTP layer), schemas.py.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import JSONResponse

from app.classroom.store import ClassError, Store, default_path

CLASS_BODY_LIMIT = 256 * 1024   # a pad PNG is ~6 KB; nothing a class sends needs more


async def _class_error(request: Request, exc: ClassError) -> JSONResponse:
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else None
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


def install(app: FastAPI, settings, registry, templates: Jinja2Templates) -> None:
    """`registry`: the served models (app.models_registry); the class runs on the first that
    reads digits (service.class_model)."""
    from app.classroom.context import ClassContext
    from app.classroom.limits import ClassBodyLimit
    from app.classroom.live import Hub
    from app.classroom.routes import router
    from app.classroom.service import class_model

    path = settings.session_db or default_path()
    store = Store(path)
    if store.session() is None:
        # Normally `convscope serve --classroom` opened it (and printed the token); an app built
        # another way still gets a session, whose token nobody knows until reissued.
        store.start_session()
    hub = Hub(Store(path), max_clients=settings.max_students + 20)
    model_id, resources = class_model(registry)
    app.state.classroom = ClassContext(store, hub, resources, settings, model_id=model_id)
    app.include_router(router)
    app.add_exception_handler(ClassError, _class_error)
    app.add_middleware(ClassBodyLimit, limit=CLASS_BODY_LIMIT)

    @app.get("/teacher", response_class=HTMLResponse, include_in_schema=False)
    async def teacher(request: Request):
        # The page carries no secret: the token arrives in the URL's #fragment (never sent to
        # the server) and the page trades it for an HttpOnly cookie.
        return templates.TemplateResponse(request, "teacher.html",
                                          {"model": resources.model_info})
