// The class session's requests (/api/class/..., app/classroom/routes.py): the only module of
// the classroom pages that fetches, as api.js is for the rest of the page (kept apart so the
// class area stays one removable package and api.js, a shared hot spot, stays untouched).
// Teacher requests carry no token: the HttpOnly cookie set by login() does, and the server
// checks it on every one of them.

import { ApiError } from "../api.js";

async function request(path, { method = "GET", body } = {}) {
  const response = await fetch(`/api/class${path}`, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? undefined : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
    const err = new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail));
    err.retryAfter = Number(response.headers.get("retry-after")) || null;
    throw err;
  }
  return response.status === 204 ? null : response.json();
}

// --- a student's page
export const me = () => request("");
export const join = (code, nickname) => request("/join", { method: "POST", body: { code, nickname: nickname || null } });
export const rename = (nickname) => request("/me", { method: "PATCH", body: { nickname } });
// body: a forward body (the pad's), plus label: the class index the student meant, or null.
export const submit = (body, label) => request("/submissions", { method: "POST", body: { ...body, label } });
export const removeSubmission = (id) => request(`/submissions/${id}`, { method: "DELETE" });
export const answer = (roundId, given) => request(`/rounds/${roundId}/answer`, { method: "POST", body: given });

// --- the teacher's dashboard
export const login = (token) => request("/teacher/login", { method: "POST", body: { token } });
export const teacherState = () => request("/teacher/state");
export const submission = (id) => request(`/submissions/${id}`);
export const pause = (paused) => request("/pause", { method: "POST", body: { paused } });
export const spotlight = (body) => request("/spotlight", { method: "POST", body });
export const release = () => request("/spotlight", { method: "DELETE" });
export const clearGallery = () => request("/gallery/clear", { method: "POST", body: {} });
export const startRound = (body) => request("/rounds", { method: "POST", body });
export const reveal = (id) => request(`/rounds/${id}/reveal`, { method: "POST", body: {} });
export const closeRound = () => request("/rounds/current", { method: "DELETE" });
export const testSet = () => request("/test-set");
export const endSession = () => request("/end", { method: "POST", body: { confirm: true } });
export const newSession = () => request("/session", { method: "POST", body: {} });
export const EXPORT_URL = "/api/class/export.zip";
export const eventsUrl = (role) => `/api/class/events${role === "teacher" ? "?role=teacher" : ""}`;
