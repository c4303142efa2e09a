// The agent desk: presence and capacity, the queue, my chats (unread, last message), one chat window,
// transfer and close, notifications and tickets. Live through /livechat/stream, which resumes after a drop; on the
// first connect (and when the stream says "reset") the lists are fetched and the open chat catches up after its
// newest message.
import { api, clearAuth, loadAuth, pages } from "../shared/api.js";
import { ChatView } from "../shared/chatview.js";
import { $, el, localTime, say, timeElement } from "../shared/dom.js";
import { signIn } from "../shared/signin.js";
import { openStream } from "../shared/stream.js";

let auth;
let view;
const agents = new Map(); // agent_id -> Agent
const queue = new Map(); // session id -> ChatSession (with queue_position)
const mine = new Map(); // session id -> ChatSession (with unread_count, last_message)
let notifications = [];
let tickets = [];
let openId = null;

const deskError = $("#desk-error");
const fail = (e) => say(deskError, e.message ?? String(e), "error");

async function main() {
  auth = loadAuth();
  if (!auth?.isAgent) {
    auth = await signIn($("#signin-root"), {
      title: "Livechat desk",
      defaultRole: "SUPPORT_AGENT",
      check: async (candidate) => {
        if (!candidate.isAgent) throw new Error("This desk is for support agents (role SUPPORT_AGENT). Customers chat at /chat/.");
        await api(candidate, "GET", "/livechat/agents");
      },
    });
  }
  $("#desk").hidden = false;
  $("[data-testid=whoami]").textContent = `Agent ${auth.userId} · tenant ${auth.tenantId}`;
  view = new ChatView($("#chat-body"), auth, { name, onSent: (message) => messageCreated(message) });

  $("#presence").addEventListener("change", (e) => setPresence(e.target.value));
  $("#capacity").addEventListener("change", (e) => setCapacity(e.target.value));
  $("#sign-out").addEventListener("click", () => { clearAuth(); location.reload(); });
  $("#refresh-tickets").addEventListener("click", () => loadTickets().catch(fail));
  $("#transfer").addEventListener("click", () => transfer(Number($("#transfer-target").value)));
  $("#requeue").addEventListener("click", () => transfer(null));
  $("#close-session").addEventListener("click", closeChat);

  const connection = $("[data-testid=connection]");
  openStream(auth, {
    onOpen: (reconnected) => {
      connection.textContent = "Live";
      connection.dataset.state = "live";
      if (!reconnected) refreshAll(); // a reconnect resumes: the stream itself sends what was missed
    },
    onReset: refreshAll, // the stream could not resume: what was missed comes from the list endpoints
    onDown: (refused) => {
      connection.textContent = "Reconnecting…";
      connection.dataset.state = "down";
      if (refused) refreshAll(); // shows the API's reason (an expired token, a deactivated tenant) while retrying
    },
    messageCreated,
    sessionUpdated: applySession,
    sessionAssigned: applySession,
    presenceUpdated: (agent) => { agents.set(agent.agent_id, agent); renderMe(); renderTransferTargets(); },
    messagesRead: (event) => {
      view.theyRead(event);
      if (event.user_id === auth.userId && mine.has(event.session_id)) { mine.get(event.session_id).unread_count = 0; renderMine(); }
    },
    typing: (event) => view.theyType(event),
    notificationCreated: (notification) => { notifications.unshift(notification); renderNotifications(); },
  });
}

function name(userId) {
  if (userId === auth.userId) return "You";
  return agents.has(userId) ? `Agent ${userId}` : `Customer ${userId}`;
}

/** Everything from the list endpoints: after the first connect, and when the stream could not resume (reset). */
async function refreshAll() {
  try {
    await Promise.all([loadAgents(), loadQueue(), loadMine(), loadTickets(), loadNotifications()]);
    if (openId) {
      const { data } = await api(auth, "GET", `/livechat/sessions/${openId}`);
      showChatState(data);
      await view.catchUp();
    }
    say(deskError, "");
  } catch (e) {
    fail(e);
  }
}

async function loadAgents() {
  const { data } = await api(auth, "GET", "/livechat/agents");
  agents.clear();
  data.forEach((agent) => agents.set(agent.agent_id, agent));
  renderMe();
  renderTransferTargets();
}

async function loadQueue() {
  const { data } = await api(auth, "GET", "/livechat/queue?limit=100");
  queue.clear();
  data.forEach((session) => queue.set(session.id, session));
  renderQueue();
}

