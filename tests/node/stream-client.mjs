// Opens the caller's per-user stream (GET /livechat/stream) with the npm `eventsource` package, as a browser
// does with EventSource: the token and tenant travel in the query. Prints one JSON line for "open" and then
// one per event ({event, data, id}) until COUNT events arrived. Used by NodeClientTests; usable by hand:
//   node stream-client.mjs http://localhost:5080 "$TOKEN" 1 3
import { EventSource } from "eventsource";

const [baseUrl, token, tenant, count] = process.argv.slice(2);
const names = ["messageCreated", "sessionUpdated", "sessionAssigned", "notificationCreated", "messagesRead", "typing", "presenceUpdated"];
const url = `${baseUrl}/livechat/stream?access_token=${encodeURIComponent(token)}&tenant_id=${encodeURIComponent(tenant)}`;
const source = new EventSource(url);
let left = Number(count);

const timer = setTimeout(() => { console.error(`still ${left} events short after 20 s`); process.exit(2); }, 20_000);
source.onopen = () => console.log(JSON.stringify({ event: "open" }));
source.onerror = (error) => {
  console.log(JSON.stringify({ event: "error", message: String(error.message ?? error), code: error.code ?? null }));
  process.exit(1);
};
for (const name of names) {
  source.addEventListener(name, (e) => {
    console.log(JSON.stringify({ event: name, data: JSON.parse(e.data), id: e.lastEventId || null }));
    if (--left === 0) {
      clearTimeout(timer);
      source.close();
      process.exit(0);
    }
  });
}
