// The live link to the class session: one EventSource (Server-Sent Events, app/classroom/
// live.py). The browser reconnects by itself after a cut (the server asks for 1 s) and sends
// Last-Event-ID, so the server replays what was missed or sends a fresh `snapshot`. When the
// server refuses the stream (a 403 after the session ended, a 503 when full) EventSource gives
// up; then we retry with back-off and let the owner find out why (onRefused).
//
// openStream(url, {onEvent(kind, data, id), onStatus("live" | "reconnecting"), onRefused()})
//   -> {close()}

const KINDS = ["snapshot", "session", "spotlight", "round", "student", "submission", "removed", "cleared", "answered"];

export function openStream(url, { onEvent, onStatus = () => {}, onRefused = () => {} }) {
  let source = null;
  let closed = false;
  let delay = 1000;
  let timer = null;

  function connect() {
    if (closed) return;
    source = new EventSource(url);
    source.onopen = () => { delay = 1000; onStatus("live"); };
    source.onerror = () => {
      onStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) {   // refused (not a cut): retry ourselves
        source = null;
        onRefused();
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10_000);
      }
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (e) => onEvent(kind, JSON.parse(e.data), Number(e.lastEventId)));
    }
  }
  connect();
  return {
    close() { closed = true; clearTimeout(timer); source?.close(); },
  };
}
