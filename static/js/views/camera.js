// The camera snapshot for a picture model: photograph an object and the network reads it.
//
// Live capture (navigator.mediaDevices.getUserMedia) exists only in a secure context: the
// teacher's laptop on http://127.0.0.1 / localhost, or any https page. There "Camera" opens a
// modal <dialog> with the stream in a muted, inline <video> cropped to the pad's shape (what the
// preview shows is what the pad gets), "Take photo" and "Cancel", "Mirror" and, with several
// cameras (a laptop's webcam and a classroom's document camera), "Switch camera". A phone on the
// class's LAN opens plain http://192.168.x.x, which is NOT a secure context: getUserMedia is
// undefined there, so "Camera" is a file input with capture="environment" instead, which makes a
// phone open its own camera app (a desktop browser ignores capture and shows a file chooser);
// the photo arrives as a File, like "Choose image".
//
// Either way the picture goes to onPicture (main.js's usePicture, the one entry point of a
// chosen, dropped or pasted image), so preprocessing, the body and the request are the same.
// The stream is stopped (every track) on snapshot, cancel, Escape, a tab or model switch, a
// hidden page, pagehide and a frozen pad: the camera light never stays on behind anyone's back.
//
// mountCamera(els, {store, onPicture}) -> {open(), close(), live, active}; cameraNote(err) -> text.

// Why the camera did not start, in words a class can act on (err: a getUserMedia rejection).
export function cameraNote(err) {
  const name = err?.name ?? "";
  const detail = err?.message ? `: ${err.message}` : "";
  const why = {
    NotAllowedError: `The camera was not allowed${detail || ": permission denied"}`,
    SecurityError: `The camera was not allowed${detail || ": this page may not use it"}`,
    NotFoundError: "No camera was found on this device",
    OverconstrainedError: "No camera was found on this device",
    NotReadableError: "The camera could not be started: another app may be using it",
    AbortError: "The camera could not be started",
  }[name] ?? `The camera could not be started${detail}`;
  return `${why}; choose or paste an image instead.`;
}

// True where the page may ask for a live stream (a secure context with a camera API).
export const canCapture = (nav = globalThis.navigator) => typeof nav?.mediaDevices?.getUserMedia === "function";

// A front (user-facing) camera is previewed as a mirror, as every video-call app does, and the
// photo keeps what the preview showed; a back camera is shown and taken as it sees. A webcam
// that does not say which way it faces counts as a front one; "Mirror" overrides either.
export const mirrored = (settings) => settings?.facingMode !== "environment";

const stopAll = (stream) => { for (const track of stream?.getTracks() ?? []) track.stop(); };

