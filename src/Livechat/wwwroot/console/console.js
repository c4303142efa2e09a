// The agent desk: presence and capacity, the queue, my chats (agent_id=me: unread, last message, labels), chats by
// label, one chat window (names, internal notes, canned responses, labels, files), transfer and close, notifications
// (unread count) and tickets. Live through /livechat/stream, which resumes after a drop; on the
// first connect (and when the stream says "reset") the lists are fetched and the open chat catches up after its
// newest message.
import { api, clearAuth, download, loadAuth, pages } from "../shared/api.js";
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
let unreadNotifications = 0;
let moreUnread = false; // more than the 100 counted
let labels = []; // the tenant's labels with their session counts (GET /livechat/labels)
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
  view = new ChatView($("#chat-body"), auth, { name, agentTools: true, onSent: (message) => messageCreated(message) });

  $("#presence").addEventListener("change", (e) => setPresence(e.target.value));
  $("#capacity").addEventListener("change", (e) => setCapacity(e.target.value));
  $("#sign-out").addEventListener("click", () => { clearAuth(); location.reload(); });
  $("#refresh-tickets").addEventListener("click", () => loadTickets().catch(fail));
  $("#transfer").addEventListener("click", () => transfer(Number($("#transfer-target").value)));
  $("#requeue").addEventListener("click", () => transfer(null));
  $("#close-session").addEventListener("click", closeChat);
  $("#label-form").addEventListener("submit", (e) => { e.preventDefault(); addLabel(); });
  $("#label-filter").addEventListener("change", () => loadFiltered().catch(fail));
  $("#filter-mine").addEventListener("change", () => loadFiltered().catch(fail));
  $("#notifications-read-all").addEventListener("click", readAllNotifications);
  $("#download-transcript").addEventListener("click", downloadTranscript);
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); search().catch(fail); });

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
    attachmentUpdated: (attachment) => view.attachmentUpdated(attachment),
    notificationCreated: (notification) => {
      if (notifications.some((n) => n.id === notification.id)) return;
      notifications.unshift(notification);
      if (!notification.read_at) unreadNotifications++;
      renderNotifications();
      if (notification.session_id === openId && document.visibilityState === "visible") readNotificationsOf(openId);
    },
  });
}

/** How a participant of the open chat is called: the names the session and the agent list give, else the id. */
function name(userId) {
  if (userId === auth.userId) return "You";
  const session = openSession();
  if (session?.customer_id === userId) return customerName(session);
  if (agents.has(userId)) return agentName(userId);
  if (session?.agent_id === userId && session.agent_name) return session.agent_name;
  return `Customer ${userId}`;
}

const openSession = () => (openId ? mine.get(openId) ?? queue.get(openId) ?? shown : null);
let shown = null; // the open chat's session when it is neither mine nor queued (a colleague's, a closed one)

function agentName(agentId) {
  if (agentId === auth.userId) return "you";
  return agents.get(agentId)?.name ?? `Agent ${agentId}`;
}

/** The customer's remembered name, else "Customer <id>"; an agent's own chat without a customer is "Chat". */
function customerName(session) {
  if (session.customer_name) return session.customer_name;
  if (session.customer_id) return `Customer ${session.customer_id}`;
  const sender = session.last_message?.sender_id; // an agent started it: a tenant user who wrote in it names it
  return sender && sender !== auth.userId && !agents.has(sender) ? `Customer ${sender}` : "Chat";
}

