"""/api/class/...: the class session (mounted only by `convscope serve --classroom`).

Thin handlers: who is asking (teacher token, student cookie), then one store or service call.
Every teacher action is checked here, on the server, by `TeacherDep`; the dashboard hiding a
button is never the protection. The token reaches the server only in a request body (login)
or an HttpOnly cookie, never in a URL, so no access log or Referer header carries it.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.classroom import service
from app.classroom.context import ClassContext, get_context
from app.classroom.live import EventStream, frame
from app.classroom.schemas import (AnswerBody, EndBody, JoinBody, PauseBody, RenameBody,
                                   RoundBody, SpotlightBody, SubmitBody, TeacherLogin)
from app.classroom.store import EVENTS_KEPT, ClassError
from app.responses import json_response

router = APIRouter(prefix="/api/class", tags=["classroom"])
TEACHER_COOKIE, STUDENT_COOKIE = "convscope_teacher", "convscope_student"
COOKIE_AGE = 24 * 3600

Ctx = Annotated[ClassContext, Depends(get_context)]


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TEACHER_COOKIE)


async def require_teacher(request: Request, ctx: Ctx) -> ClassContext:
    token = _token(request)
    if not token:
        raise ClassError(403, "teacher only: no teacher token was sent; open the teacher "
                              "address that `convscope serve --classroom` printed")
    if not ctx.store.is_teacher(token):
        raise ClassError(403, "teacher only: this teacher token is not this session's (mistyped, "
                              "or from an earlier session); use the address printed at start")
    return ctx


async def require_student(request: Request, ctx: Ctx) -> dict:
    student = ctx.store.student(request.cookies.get(STUDENT_COOKIE))
    if student is None:
        raise ClassError(403, "join the class first: POST /api/class/join with the 4-letter "
                              "code on the teacher's screen")
    return student


TeacherDep = Annotated[ClassContext, Depends(require_teacher)]
StudentDep = Annotated[dict, Depends(require_student)]


def _json(request: Request, ctx: ClassContext, payload, status: int = 200) -> Response:
    return json_response(request, payload, ctx.res.settings.gzip_level, status=status)


def _cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, max_age=COOKIE_AGE, httponly=True, samesite="strict",
                        path="/")


# --- students ---------------------------------------------------------------------------

def student_state(ctx: ClassContext, student: dict | None) -> dict:
    """Everything a student's page shows: never another student's digits, never the truth of
    an open round, never anything of the teacher's. `model`: the ?model= id the class reads
    digits with (null: no served model reads digits), so a page on another model can say so."""
    store = ctx.store
    session = store.session()
    rnd = store.public_round(store.current_round())
    if rnd is not None and student is not None:
        rnd["mine"] = store.my_answer(rnd["id"], student["id"])
    return {"student": student,
            "session": {"state": session["state"] if session else "closed",
                        "paused": bool(session and session["paused"])},
            "spotlight": session["spotlight"] if session else None,
            "round": rnd,
            "submissions": store.submissions_of(student["id"]) if student else [],
            "model": ctx.model_id, "classes": list(ctx.res.model_info["classes"])}


@router.get("")
async def me(request: Request, ctx: Ctx) -> Response:
    """The student's own view of the session (student null when not joined yet)."""
    return _json(request, ctx, student_state(
        ctx, ctx.store.student(request.cookies.get(STUDENT_COOKIE))))


@router.post("/join", status_code=201)
async def join(body: JoinBody, request: Request, ctx: Ctx) -> Response:
    """Join with the code; a student already joined (cookie) keeps their name and digits."""
    known = ctx.store.student(request.cookies.get(STUDENT_COOKIE))
    if known is not None:
        return _json(request, ctx, student_state(ctx, known))
    student, token = ctx.store.join(body.code, service.clean_nickname(body.nickname),
                                    ctx.settings.max_students)
    response = _json(request, ctx, student_state(ctx, student), 201)
    _cookie(response, STUDENT_COOKIE, token)
    return response


@router.patch("/me")
async def rename(body: RenameBody, request: Request, ctx: Ctx, student: StudentDep) -> Response:
    name = service.clean_nickname(body.nickname)
    if name is None:
        raise ClassError(422, "nickname: nothing left once invisible characters are removed")
    return _json(request, ctx, ctx.store.rename(student["id"], name))


