// The per-user event stream (GET /livechat/stream) with EventSource. It resumes: every event but typing has an
// id (and the stream starts with an id of its own, so even a quiet one resumes), EventSource sends the last one back
// when it reconnects by itself (Last-Event-ID), and a new EventSource made after it gave up asks with
// ?last_event_id=; the service then sends exactly what was missed. When it
// cannot (the id is too old, or the service restarted without Redis), the stream begins with "reset", and the
// page refreshes from the list endpoints instead.
import { streamEvents } from "./config.js"; // the service's own list, from each event's declaration

/**
 * Opens the stream and keeps it open. handlers: {onOpen(reconnected), onDown(refused), onReset(), [eventName](payload)}.
 * The page loads its lists on the first open and on reset; a reconnect that resumes needs nothing more.
 * EventSource retries by itself after a dropped connection; when it gives up (an error status such as 401, or a
 * 503 while the service starts), a new one is made after a pause. Returns a function that closes it for good.
 */
export function openStream(auth, handlers) {
  let source = null;
  let opened = false;
  let stopped = false;
  let retry = null;
  let lastId = "";

  const connect = () => {
    // A new EventSource after the browser gave up: without an id to resume from, the lists are loaded again.
    const blind = opened && !lastId;
    const resume = lastId ? `&last_event_id=${encodeURIComponent(lastId)}` : "";
    const url = `/livechat/stream?access_token=${encodeURIComponent(auth.token)}&tenant_id=${encodeURIComponent(auth.tenantId)}${resume}`;
    source = new EventSource(url);
    source.addEventListener("open", () => {
      handlers.onOpen?.(opened);
      opened = true;
      if (blind) handlers.onReset?.();
    });
    source.addEventListener("error", () => {
      // CLOSED: the browser gave up (an error status); the page asks the API once to show why (401, 403, 503...).
      handlers.onDown?.(source.readyState === EventSource.CLOSED);
      if (source.readyState === EventSource.CLOSED && !stopped) {
        clearTimeout(retry);
        retry = setTimeout(connect, 3000);
      }
    });
    source.addEventListener("reset", () => {
      lastId = "";
      handlers.onReset?.();
    });
    for (const name of streamEvents) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) lastId = event.lastEventId;
        let payload;
        try {
          payload = JSON.parse(event.data);
        } catch {
          return;
        }
        handlers[name]?.(payload);
      });
    }
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
  };
}
