// The per-user event stream (GET /livechat/stream) with EventSource. It is not replayable: every time it
// (re)opens, the page refreshes from the list endpoints, which is how nothing gets lost.
const EVENTS = ["messageCreated", "sessionUpdated", "sessionAssigned", "notificationCreated", "messagesRead", "typing", "presenceUpdated"];

/**
 * Opens the stream and keeps it open. handlers: {onOpen(reconnected), onDown(refused), [eventName](payload)}.
 * EventSource retries by itself after a dropped connection; when it gives up (an error status such as 401, or a
 * 503 while the service starts), a new one is made after a pause. Returns a function that closes it for good.
 */
export function openStream(auth, handlers) {
  let source = null;
  let opened = false;
  let stopped = false;
  let retry = null;

  const connect = () => {
    const url = `/livechat/stream?access_token=${encodeURIComponent(auth.token)}&tenant_id=${encodeURIComponent(auth.tenantId)}`;
    source = new EventSource(url);
    source.addEventListener("open", () => {
      handlers.onOpen?.(opened);
      opened = true;
    });
    source.addEventListener("error", () => {
      // CLOSED: the browser gave up (an error status); the page asks the API once to show why (401, 403, 503...).
      handlers.onDown?.(source.readyState === EventSource.CLOSED);
      if (source.readyState === EventSource.CLOSED && !stopped) {
        clearTimeout(retry);
        retry = setTimeout(connect, 3000);
      }
    });
    for (const name of EVENTS) {
      source.addEventListener(name, (event) => {
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