async function loadMine() {
  const found = new Map();
  for await (const batch of pages(auth, "/livechat/sessions?status=OPEN&limit=100")) {
    batch.filter((s) => s.agent_id === auth.userId).forEach((s) => found.set(s.id, s));
  }
  mine.clear();
  found.forEach((s, id) => mine.set(id, s));
  renderMine();
}

async function loadTickets() {
  tickets = (await api(auth, "GET", "/tickets?limit=20")).data;
  renderTickets();
}

async function loadNotifications() {
  notifications = (await api(auth, "GET", "/notifications?limit=20")).data;
  renderNotifications();
}

// --- events ---

function messageCreated(message) {
  const session = mine.get(message.session_id);
  const looking = message.session_id === openId && document.visibilityState === "visible";
  if (session && !counted.has(message.id)) {
    counted.add(message.id); // a push and a catch-up may bring the same message twice
    if (message.sender_id !== auth.userId && !looking) session.unread_count = (session.unread_count ?? 0) + 1;
    if (!session.last_message || session.last_message.created_at <= message.created_at) session.last_message = message;
    renderMine();
  }
  if (message.session_id === openId && view.add(message) && message.sender_id !== auth.userId) view.markRead();
}
const counted = new Set();

function applySession(session) {
  if (session.status === "OPEN" && session.queue_position != null) queue.set(session.id, session);
  else queue.delete(session.id);
  if (session.status === "OPEN" && session.agent_id === auth.userId) {
    const known = mine.get(session.id);
    mine.set(session.id, { ...session, unread_count: known?.unread_count ?? 0, last_message: known?.last_message });
    // A chat that just arrived: its unread count and last message come with the session's GET.
    if (!known) api(auth, "GET", `/livechat/sessions/${session.id}`).then(({ data }) => {
      if (mine.has(data.id) && data.agent_id === auth.userId) { mine.set(data.id, data); renderMine(); }
    }, () => {});
  } else {
    mine.delete(session.id);
  }
  if (session.id === openId) showChatState(session);
  renderQueue();
  renderMine();
  renderMe();
}

// --- actions ---

async function setPresence(status) {
  try {
    const { data } = await api(auth, "PUT", "/livechat/agents/me/presence", { status });
    agents.set(data.agent_id, data);
    renderMe();
  } catch (e) {
    fail(e);
  }
}

async function setCapacity(value) {
  try {
    const { data } = await api(auth, "PATCH", "/livechat/agents/me", { max_sessions: Number(value) });
    agents.set(data.agent_id, data);
    renderMe();
  } catch (e) {
    fail(e);
    renderMe();
  }
}

async function claim(sessionId) {
  try {
    const { data } = await api(auth, "POST", `/livechat/sessions/${sessionId}/transfer`, { agent_id: auth.userId });
    applySession(data);
    await openChat(sessionId);
  } catch (e) {
    fail(e);
  }
}

async function transfer(agentId) {
  if (!openId || (agentId !== null && !agentId)) return;
  try {
    const { data } = await api(auth, "POST", `/livechat/sessions/${openId}/transfer`, { agent_id: agentId });
    applySession(data);
  } catch (e) {
    fail(e);
  }
}

async function closeChat() {
  if (!openId) return;
  try {
    const { data } = await api(auth, "PATCH", `/livechat/sessions/${openId}`, { status: "CLOSED" });
    applySession(data);
  } catch (e) {
    fail(e);
  }
}

async function openChat(sessionId) {
  openId = sessionId;
  const session = mine.get(sessionId) ?? queue.get(sessionId);
  if (mine.has(sessionId)) mine.get(sessionId).unread_count = 0;
  renderMine();
  $("#chat-body").hidden = false;
  showChatState(session ?? (await api(auth, "GET", `/livechat/sessions/${sessionId}`)).data);
  try {
    await view.open(sessionId);
  } catch (e) {
    fail(e);
  }
  // Straight to typing; on a phone the chat is below the lists, so bring it into view.
  if (matchMedia("(max-width: 760px)").matches) $("#chat-panel").scrollIntoView();
  const composer = $("[data-testid=composer]");
  if (!composer.disabled) composer.focus({ preventScroll: true });
}

// --- rendering ---

function renderMe() {
  const me = agents.get(auth.userId);
  if (!me) return;
  $("#presence").value = me.presence;
  if (document.activeElement !== $("#capacity")) $("#capacity").value = me.max_sessions;
  $("[data-testid=load]").textContent = `${mine.size} / ${me.max_sessions} chats`;
}

