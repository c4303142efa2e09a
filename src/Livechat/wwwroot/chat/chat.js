// The customer page: start a routed chat, wait in the queue (with the position), see the agent join,
// talk live (with files: attach, drop or paste), see the agent typing and having read; a ticket when nobody is online;
// rate the chat once it is closed; download the chat's transcript (an HTML page, times in this browser's zone; it never
// holds the agents' notes).
import { api, clearAuth, download, loadAuth } from "../shared/api.js";
import { ChatView } from "../shared/chatview.js";
import { $, say } from "../shared/dom.js";
import { signIn } from "../shared/signin.js";
import { openStream } from "../shared/stream.js";

let auth;
let view;
let session = null;
const pageError = $("#page-error");
const fail = (e) => say(pageError, e.message ?? String(e), "error");
// The chat this user started, per tab, so a reload comes back to it.
const storageKey = () => `livechat.chat.${auth.tenantId}.${auth.userId}`;

async function main() {
  auth = loadAuth();
  if (!auth || auth.isAgent) {
    auth = await signIn($("#signin-root"), {
      title: "Livechat",
      defaultRole: "TENANT_ADMIN",
      check: async (candidate) => {
        if (candidate.isAgent) throw new Error("This page is for customers. Support agents use the desk at /console/.");
        await api(candidate, "GET", "/livechat/sessions?limit=1");
      },
    });
  }
  $("#page").hidden = false;
  $("[data-testid=whoami]").textContent = `User ${auth.userId} · tenant ${auth.tenantId}`;
  view = new ChatView($("#chat-body"), auth, { name: (id) => (id === auth.userId ? "You" : agentName(id)) });
  $("#start-chat").addEventListener("click", start);
  $("#new-chat").addEventListener("click", start);
  $("#sign-out").addEventListener("click", () => { clearAuth(); location.reload(); });
  $("#rating").addEventListener("change", () => { $("#send-rating").disabled = !$("#rating").elements.score.value; });
  $("#rating").addEventListener("submit", rate);
  $("#download-transcript").addEventListener("click", () => {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
    if (session) download(auth, `/livechat/sessions/${session.id}/transcript?format=html&tz=${encodeURIComponent(tz)}`).catch(fail);
  });

  const connection = $("[data-testid=connection]");
  openStream(auth, {
    onOpen: (reconnected) => {
      connection.textContent = "Live";
      connection.dataset.state = "live";
      if (!reconnected) refresh(); // a reconnect resumes: the stream itself sends what was missed
    },
    onReset: refresh, // the stream could not resume: what was missed comes from the list endpoints
    onDown: (refused) => {
      connection.textContent = "Reconnecting…";
      connection.dataset.state = "down";
      if (refused) refresh(); // shows the API's reason (an expired token, a deactivated tenant) while retrying
    },
    messageCreated: (message) => { if (view.add(message) && message.sender_id !== auth.userId) view.markRead(); },
    sessionUpdated: (updated) => { if (updated.id === session?.id) show({ ...updated, rating: updated.rating ?? session.rating }); },
    sessionRated: (rating) => { if (rating.session_id === session?.id) show({ ...session, rating }); },
    messagesRead: (event) => view.theyRead(event),
    typing: (event) => view.theyType(event),
    attachmentUpdated: (attachment) => view.attachmentUpdated(attachment),
  });
}

/** After the first connect and a reset: the chat as it is now, and the messages after the newest one shown. */
async function refresh() {
  try {
    const id = session?.id ?? sessionStorage.getItem(storageKey());
    if (!id) {
      showStart();
      return;
    }
    const { data } = await api(auth, "GET", `/livechat/sessions/${id}`);
    const first = view.sessionId !== data.id;
    show(data);
    if (first) await view.open(data.id);
    else await view.catchUp();
    say(pageError, "");
  } catch (e) {
    if (e.status === 404) {
      sessionStorage.removeItem(storageKey());
      showStart();
    } else {
      fail(e);
    }
  }
}

async function start() {
  say(pageError, "");
  say($("#no-agent"), "");
  $("#start-chat").disabled = true;
  try {
    const { data } = await api(auth, "POST", "/livechat/sessions", {});
    sessionStorage.setItem(storageKey(), data.id);
    show(data);
    await view.open(data.id);
    $("[data-testid=composer]").focus();
  } catch (e) {
    if (e.meta?.ticket_id) {
      showStart();
      say($("#no-agent"), "Nobody from support is online right now. We have opened a ticket for you, and an agent will get back to you. "
        + `Your ticket: ${e.meta.ticket_id}.`, "warning");
    } else {
      fail(e);
    }
  } finally {
    $("#start-chat").disabled = false;
  }
}

/** The customer's rating of its closed chat: 1 to 5 stars and an optional comment, once (contract section 20). */
async function rate(event) {
  event.preventDefault();
  const form = $("#rating");
  const comment = form.elements.comment.value.trim();
  $("#send-rating").disabled = true;
  try {
    const { data } = await api(auth, "POST", `/livechat/sessions/${session.id}/rating`,
      { score: Number(form.elements.score.value), ...(comment ? { comment } : {}) });
    show({ ...session, rating: data });
    say(pageError, "");
  } catch (e) {
    if (e.status === 409) await refresh(); // rated already (another tab): show that rating
    else fail(e);
    $("#send-rating").disabled = false;
  }
}

/** The agent's remembered name when the session gives it (agent_name), else "Agent <id>". */
const agentName = (id) => (id === session?.agent_id && session.agent_name ? session.agent_name : `Agent ${id}`);

function showStart() {
  session = null;
  $("#start").hidden = false;
  $("#chat-panel").hidden = true;
}

function show(current) {
  const joined = current.agent_id && current.agent_id !== session?.agent_id && session?.id === current.id;
  session = current;
  $("#start").hidden = true;
  $("#chat-panel").hidden = false;
  const status = $("#chat-status");
  status.dataset.state = current.status === "CLOSED" ? "closed" : current.agent_id ? "assigned" : "queued";
  status.textContent = current.status === "CLOSED" ? "This chat was closed. Thank you for reaching out."
    : current.agent_id ? `${joined ? "Agent joined: you are" : "You are"} chatting with ${agentName(current.agent_id)}.`
    : `Waiting for an agent. You are number ${current.queue_position} in the queue; you can already write.`;
  $("#new-chat").hidden = current.status !== "CLOSED";
  view.setWritable(current.status === "OPEN", "This chat is closed.");
  const rated = current.rating;
  $("#rating").hidden = current.status !== "CLOSED" || Boolean(rated);
  if ($("#rating").hidden) $("#rating").reset();
  $("#send-rating").disabled = !$("#rating").elements.score.value;
  say($("#rating-thanks"), rated ? `Thank you for your rating: ${rated.score} of 5.` : "");
}

main().catch(fail);
