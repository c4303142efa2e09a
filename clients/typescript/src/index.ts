// A typed client of the Livechat API. Every operation is on `client.api` (openapi-fetch over the types that
// openapi-typescript generated from the service's own /openapi/v1.json, src/schema.ts); written by hand is only what
// generation cannot give: the envelope (unwrap), walking cursor pages, and the resumable per-user stream.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { type Answer, type Pagination, toError, unwrap } from "./envelope.js";
import { type StreamOptions, UserStream } from "./stream.js";

export type { components, paths } from "./schema.js";
export { type Answer, type Envelope, type FetchResult, LivechatError, type Meta, type Pagination, toError, unwrap } from "./envelope.js";
export { type StreamEvent, type StreamOptions, UserStream } from "./stream.js";

type Schemas = components["schemas"];
export type ChatSession = Schemas["ChatSession"];
export type ChatMessage = Schemas["ChatMessage"];
export type StartSessionRequest = Schemas["StartSessionRequest"];
export type SendMessageRequest = Schemas["SendMessageRequest"];

export interface LivechatClientOptions {
  /** Where the service listens, e.g. "http://localhost:5080". */
  baseUrl: string;
  /** The bearer token, or a function that gives a fresh one for each request. */
  token: string | (() => string | Promise<string>);
  /** Sent as X-Tenant-ID; leave out when the host name maps to a tenant. */
  tenantId?: number;
  /** Another fetch (tests, a proxy...); globalThis.fetch otherwise. */
  fetch?: (input: Request) => Promise<Response>;
}

/** One page of a list and the cursors around it. */
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

export interface PageQuery {
  /** 1..100. */
  limit: number;
  cursor?: string;
  direction?: "forward" | "backward";
}

export function createLivechatClient(options: LivechatClientOptions): LivechatClient {
  return new LivechatClient(options);
}

export class LivechatClient {
  /** Every operation of the API, typed from the OpenAPI document: `client.api.GET("/tickets", {...})`. */
  readonly api: Client<paths>;

  constructor(private readonly options: LivechatClientOptions) {
    this.api = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/$/, ""), ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.api.use({
      onRequest: async ({ request }) => {
        const token = typeof options.token === "string" ? options.token : await options.token();
        request.headers.set("Authorization", `Bearer ${token}`);
        if (options.tenantId !== undefined) request.headers.set("X-Tenant-ID", String(options.tenantId));
        return request;
      },
    });
  }

  /** POST /livechat/sessions: with the named agent, or (no agent_id) the calling agent or the queue. */
  async startSession(body: StartSessionRequest = {}): Promise<ChatSession> {
    return (await unwrap(this.api.POST("/livechat/sessions", { body }))).data;
  }

  async getSession(id: string): Promise<ChatSession> {
    return (await unwrap(this.api.GET("/livechat/sessions/{id}", { params: { path: { id } } }))).data;
  }

  async closeSession(id: string): Promise<ChatSession> {
    return (await unwrap(this.api.PATCH("/livechat/sessions/{id}", { params: { path: { id } }, body: { status: "CLOSED" } }))).data;
  }

  /** POST /livechat/sessions/{id}/messages; a client_message_id makes a retry safe (the same message, once). */
  async sendMessage(sessionId: string, message: string, clientMessageId?: string): Promise<ChatMessage> {
    const body: SendMessageRequest = clientMessageId === undefined ? { message } : { message, client_message_id: clientMessageId };
    return (await unwrap(this.api.POST("/livechat/sessions/{id}/messages", { params: { path: { id: sessionId } }, body }))).data;
  }

  /** One page of a session's messages, in ascending order. */
  async messagePage(sessionId: string, query: PageQuery): Promise<Page<ChatMessage>> {
    return page(await unwrap(this.api.GET("/livechat/sessions/{id}/messages", { params: { path: { id: sessionId }, query } })));
  }

  /** Every message of a session from the first (or after `after`) on, page by page: `for await (const m of client.messages(id))`. */
  async *messages(sessionId: string, options: { pageSize?: number; after?: string } = {}): AsyncGenerator<ChatMessage> {
    let cursor = options.after;
    for (;;) {
      const { items, pagination } = await this.messagePage(sessionId, { limit: options.pageSize ?? 100, ...(cursor ? { cursor } : {}) });
      yield* items;
      if (!pagination.has_next || !pagination.next_cursor) return;
      cursor = pagination.next_cursor;
    }
  }

  /** The caller's per-user event stream, resumed by Last-Event-ID whenever its connection ends (contract section 12). */
  stream(options: StreamOptions = {}): UserStream {
    return new UserStream(async (lastEventId, signal) => {
      const { data, error, response } = await this.api.GET("/livechat/stream", {
        parseAs: "stream",
        headers: { Accept: "text/event-stream", ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
        signal,
      });
      if (!response.ok || !data) throw toError(response, error);
      return data;
    }, options);
  }
}

function page<T>({ data, meta }: Answer<T[]>): Page<T> {
  if (!meta.pagination) throw new Error("A list answer without meta.pagination.");
  return { items: data, pagination: meta.pagination };
}
