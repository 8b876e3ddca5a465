import { test } from "node:test";
import assert from "node:assert/strict";
import { cameraNote, canCapture, mirrored } from "../../static/js/views/camera.js";

test("a refused or missing camera is a calm note that points to the picker", () => {
  const denied = Object.assign(new Error("Permission denied"), { name: "NotAllowedError" });
  assert.equal(cameraNote(denied), "The camera was not allowed: Permission denied; choose or paste an image instead.");
  assert.equal(cameraNote({ name: "NotAllowedError" }), "The camera was not allowed: permission denied; choose or paste an image instead.");
  assert.equal(cameraNote({ name: "NotFoundError", message: "Requested device not found" }), "No camera was found on this device; choose or paste an image instead.");
  assert.match(cameraNote({ name: "NotReadableError" }), /another app may be using it; choose or paste/);
  assert.equal(cameraNote(new TypeError("boom")), "The camera could not be started: boom; choose or paste an image instead.");
  assert.equal(cameraNote(undefined), "The camera could not be started; choose or paste an image instead.");
});

test("live capture only where getUserMedia exists (a secure context)", () => {
  assert.equal(canCapture({ mediaDevices: { getUserMedia() {} } }), true);
  assert.equal(canCapture({}), false);   // plain http on the class LAN: no mediaDevices at all
  assert.equal(canCapture({ mediaDevices: {} }), false);
  assert.equal(canCapture(null), false);
});

test("a front camera is shown as a mirror, a back camera as it sees", () => {
  assert.equal(mirrored({ facingMode: "user" }), true);
  assert.equal(mirrored({}), true);   // a laptop's webcam says nothing: it faces the user
  assert.equal(mirrored({ facingMode: "environment" }), false);
});
