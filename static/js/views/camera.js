// The camera snapshot for a picture model: photograph an object and the network reads it.
//
// Live capture (navigator.mediaDevices.getUserMedia) exists only in a secure context: the
// teacher's laptop on http://127.0.0.1 / localhost, or any https page. There "Camera" opens a
// modal <dialog> with the stream in a muted, inline <video> cropped to the pad's shape (what
// the preview shows is what the pad gets), "Take photo" and "Cancel". A phone on the class's
// LAN opens plain http://192.168.x.x, which is NOT a secure context: getUserMedia is undefined
// there, so "Camera" is a file input with capture="environment" instead, which makes a phone
// open its own camera app (a desktop browser ignores capture and shows a file chooser); the
// photo arrives as a File, like "Choose image".
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
// photo keeps what the preview showed; a back camera is shown and taken as it sees.
export const mirrored = (settings) => settings?.facingMode !== "environment";

const stopAll = (stream) => { for (const track of stream?.getTracks() ?? []) track.stop(); };

export function mountCamera({ button, fileLabel, fileInput, note, dialog, video, take, cancel, status, shape }, { store, onPicture }) {
  const live = canCapture();
  button.hidden = !live;
  fileLabel.hidden = live;
  // The preview has the pad's shape: the pad covers itself with the photo's centre (pickPicture),
  // and object-fit: cover shows the same centre.
  video.style.aspectRatio = `${shape.width} / ${shape.height}`;
  video.muted = true;   // the property, too: autoplay inline needs a muted element
  let session = null;   // { stream, opener, mirror } while the dialog is open

  const say = (text) => { note.textContent = text; note.hidden = !text; };

  async function open() {
    if (session || !live) return;
    const mine = session = { stream: null, opener: document.activeElement, mirror: true };
    say("");
    take.disabled = true;
    status.textContent = "Starting the camera…";
    dialog.showModal();
    cancel.focus();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        // A phone on https: its back camera, the one that photographs an object.
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      if (session !== mine) { stopAll(stream); return; }   // cancelled while the prompt was up
      mine.stream = stream;
      mine.mirror = mirrored(stream.getVideoTracks()[0]?.getSettings?.());
      video.classList.toggle("mirrored", mine.mirror);
      video.srcObject = stream;
      await video.play();
      if (session !== mine) return;
      take.disabled = false;
      status.textContent = "Hold the object in the frame: the network sees exactly this.";
      if (document.activeElement === cancel) take.focus();   // Enter takes the photo
    } catch (err) {
      if (session !== mine) return;   // closed meanwhile: play() is aborted, nothing to say
      close();
      say(cameraNote(err));
    }
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