/** Everything from the list endpoints: after the first connect, and when the stream could not resume (reset). */
async function refreshAll() {
  try {
    await Promise.all([loadAgents(), loadQueue(), loadMine(), loadTickets(), loadNotifications(), loadLabels()]);
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
  for await (const batch of pages(auth, "/livechat/sessions?status=OPEN&agent_id=me&limit=100")) {
    batch.forEach((s) => found.set(s.id, s));
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
  const [recent, unread] = await Promise.all([api(auth, "GET", "/notifications?limit=20"), api(auth, "GET", "/notifications?unread=true&limit=100")]);
  notifications = recent.data;
  unreadNotifications = unread.data.length;
  moreUnread = Boolean(unread.meta.pagination?.has_next);
  renderNotifications();
}

async function loadLabels() {
  labels = (await api(auth, "GET", "/livechat/labels")).data;
  renderLabelFilter();
}

/** Chats with the chosen label (any status), the agent's own or the tenant's: the list endpoint filters. */
async function loadFiltered() {
  const label = $("#label-filter").value;
  const list = $("#filtered-sessions");
  if (!label) {
    list.replaceChildren(el("li", { class: "empty", text: "Choose a label to list its chats." }));
    return;
  }
  const mineOnly = $("#filter-mine").checked ? "&agent_id=me" : "";
  const { data } = await api(auth, "GET", `/livechat/sessions?label=${encodeURIComponent(label)}${mineOnly}&limit=50`);
  list.replaceChildren(...(data.length ? data.map((s) => el("li", {},
    el("button", { type: "button", class: "item session", testid: "filtered-item", "data-session-id": s.id, onclick: () => openChat(s.id) },
      el("span", { class: "grow" },
        el("span", { class: "title" }, el("span", { text: `${customerName(s)} · ${s.status === "OPEN" ? "open" : "closed"} · ` }), timeElement(s.created_at)),
        el("span", { class: "preview", text: s.agent_id === auth.userId ? "With you" : s.agent_id ? `With ${s.agent_name ?? agentName(s.agent_id)}` : "In the queue" }),
        labelChips(s)))))
    : [el("li", { class: "empty", text: "No chat has this label." })]));
}

/** Messages of the tenant that hold the words (GET /livechat/search), newest first; a hit opens its chat at that message. */
async function search() {
  const q = $("#search-input").value.trim();
  const list = $("#search-results");
  if (!q) {
    list.replaceChildren();
    return;
  }
  let hits;
  try {
    hits = (await api(auth, "GET", `/livechat/search?q=${encodeURIComponent(q)}&limit=20`)).data;
  } catch (e) {
    list.replaceChildren(el("li", { class: "empty", testid: "search-error", text: e.message }));
    return;
  }
  list.replaceChildren(...(hits.length ? hits.map((hit) => el("li", {},
    el("button", { type: "button", class: "item session", testid: "search-hit", "data-session-id": hit.session.id, "data-message-id": hit.message.id,
      onclick: () => openAtMessage(hit.session.id, hit.message.id) },
      el("span", { class: "grow" },
        el("span", { class: "title" }, el("span", { text: `${customerName(hit.session)} · ` }), timeElement(hit.message.created_at),
          hit.message.internal ? el("span", { class: "note-tag", text: " Internal note" }) : null),
        el("span", { class: "hit-text", testid: "hit-text" }, ...highlighted(hit.highlight))))))
    : [el("li", { class: "empty", testid: "search-empty", text: "No message holds these words." })]));
}

/**
 * A hit's highlight as nodes: the service wraps matches in <mark> and escapes everything else, so the text between
 * the marks is unescaped into text nodes and only <mark> becomes an element (no HTML from a message is ever parsed).
 */
function highlighted(highlight) {
  const text = (escaped) => escaped.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
  return highlight.split(/(<mark>.*?<\/mark>)/s).filter(Boolean).map((part) => part.startsWith("<mark>")
    ? el("mark", { text: text(part.slice(6, -7)) })
    : document.createTextNode(text(part)));
}

async function openAtMessage(sessionId, messageId) {
  await openChat(sessionId);
  if (openId === sessionId) await view.reveal(messageId);
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
    // Messages pushed while it was on its way are newer than its snapshot: they stay.
    if (!known) api(auth, "GET", `/livechat/sessions/${session.id}`).then(({ data }) => {
      const local = mine.get(data.id);
      if (!local || data.agent_id !== auth.userId) return;
      const newer = local.last_message && (!data.last_message || local.last_message.created_at > data.last_message.created_at);
      mine.set(data.id, newer ? { ...data, last_message: local.last_message, unread_count: Math.max(data.unread_count ?? 0, local.unread_count ?? 0) } : data);
      renderMine();
    }, () => {});
  } else {
    mine.delete(session.id);
  }
  if (session.id === openId) {
    shown = { ...shown, ...session };
    showChatState(session);
  }
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

/** The open chat's whole conversation as a file, notes included, times in this browser's zone. */
async function downloadTranscript() {
  if (!openId) return;
  const format = $("#transcript-format").value;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  try {
    await download(auth, `/livechat/sessions/${openId}/transcript?format=${format}&tz=${encodeURIComponent(tz)}`);
  } catch (e) {
    fail(e);
  }
}

async function openChat(sessionId) {
  openId = sessionId;
  shown = mine.get(sessionId) ?? queue.get(sessionId) ?? null;
  if (mine.has(sessionId)) mine.get(sessionId).unread_count = 0;
  renderMine();
  readNotificationsOf(sessionId);
  $("#chat-body").hidden = false;
  shown ??= (await api(auth, "GET", `/livechat/sessions/${sessionId}`)).data;
  showChatState(shown);
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

/** Labels are replaced as a whole (PUT): the open chat's list with one more, or one fewer. */
async function putLabels(next) {
  if (!openId) return false;
  try {
    const { data } = await api(auth, "PUT", `/livechat/sessions/${openId}/labels`, { labels: next });
    applySession(data);
    say(deskError, "");
    loadLabels().then(() => loadFiltered()).catch(() => {});
    return true;
  } catch (e) {
    fail(e);
    return false;
  }
}

async function addLabel() {
  const input = $("#label-input");
  const label = input.value.trim().toLowerCase();
  if (!label) return;
  const current = openSession()?.labels ?? [];
  if (await putLabels([...current, label])) input.value = "";
}

async function readNotification(notification) {
  await markNotificationRead(notification);
  if (notification.session_id) await openChat(notification.session_id);
}

async function markNotificationRead(notification) {
  if (notification.read_at) return;
  notification.read_at = new Date().toISOString(); // at once, so a second call does not count it twice
  try {
    const { data } = await api(auth, "POST", `/notifications/${notification.id}/read`);
    Object.assign(notification, data);
    unreadNotifications = Math.max(0, unreadNotifications - 1);
  } catch (e) {
    notification.read_at = null;
    fail(e);
  }
  renderNotifications();
}

/** Opening a chat (or looking at it when one comes) is what its notifications asked for: they are read. */
function readNotificationsOf(sessionId) {
  notifications.filter((n) => n.session_id === sessionId && !n.read_at).forEach((n) => markNotificationRead(n));
}

async function readAllNotifications() {
  try {
    await api(auth, "POST", "/notifications/read-all");
    notifications.forEach((n) => { n.read_at ??= new Date().toISOString(); });
    unreadNotifications = 0;
    moreUnread = false;
    renderNotifications();
  } catch (e) {
    fail(e);
  }
}

// --- rendering ---

function renderMe() {
  const me = agents.get(auth.userId);
  if (!me) return;
  $("[data-testid=whoami]").textContent = `${me.name ? `${me.name} · ` : ""}Agent ${auth.userId} · tenant ${auth.tenantId}`;
  $("#presence").value = me.presence;
  if (document.activeElement !== $("#capacity")) $("#capacity").value = me.max_sessions;
  $("[data-testid=load]").textContent = `${mine.size} / ${me.max_sessions} chats`;
}

function renderTransferTargets() {
  const select = $("#transfer-target");
  const chosen = select.value;
  const others = [...agents.values()].filter((a) => a.agent_id !== auth.userId && a.presence === "ONLINE");
  select.replaceChildren(...(others.length
    ? others.map((a) => el("option", { value: a.agent_id, text: `${agentName(a.agent_id)} (${a.open_sessions}/${a.max_sessions})`, selected: String(a.agent_id) === chosen }))
    : [el("option", { value: "", text: "Nobody else is online" })]));
  $("#transfer").disabled = others.length === 0;
}

function renderQueue() {
  const items = [...queue.values()].sort((a, b) => a.queue_position - b.queue_position);
  $("[data-testid=queue-count]").textContent = items.length ? String(items.length) : "";
  $("#queue").replaceChildren(...(items.length ? items.map((s) => el("li", { class: "item", testid: "queue-item", "data-session-id": s.id },
    el("span", { class: "position", testid: "queue-position", text: `#${s.queue_position}` }),
    el("span", { class: "grow" }, el("span", { class: "title", testid: "queue-name", text: customerName(s) }),
      el("span", {}, el("span", { class: "hint", text: "Waiting since " }), timeElement(s.created_at))),
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
        el("span", { class: "title" }, el("span", { testid: "session-name", text: customerName(s) }), el("span", { text: " · since " }), timeElement(s.created_at)),
        el("span", { class: "preview", testid: "last-message", text: s.last_message ? `${senderIn(s, s.last_message)}: ${s.last_message.internal ? "(note) " : ""}${files(s.last_message)}${s.last_message.message}` : "No messages yet" }),
        labelChips(s)),
      s.unread_count ? el("span", { class: "badge", testid: "unread", "aria-label": `${s.unread_count} unread`, text: String(s.unread_count) }) : null)))
    : [el("li", { class: "empty", text: "No open chats. Set yourself Online to receive chats." })]));
  renderMe();
}

/** "(1 file) " or "(3 files) " before a last message that carries files. */
const files = (message) => (message.attachments?.length ? `(${message.attachments.length} ${message.attachments.length === 1 ? "file" : "files"}) ` : "");

const activity = (s) => s.last_message?.created_at ?? s.created_at;

/** The sender of a message in a list row: the session's names for its customer and agent. */
function senderIn(session, message) {
  const id = message.sender_id;
  if (id === auth.userId) return "You";
  if (message.sender_name) return message.sender_name;
  if (id === session.customer_id) return customerName(session);
  if (id === session.agent_id && session.agent_name) return session.agent_name;
  return agents.has(id) ? agentName(id) : `Customer ${id}`;
}

function labelChips(session) {
  return session.labels?.length
    ? el("span", { class: "chips" }, ...session.labels.map((l) => el("span", { class: "chip", testid: "session-label", text: l })))
    : null;
}

function renderLabelFilter() {
  const select = $("#label-filter");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: labels.length ? "Choose a label" : "No labels yet" }),
    ...labels.map((l) => el("option", { value: l.label, text: `${l.label} (${l.session_count})`, selected: l.label === chosen })));
}

