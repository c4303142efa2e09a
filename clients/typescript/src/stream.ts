// The caller's per-user event stream (GET /livechat/stream, contract section 12), read over fetch so the token travels
// in the Authorization header, and resumed by Last-Event-ID whenever the connection ends: the events missed in between
// arrive first, in order, once each. When the service no longer knows the id, the stream begins with `reset`: the
// caller refreshes from the list endpoints.

/** One event of the stream: its name, its JSON data, and its place in the log (null for typing, which is never replayed). */
export interface StreamEvent {
  event: string;
  data: unknown;
  id: string | null;
}

export interface StreamOptions {
  /** Resume after this event (an id a previous stream gave); leave out to start live. */
  lastEventId?: string;
  /** Wait before reconnecting after the connection ended (ms); the service's `retry:` field overrides it. */
  retryMs?: number;
  /** Stops the stream for good (like close()). */
  signal?: AbortSignal;
}

/** Opens one connection: the stream's GET with Last-Event-ID when given. Resolves to the open body, or rejects. */
export type OpenStream = (lastEventId: string | undefined, signal: AbortSignal) => Promise<ReadableStream<Uint8Array>>;

/**
 * `for await (const e of stream)` yields every event, reconnecting (with Last-Event-ID) whenever the connection ends;
 * a refusal (401, 403, 400) ends the iteration with a LivechatError. `close()` ends it.
 */
export class UserStream implements AsyncIterable<StreamEvent> {
  #lastEventId: string | undefined;
  #retryMs: number;
  readonly #stop = new AbortController();
  readonly #open: OpenStream;
  #opened!: () => void;
  #connections = 0;

  /** Resolves when the first connection's first byte arrived: from then on no event for the caller is missed. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.#opened = resolve));

  constructor(open: OpenStream, options: StreamOptions = {}) {
    this.#open = open;
    this.#lastEventId = options.lastEventId;
    this.#retryMs = options.retryMs ?? 1000;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** The id of the last event received: where a new stream resumes (`client.stream({ lastEventId })`). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** How many connections the stream has opened (1, and one more for each resume). */
  get connections(): number {
    return this.#connections;
  }

  close(): void {
    this.#stop.abort();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent> {
    while (!this.#stop.signal.aborted) {
      const connection = new AbortController();
      const stopConnection = () => connection.abort();
      this.#stop.signal.addEventListener("abort", stopConnection, { once: true });
      try {
        let body: ReadableStream<Uint8Array>;
        try {
          body = await this.#open(this.#lastEventId, connection.signal);
        } catch (error) {
          if (this.#stop.signal.aborted) return;
          if (isRefusal(error)) throw error;
          await delay(this.#retryMs, this.#stop.signal); // the service is away: try again
          continue;
        }
        this.#connections++;
        try {
          for await (const field of readEvents(body, () => this.#opened())) {
            if (field.retry !== undefined) this.#retryMs = field.retry;
            if (field.id !== undefined) this.#lastEventId = field.id;
            if (field.data === undefined) continue;
            yield { event: field.event ?? "message", data: JSON.parse(field.data), id: field.id ?? null };
          }
        } catch {
          // The connection broke: resume below.
        }
      } finally {
        this.#stop.signal.removeEventListener("abort", stopConnection);
        connection.abort();
      }
      if (!this.#stop.signal.aborted) await delay(this.#retryMs, this.#stop.signal);
    }
  }
}

/** A status the service will answer again on a retry (its envelope names why): not worth reconnecting for. */
function isRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    && error.status >= 400 && error.status < 500 && error.status !== 429;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

interface EventFields {
  event?: string;
  data?: string;
  id?: string;
  retry?: number;
}

/** The events of a text/event-stream body, as the HTML standard parses them (comments and unknown fields ignored). */
async function* readEvents(body: ReadableStream<Uint8Array>, firstByte: () => void): AsyncGenerator<EventFields> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let fields: EventFields = {};
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      firstByte();
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { ...fields, data: data.join("\n") };
          else if (fields.id !== undefined || fields.retry !== undefined) yield fields;
          fields = {};
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (name === "event") fields.event = value;
        else if (name === "data") data.push(value);
        else if (name === "id" && !value.includes("\0")) fields.id = value;
        else if (name === "retry" && /^\d+$/.test(value)) fields.retry = Number(value);
      }
    }
  } finally {
    reader.releaseLock();
  }
}
