// One announcement per settled drawing for a screen reader. Pure: timers are injected.
//
// The prediction changes on every forward answer while a student draws (~30 a second); an
// aria-live region fed that fast either floods the listener or is dropped. The announcer waits
// until the answers stop for `quiet` ms, and then speaks once per drawing (its `key`), even when
// a new drawing predicts the same class again (that is news too: "still a 3").
//
// createAnnouncer(write, {quiet, setTimer, clearTimer}) -> {update(key, text), flush(), cancel()}

export function createAnnouncer(write, { quiet = 700, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let timer = null;
  let waiting = null;     // {key, text} not yet spoken
  let spokenKey;          // the drawing last spoken for
  const speak = () => {
    timer = null;
    if (!waiting || waiting.key === spokenKey) return;
    spokenKey = waiting.key;
    write(waiting.text);
    waiting = null;
  };
  return {
    update(key, text) {
      waiting = { key, text };
      if (timer !== null) clearTimer(timer);
      timer = setTimer(speak, quiet);
    },
    flush() { if (timer !== null) clearTimer(timer); speak(); },
    cancel() { if (timer !== null) clearTimer(timer); timer = null; waiting = null; },
  };
}
