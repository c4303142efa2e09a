// Drives a running Livechat service through the built client (dist/, `npm run build`) as a frontend would: start a
// chat, send, walk the pages, read the per-user stream, lose its connection and resume by Last-Event-ID.
// Used by TypeScriptClientTests, which then checks the service's own view; by hand:
//   node test/live.mjs http://localhost:5080 "$TOKEN" 1
// Prints one JSON line at the end ({session, sent, streamed, resumedWith}); exits non-zero on the first broken expectation.
import assert from "node:assert/strict";
import { createLivechatClient, LivechatError } from "../dist/index.js";

const [baseUrl, token, tenant] = process.argv.slice(2);
const timer = setTimeout(() => { console.error("live.mjs: still running after 60 s"); process.exit(2); }, 60_000);

// A fetch whose stream connections can be cut, and which remembers the Last-Event-ID each one was opened with.
const streams = [];
async function cuttableFetch(request) {
  const response = await fetch(request);
  if (!new URL(request.url).pathname.endsWith("/livechat/stream") || !response.body) return response;
  const reader = response.body.getReader();
  let controllerOf;
  const body = new ReadableStream({
    start(controller) { controllerOf = controller; },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close(); else controller.enqueue(value);
    },
    cancel(reason) { return reader.cancel(reason); },
  });
  streams.push({
    lastEventId: request.headers.get("Last-Event-ID"),
    cut() { controllerOf.error(new Error("cut by the test")); reader.cancel().catch(() => {}); },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

const client = createLivechatClient({ baseUrl, token, tenantId: Number(tenant), fetch: cuttableFetch });

// The stream, read in the background; `next(name)` waits for the next event of that name.
const stream = client.stream();
const received = [];
let wake = () => {};
const reading = (async () => {
  for await (const event of stream) {
    received.push(event);
    wake();
  }
})();
async function next(name, after) {
  for (;;) {
    const found = received.slice(after).findIndex((e) => e.event === name);
    if (found >= 0) return { event: received[after + found], at: after + found + 1 };
    await new Promise((resolve) => (wake = resolve));
  }
}
await stream.ready; // live from here on: nothing later is missed

// Start a chat (the calling agent's own) and send five messages.
const session = await client.startSession();
assert.equal(session.status, "OPEN");
assert.equal(session.tenant_id, Number(tenant));
const sent = [];
for (const text of ["Halo!", "Ada yang bisa dibantu?", "Satu", "Dua", "Tiga"]) {
  const message = await client.sendMessage(session.id, text);
  assert.equal(message.message, text);
  assert.equal(message.session_id, session.id);
  sent.push(message.id);
}

// A refusal is a LivechatError with the envelope's errors, and nothing is stored (the walk below sees five).
await assert.rejects(client.sendMessage(session.id, "   "), (error) => {
  assert.ok(error instanceof LivechatError);
  assert.equal(error.status, 400);
  assert.ok(error.errors.message?.length > 0, JSON.stringify(error.errors));
  assert.match(error.requestId ?? "", /.+/);
  return true;
});

// Walk the pages, two at a time: each message once, in order.
const walked = [];
for await (const message of client.messages(session.id, { pageSize: 2 })) walked.push(message.id);
assert.deepEqual(walked, sent);
const first = await client.messagePage(session.id, { limit: 2 });
assert.equal(first.pagination.has_next, true);
assert.equal(first.pagination.next_cursor, sent[1]);

// The stream carried the five, in order, each with its place in the log.
let at = 0;
const streamed = [];
for (let i = 0; i < sent.length; i++) {
  const found = await next("messageCreated", at);
  at = found.at;
  assert.equal(found.event.data.id, sent[i]);
  assert.match(found.event.id, /^\d+-\d+$/);
  streamed.push(found.event.data.id);
}

// Cut the connection; the message sent meanwhile arrives once the stream has resumed, by Last-Event-ID.
const before = stream.lastEventId;
streams[0].cut();
const sixth = await client.sendMessage(session.id, "while the stream was away");
sent.push(sixth.id);
const resumed = await next("messageCreated", at);
at = resumed.at;
assert.equal(resumed.event.data.id, sixth.id);
streamed.push(resumed.event.data.id);
assert.equal(stream.connections, 2);
assert.equal(streams[1].lastEventId, before);

// A new stream from where this one stopped gets what was sent after it closed, first.
stream.close();
await reading;
const seventh = await client.sendMessage(session.id, "after the stream closed");
sent.push(seventh.id);
const later = client.stream({ lastEventId: stream.lastEventId });
for await (const event of later) {
  if (event.event !== "messageCreated") continue;
  assert.equal(event.data.id, seventh.id);
  streamed.push(event.data.id);
  break;
}
later.close();

// No message twice on the stream.
assert.equal(new Set(streamed).size, streamed.length);
clearTimeout(timer);
console.log(JSON.stringify({ session: session.id, sent, streamed, resumedWith: streams[1].lastEventId }));