function renderNotifications() {
  const count = $("[data-testid=notifications-unread]");
  const shown = `${unreadNotifications}${moreUnread ? "+" : ""}`;
  count.textContent = unreadNotifications ? shown : "";
  count.setAttribute("aria-label", `${shown} unread`);
  $("#notifications-read-all").hidden = !unreadNotifications;
  $("#notifications").replaceChildren(...(notifications.length ? notifications.map((n) => el("li", {},
    el("button", { type: "button", class: n.read_at ? "item notification" : "item notification unread", testid: "notification",
      "data-read": n.read_at ? "true" : "false", onclick: () => readNotification(n) },
      el("span", { class: "grow" },
        el("span", { class: "preview", text: n.preview }),
        el("span", {}, el("span", { class: "tag", text: n.type === "LIVECHAT_ASSIGNED" ? "assigned" : "message" }), " ", timeElement(n.created_at))),
      n.read_at ? null : el("span", { class: "dot", "aria-label": "unread" }))))
    : [el("li", { class: "empty", text: "No notifications." })]));
}

function renderTickets() {
  $("#tickets").replaceChildren(...(tickets.length ? tickets.map((t) => el("li", { testid: "ticket" },
    el("span", { class: "tag", text: t.status }), " ", el("span", { text: t.title }), " ", timeElement(t.created_at)))
    : [el("li", { class: "empty", text: "No tickets." })]));
}

function showChatState(session) {
  const held = session.status === "OPEN" && session.agent_id === auth.userId;
  $("#chat-title").textContent = `${customerName(mine.get(session.id) ?? session)} · since ${localTime(session.created_at)}`;
  $("#chat-state").textContent = session.status === "CLOSED" ? "This chat is closed."
    : held ? "Open · assigned to you"
    : session.queue_position != null ? `Waiting in the queue (#${session.queue_position}).`
    : `Now with ${session.agent_name ?? agentName(session.agent_id)}.`;
  $("#chat-actions").hidden = !held;
  $("#chat-labels").hidden = false;
  $("#chat-transcript").hidden = false;
  $("#label-chips").replaceChildren(...(session.labels ?? []).map((l) => el("span", { class: "chip", testid: "label-chip" },
    el("span", { testid: "label-name", text: l }),
    el("button", { type: "button", class: "chip-remove", testid: "label-remove", "aria-label": `Remove label ${l}`, text: "×",
      onclick: () => putLabels((session.labels ?? []).filter((x) => x !== l)) }))));
  view.setWritable(session.status === "OPEN", session.status === "CLOSED" ? "This chat is closed." : "");
  renderMine();
}

main().catch(fail);