function renderTransferTargets() {
  const select = $("#transfer-target");
  const chosen = select.value;
  const others = [...agents.values()].filter((a) => a.agent_id !== auth.userId && a.presence === "ONLINE");
  select.replaceChildren(...(others.length
    ? others.map((a) => el("option", { value: a.agent_id, text: `Agent ${a.agent_id} (${a.open_sessions}/${a.max_sessions})`, selected: String(a.agent_id) === chosen }))
    : [el("option", { value: "", text: "Nobody else is online" })]));
  $("#transfer").disabled = others.length === 0;
}

function renderQueue() {
  const items = [...queue.values()].sort((a, b) => a.queue_position - b.queue_position);
  $("[data-testid=queue-count]").textContent = items.length ? String(items.length) : "";
  $("#queue").replaceChildren(...(items.length ? items.map((s) => el("li", { class: "item", testid: "queue-item", "data-session-id": s.id },
    el("span", { class: "position", testid: "queue-position", text: `#${s.queue_position}` }),
    el("span", { class: "grow" }, el("span", { text: "Waiting since " }), timeElement(s.created_at)),
    el("button", { type: "button", testid: "claim", text: "Claim", onclick: () => claim(s.id) })))
    : [el("li", { class: "empty", text: "Nobody is waiting." })]));
}

function renderMine() {
  const items = [...mine.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  $("[data-testid=sessions-count]").textContent = items.length ? String(items.length) : "";
  const unread = items.reduce((sum, s) => sum + (s.unread_count ?? 0), 0);
  document.title = unread ? `(${unread}) Livechat desk` : "Livechat desk"; // seen from another tab
  $("#my-sessions").replaceChildren(...(items.length ? items.map((s) => el("li", {},
    el("button", { type: "button", class: s.id === openId ? "item session current" : "item session", testid: "session-item", "data-session-id": s.id,
      "aria-current": s.id === openId ? "true" : undefined, onclick: () => openChat(s.id) },
      el("span", { class: "grow" },
        el("span", { class: "title" }, el("span", { text: `${chatName(s)} · since ` }), timeElement(s.created_at)),
        el("span", { class: "preview", testid: "last-message", text: s.last_message ? `${name(s.last_message.sender_id)}: ${s.last_message.message}` : "No messages yet" })),
      s.unread_count ? el("span", { class: "badge", testid: "unread", "aria-label": `${s.unread_count} unread`, text: String(s.unread_count) }) : null)))
    : [el("li", { class: "empty", text: "No open chats. Set yourself Online to receive chats." })]));
  renderMe();
}

const activity = (s) => s.last_message?.created_at ?? s.created_at;

/** Sessions do not name their customer: the author of the last message tells, when it is not an agent. */
function chatName(session) {
  const sender = session.last_message?.sender_id;
  return sender && sender !== auth.userId && !agents.has(sender) ? `Customer ${sender}` : "Chat";
}

function renderNotifications() {
  $("#notifications").replaceChildren(...(notifications.length ? notifications.map((n) => el("li", { testid: "notification", class: n.read_at ? "" : "unread" },
    el("span", { text: n.preview }), " ", timeElement(n.created_at)))
    : [el("li", { class: "empty", text: "No notifications." })]));
}

function renderTickets() {
  $("#tickets").replaceChildren(...(tickets.length ? tickets.map((t) => el("li", { testid: "ticket" },
    el("span", { class: "tag", text: t.status }), " ", el("span", { text: t.title }), " ", timeElement(t.created_at)))
    : [el("li", { class: "empty", text: "No tickets." })]));
}

function showChatState(session) {
  const held = session.status === "OPEN" && session.agent_id === auth.userId;
  $("#chat-title").textContent = `${chatName(mine.get(session.id) ?? session)} · since ${localTime(session.created_at)}`;
  $("#chat-state").textContent = session.status === "CLOSED" ? "This chat is closed."
    : held ? "Open · assigned to you"
    : session.queue_position != null ? `Waiting in the queue (#${session.queue_position}).`
    : `Now with Agent ${session.agent_id}.`;
  $("#chat-actions").hidden = !held;
  view.setWritable(session.status === "OPEN", session.status === "CLOSED" ? "This chat is closed." : "");
  renderMine();
}

main().catch(fail);
