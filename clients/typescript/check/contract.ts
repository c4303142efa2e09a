// The OpenAPI document cannot drift from the contract unnoticed: `npm run check` (tsc --noEmit) fails when a shape
// generated from the service's /openapi/v1.json (src/schema.ts) can no longer be assigned to the seed's own type
// (check/seed.ts), or a request the seed writes is no longer one the generated operation takes.
import type * as Seed from "./seed.js";
import type { components, paths } from "../src/schema.js";
import type { Envelope, LivechatClient } from "../src/index.js";

type Schemas = components["schemas"];
/** Compiles only when A can be assigned to B. */
type Assignable<A extends B, B> = [A, B];
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

// What the service answers is what the seed declares...
export type Entities = [
  Assignable<Schemas["ChatSession"], Seed.ChatSession>,
  Assignable<Schemas["ChatMessage"], Seed.ChatMessage>,
  Assignable<Schemas["Pagination"], Seed.Pagination>,
  Assignable<Schemas["Meta"], Seed.Meta>,
  Assignable<Schemas["ApiResponseOfChatSession"], Seed.APIResponse<Seed.ChatSession>>,
  Assignable<Schemas["ApiResponseOfChatMessage"], Seed.APIResponse<Seed.ChatMessage>>,
  Assignable<Schemas["ApiResponseOfIReadOnlyListOfChatMessage"], Seed.APIResponse<Seed.ChatMessage[]>>,
  // ...and holds no field the seed does not know as a required one.
  Assignable<Seed.ChatSession, Schemas["ChatSession"]>,
  Assignable<Seed.ChatMessage, Schemas["ChatMessage"]>,
  Assignable<Seed.Pagination, Schemas["Pagination"]>,
  Assignable<Seed.Meta, Schemas["Meta"]>,
  Assignable<Seed.APIResponse<Seed.ChatSession>, Envelope<Seed.ChatSession>>,
  Assignable<Envelope<Seed.ChatSession>, Seed.APIResponse<Seed.ChatSession>>,
];

// The seed's three endpoints answer with the seed's envelopes, on the statuses it names.
export type Operations = [
  Assignable<Json<paths["/livechat/sessions"]["post"]["responses"][201]>, Seed.StartSessionResponse>,
  Assignable<Json<paths["/livechat/sessions/{id}/messages"]["post"]["responses"][201]>, Seed.SendMessageResponse>,
  Assignable<Json<paths["/livechat/sessions/{id}/messages"]["get"]["responses"][200]>, Seed.ListMessagesResponse>,
  Assignable<Json<paths["/livechat/sessions/{id}/messages"]["get"]["responses"][400]>, Seed.APIResponse<unknown>>,
];

// What a frontend sends, typed by the seed, the generated operations take: bodies and the list's limit and cursor.
type MessagesQuery = paths["/livechat/sessions/{id}/messages"]["get"]["parameters"]["query"];
export type Requests = [
  Assignable<Seed.StartSessionRequest, NonNullable<paths["/livechat/sessions"]["post"]["requestBody"]>["content"]["application/json"]>,
  Assignable<Seed.SendMessageRequest, paths["/livechat/sessions/{id}/messages"]["post"]["requestBody"]["content"]["application/json"]>,
  Assignable<{ limit: number; cursor?: string }, MessagesQuery>,
  // limit is required, as the seed says ("limit wajib").
  Assignable<MessagesQuery["limit"], number>,
];

// The hand-written layer hands out the seed's types.
export async function handsOutTheSeedsTypes(client: LivechatClient): Promise<void> {
  const session: Seed.ChatSession = await client.startSession({} satisfies Seed.StartSessionRequest);
  const message: Seed.ChatMessage = await client.sendMessage(session.id, "halo");
  const page: { items: Seed.ChatMessage[]; pagination: Seed.Pagination } = await client.messagePage(session.id, { limit: 20 });
  for await (const each of client.messages(session.id)) {
    const seen: Seed.ChatMessage = each;
    void seen;
  }
  void message;
  void page;
}
