// The envelope every answer of the API is (contract section 2): the generated types describe each operation's
// envelope; this turns one answer into its data, or into a LivechatError carrying the envelope's errors.
import type { components } from "./schema.js";

export type Meta = components["schemas"]["Meta"];
export type Pagination = components["schemas"]["Pagination"];

/** `APIResponse<T>`: success or failure, ours or the framework's. */
export interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
  meta: Meta;
  errors: Record<string, string[]> | null;
}

/** A refused or failed call: the status, the envelope's message and its errors (field -> messages). */
export class LivechatError extends Error {
  override readonly name = "LivechatError";

  constructor(
    readonly status: number,
    message: string,
    readonly errors: Record<string, string[]>,
    readonly meta: Meta | undefined,
  ) {
    super(message);
  }

  /** The answer's meta.request_id, for the service's logs. */
  get requestId(): string | undefined {
    return this.meta?.request_id;
  }
}

/** What openapi-fetch resolves to: the parsed 2xx body as data, or the parsed failure body as error. */
export interface FetchResult<E> {
  data?: E;
  error?: unknown;
  response: Response;
}

/** A 2xx answer's data and meta (meta.pagination on a list, meta.ticket_id...). */
export interface Answer<T> {
  data: T;
  meta: Meta;
}

/** The data of a 2xx answer; anything else thrown as a LivechatError with the envelope's message and errors. */
export async function unwrap<E extends { data: unknown; meta: Meta }>(call: Promise<FetchResult<E>>): Promise<Answer<NonNullable<E["data"]>>> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined && data.data !== null && data.data !== undefined) {
    return { data: data.data as NonNullable<E["data"]>, meta: data.meta };
  }
  throw toError(response, error ?? data);
}

/** A LivechatError from a failure's body (the envelope; anything else is named by its status alone). */
export function toError(response: Response, body: unknown): LivechatError {
  const envelope = isEnvelope(body) ? body : undefined;
  return new LivechatError(
    response.status,
    envelope?.message ?? `${response.status} ${response.statusText}`.trim(),
    envelope?.errors ?? {},
    envelope?.meta,
  );
}

function isEnvelope(body: unknown): body is Envelope<unknown> {
  return typeof body === "object" && body !== null && "success" in body && "meta" in body;
}