export function mountCamera(els, { store, onPicture }) {
  const { button, fileLabel, fileInput, note, dialog, video, take, cancel, status, swap, mirror, name, shape } = els;
  const live = canCapture();
  button.hidden = !live;
  fileLabel.hidden = live;
  // The preview has the pad's shape: the pad covers itself with the photo's centre (pickPicture),
  // and object-fit: cover shows the same centre.
  video.style.aspectRatio = `${shape.width} / ${shape.height}`;
  video.muted = true;   // the property, too: autoplay inline needs a muted element
  let session = null;   // { stream, opener, mirror, cameras, attempt, starting } while open
  // Kept for the page's life: the camera last used (a classroom's document camera, say) and
  // each camera's mirror choice.
  let chosen = null;
  const flips = new Map();

  const say = (text) => { note.textContent = text; note.hidden = !text; };
  const setMirror = (on) => {
    session.mirror = on;
    video.classList.toggle("mirrored", on);
    mirror.setAttribute("aria-pressed", String(on));
  };

  async function open() {
    if (session || !live) return;
    session = { stream: null, opener: document.activeElement, mirror: true, cameras: [], attempt: 0 };
    say("");
    swap.hidden = mirror.disabled = true;
    dialog.showModal();
    cancel.focus();
    await start(chosen);
  }

  // Start (or restart, on "Switch camera") the stream; a later start or a close wins.
  async function start(deviceId) {
    const mine = session, attempt = ++mine.attempt;
    const current = () => session === mine && mine.attempt === attempt;
    // Only Take photo waits: Mirror and Switch keep their focus through a restart.
    take.disabled = true;
    mine.starting = true;
    status.textContent = "Starting the camera…";
    name.textContent = "";
    stopAll(mine.stream);   // a phone opens one camera at a time
    mine.stream = null;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        // The camera chosen before, else (a phone on https) the back one, which photographs an object.
        video: { ...(deviceId ? { deviceId: { exact: deviceId } } : { facingMode: { ideal: "environment" } }), width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      if (!current()) { stopAll(stream); return; }   // cancelled or switched while it started
      mine.stream = stream;
      const track = stream.getVideoTracks()[0];
      const settings = track?.getSettings?.() ?? {};
      chosen = settings.deviceId ?? null;
      setMirror(flips.get(chosen) ?? mirrored(settings));
      video.srcObject = stream;
      await video.play();
      if (!current()) return;
      take.disabled = mirror.disabled = mine.starting = false;
      status.textContent = "Hold the object in the frame: the network sees exactly this.";
      name.textContent = track?.label ?? "";   // which camera is live: the webcam or the document camera
      if (document.activeElement === cancel) take.focus();   // Enter takes the photo
      // Labels and ids are only listed once the camera is allowed, so asked for now.
      mine.cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
      if (current()) swap.hidden = mine.cameras.length < 2;
    } catch (err) {
      if (!current()) return;   // closed meanwhile: play() is aborted, nothing to say
      // The camera used last time is gone (unplugged): the default one instead.
      if (deviceId && ["NotFoundError", "OverconstrainedError"].includes(err?.name)) { chosen = null; start(null); return; }
      close();
      say(cameraNote(err));
    }
  }

  // The next camera in the device list (a laptop's webcam, a document camera, a phone's two).
  function switchCamera() {
    const cams = session?.cameras ?? [];
    if (cams.length < 2 || session.starting) return;
    const i = cams.findIndex((d) => d.deviceId === chosen);
    start(cams[(i + 1) % cams.length].deviceId);
  }
  function toggleMirror() {
    if (!session) return;
    setMirror(!session.mirror);
    flips.set(chosen, session.mirror);
  }

  // The one way out: the dialog's close event (Cancel, Escape, snapshot, a switch) lands here.
  function release() {
    const s = session;
    session = null;
    if (!s) return;
    stopAll(s.stream);
    video.pause();
    video.srcObject = null;
    take.disabled = true;
    if (s.opener?.isConnected) s.opener.focus();
  }
  function close() {
    if (dialog.open) dialog.close();   // fires "close" -> release()
    else release();
  }

  // The frame on screen, as the preview showed it (mirrored or not), at the camera's resolution;
  // pickPicture crops and scales it onto the pad like any picture.
  function snapshot() {
    if (!session?.stream || !video.videoWidth) return;
    const frame = document.createElement("canvas");
    frame.width = video.videoWidth;
    frame.height = video.videoHeight;
    const ctx = frame.getContext("2d");
    if (session.mirror) { ctx.translate(frame.width, 0); ctx.scale(-1, 1); }
    ctx.drawImage(video, 0, 0, frame.width, frame.height);
    close();
    onPicture(frame);
  }

  button.addEventListener("click", open);
  take.addEventListener("click", snapshot);
  swap.addEventListener("click", switchCamera);
  mirror.addEventListener("click", toggleMirror);
  cancel.addEventListener("click", close);
  dialog.addEventListener("close", release);
  // Without a live camera: the phone's camera app (or a file chooser) gives a File.
  fileInput.addEventListener("change", () => { say(""); onPicture(fileInput.files?.[0]); fileInput.value = ""; });

  // Leaving the camera open is never what a switch means: another tab, another model, another
  // browser tab or app, or the page going away stop it.
  store.subscribe(close, ["tab", "modelId", "model"]);
  document.addEventListener("visibilitychange", () => { if (document.hidden) close(); });
  window.addEventListener("pagehide", close);
  // The class's "Eyes up" and spotlight freeze the pad by disabling its tools
  // (classroom/student.js): a photo must not land on a frozen pad, so the camera closes too.
  new MutationObserver(() => { if (button.disabled) close(); }).observe(button, { attributes: true, attributeFilter: ["disabled"] });

  return { open, close, live, get active() { return !!session; } };
}
