// Joins a session on the Livechat hub with the official JavaScript client and prints, one JSON line each,
// "joined" and then the first messageCreated payload. Used by NodeClientTests; usable by hand:
//   node hub-client.mjs http://localhost:5080 "$TOKEN" 1 SESSION_ID [skipNegotiation]
// With "skipNegotiation" it connects as docs/scaling.md recommends behind a load balancer: a WebSocket straight away.
import * as signalR from "@microsoft/signalr";

const [baseUrl, token, tenant, sessionId, mode] = process.argv.slice(2);
const options = { accessTokenFactory: () => token };
if (mode === "skipNegotiation") Object.assign(options, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets });
const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${baseUrl}/livechat/hub?tenant_id=${encodeURIComponent(tenant)}`, options)
  .configureLogging(signalR.LogLevel.Warning)
  .build();

const timer = setTimeout(() => { console.error("no messageCreated within 20 s"); process.exit(2); }, 20_000);
connection.on("messageCreated", async (message) => {
  console.log(JSON.stringify({ event: "messageCreated", message }));
  clearTimeout(timer);
  await connection.stop();
  process.exit(0);
});

try {
  await connection.start();
  await connection.invoke("JoinSession", sessionId);
  console.log(JSON.stringify({ event: "joined" }));
} catch (error) {
  console.log(JSON.stringify({ event: "error", message: String(error.message ?? error) }));
  process.exit(1);
}