@router.post("/submissions", status_code=201)
async def submit(body: SubmitBody, request: Request, ctx: Ctx, student: StudentDep) -> Response:
    """"Send to class": the drawing judged by the network and shown on the dashboard."""
    classes = ctx.res.model_info["classes"]
    if body.label is not None and body.label >= len(classes):
        raise ClassError(422, f"label must be 0..{len(classes) - 1} (a class index), "
                              f"got {body.label}")
    session = ctx.store.session()
    if session and session["paused"]:
        raise ClassError(409, "eyes up: the teacher has paused the class; send it after")
    image, probs = service.judge(body, ctx.res)
    rnd = ctx.store.current_round()
    fooled, round_id = False, None
    if rnd is not None and rnd["kind"] == "fool" and rnd["state"] == "open":
        fooled = service.fool_verdict(rnd, body.label, int(np.argmax(probs)), classes)
        round_id = rnd["id"]
    sub = ctx.store.add_submission(student["id"], image, probs, body.label,
                                   ctx.settings.submits_per_minute, round_id, fooled)
    return _json(request, ctx, sub, 201)


@router.delete("/submissions/{sub_id}", status_code=204)
async def delete_submission(sub_id: int, request: Request, ctx: Ctx) -> Response:
    """A student deletes their own; the teacher (token) removes anyone's."""
    if _token(request) is not None:             # a teacher token, checked: wrong is a 403
        await require_teacher(request, ctx)
        ctx.store.remove_submission(sub_id)
    else:
        student = await require_student(request, ctx)
        ctx.store.remove_submission(sub_id, student["id"])
    return Response(status_code=204)


@router.post("/rounds/{round_id}/answer")
async def answer(round_id: int, body: AnswerBody, request: Request, ctx: Ctx,
                 student: StudentDep) -> Response:
    rnd = ctx.store.current_round()
    if rnd is None or rnd["id"] != round_id:
        raise ClassError(409, f"round {round_id} is not the class's current round")
    given = {"value": body.value, "cell": body.cell, "class": body.class_}
    given = {k: v for k, v in given.items() if v is not None}
    service.check_answer(given, rnd["prompt"])
    return _json(request, ctx, ctx.store.answer(round_id, student["id"], given))


@router.get("/events", include_in_schema=False)
async def events(request: Request, ctx: Ctx, role: str = "student"):
    """The live stream (text/event-stream). role=teacher needs the teacher token."""
    if role == "teacher":
        await require_teacher(request, ctx)
        audiences, snapshot = {"all", "teacher"}, lambda: teacher_state(request, ctx)
    else:
        student = await require_student(request, ctx)
        audiences = {"all", f"student:{student['id']}"}
        snapshot = lambda: student_state(ctx, student)   # noqa: E731
    if ctx.hub.full or ctx.hub.closing:
        raise ClassError(503, f"{ctx.hub.max_clients} live connections is this server's limit; "
                              "the page retries by itself", retry_after=5)
    client = ctx.hub.add(audiences)
    # Registered first, then read: every later event reaches the queue; the ones up to `after`
    # are in the replay or the snapshot instead (one committed in between may come twice, and
    # the pages apply events idempotently).
    client.after = ctx.store.latest_seq()
    last = request.headers.get("last-event-id", "")
    first: list[bytes] = []
    if last.isdigit() and ctx.store.oldest_seq() - 1 <= int(last) <= client.after:
        # A reconnect the log still covers: replay what it missed, in order.
        for e in ctx.store.events_after(int(last), limit=EVENTS_KEPT):
            if e["seq"] <= client.after and e["audience"] in audiences:
                first.append(frame(e["kind"], e["data"], e["seq"]))
    else:
        first.append(frame("snapshot", snapshot(), client.after))
    return EventStream(ctx.hub, client, first)


# --- the teacher ------------------------------------------------------------------------

@router.post("/teacher/login", status_code=204)
async def login(body: TeacherLogin, request: Request, ctx: Ctx) -> Response:
    """Trade the printed token for an HttpOnly cookie (the page then drops it from its URL)."""
    if not ctx.store.is_teacher(body.token):
        raise ClassError(403, "teacher only: this teacher token is not this session's")
    response = Response(status_code=204)
    _cookie(response, TEACHER_COOKIE, body.token)
    return response


def teacher_state(request: Request, ctx: ClassContext) -> dict:
    store = ctx.store
    session = store.session() or {"code": None, "state": "closed", "paused": False,
                                  "spotlight": None}
    rnd = store.current_round()
    round_view = None
    if rnd is not None:
        round_view = store.public_round(rnd)
        if rnd["kind"] == "predict" and rnd["state"] == "revealed":
            round_view["distribution"] = service.distribution(rnd, store.answers(rnd["id"]))
        if rnd["kind"] == "fool":
            round_view["board"] = store.fooling(rnd["id"])
    return {"session": {k: session[k] for k in ("code", "state", "paused", "spotlight")},
            "join": ctx.join_info(request, session["code"]),
            "students": store.students(), "gallery": store.gallery(), "round": round_view,
            "test_set": service.test_set(store, ctx.res),
            "classes": list(ctx.res.model_info["classes"]), "model": ctx.model_id}


@router.get("/teacher/state")
async def state(request: Request, ctx: TeacherDep) -> Response:
    return _json(request, ctx, teacher_state(request, ctx))


@router.get("/submissions/{sub_id}")
async def submission(sub_id: int, request: Request, ctx: TeacherDep) -> Response:
    sub = ctx.store.submission(sub_id)
    if sub is None:
        raise ClassError(404, f"no submission {sub_id}")
    return _json(request, ctx, sub)


@router.post("/pause", status_code=204)
async def pause(body: PauseBody, ctx: TeacherDep) -> Response:
    ctx.store.set_paused(body.paused)
    return Response(status_code=204)


@router.post("/spotlight")
async def spotlight(body: SpotlightBody, request: Request, ctx: TeacherDep) -> Response:
    """Every student's page shows this digit (and unit) until DELETE /spotlight."""
    image, origin = service.digit_image(body.digit, ctx.store, ctx.res)
    service.check_focus(body.focus, ctx.res)
    if "student" in origin:
        title = "a classmate's digit" if body.anonymous else f"{origin['student']}'s digit"
    else:
        title = f"a test {origin['class']} from MNIST's test set"
    light = {"image": service.b64(image), "title": title, "tab": body.tab, "note": body.note,
             "focus": body.focus.model_dump() if body.focus else None}
    ctx.store.set_spotlight(light)
    return _json(request, ctx, light)


@router.delete("/spotlight", status_code=204)
async def release(ctx: TeacherDep) -> Response:
    ctx.store.set_spotlight(None)
    return Response(status_code=204)


@router.post("/gallery/clear")
async def clear(request: Request, ctx: TeacherDep) -> Response:
    return _json(request, ctx, {"cleared": ctx.store.clear_gallery()})


@router.post("/rounds", status_code=201)
async def start_round(body: RoundBody, request: Request, ctx: TeacherDep) -> Response:
    if body.kind == "predict":
        image, origin = service.digit_image(body.digit, ctx.store, ctx.res)
        prompt, truth = service.predict_prompt(image, body.focus, ctx.res)
        prompt["origin"] = "a test digit" if "sample" in origin else "a classmate's digit"
    else:
        classes = ctx.res.model_info["classes"]
        if body.target is not None and body.target >= len(classes):
            raise ClassError(422, f"target must be 0..{len(classes) - 1} or null (any digit)")
        prompt = {"target": body.target,
                  "name": None if body.target is None else classes[body.target]}
        truth = {}
    rnd = ctx.store.start_round(body.kind, prompt, truth)
    return _json(request, ctx, ctx.store.public_round(rnd), 201)


@router.post("/rounds/{round_id}/reveal")
async def reveal(round_id: int, request: Request, ctx: TeacherDep) -> Response:
    rnd = ctx.store.reveal(round_id)
    out = ctx.store.public_round(rnd)
    out["distribution"] = service.distribution(rnd, ctx.store.answers(round_id))
    return _json(request, ctx, out)


@router.delete("/rounds/current", status_code=204)
async def close_round(ctx: TeacherDep) -> Response:
    ctx.store.close_round()
    return Response(status_code=204)


@router.get("/test-set")
async def test_set(request: Request, ctx: TeacherDep) -> Response:
    return _json(request, ctx, service.test_set(ctx.store, ctx.res))


@router.get("/export.zip")
async def export(ctx: TeacherDep) -> Response:
    """t10k-images/labels IDX (`convscope evaluate --data <unzipped dir>`) + two CSVs."""
    return Response(service.export_zip(ctx.store, ctx.res), media_type="application/zip",
                    headers={"content-disposition": 'attachment; filename="class-digits.zip"'})


@router.post("/end", status_code=204)
async def end(body: EndBody, ctx: TeacherDep) -> Response:
    """Delete every student, digit, round and answer (the confirm is in the body)."""
    ctx.store.end_session()
    return Response(status_code=204)


@router.post("/session", status_code=201)
async def new_session(request: Request, ctx: TeacherDep) -> Response:
    """After "end session": a fresh, empty session with a new join code, same teacher token."""
    code = ctx.store.reopen()
    return _json(request, ctx, {"code": code}, 201)
