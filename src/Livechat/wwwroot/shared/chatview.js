// The chat window both pages share: opens at the newest messages, loads older ones when scrolled to the top
// (direction=backward), merges pushed and fetched messages by id (nothing shown twice), sends with Enter,
// says when the other side types and has read, and marks what this user has seen as read.
import { api, pages } from "./api.js";
import { el, say, timeElement } from "./dom.js";

const PAGE = 30;

export class ChatView {
  /** root: an empty element; name(userId) gives how a participant is called ("Agent 7", "You"). */
  constructor(root, auth, { name, onSent }) {
    this.auth = auth;
    this.name = name;
    this.onSent = onSent ?? (() => {});
    this.sessionId = null;
    this.list = el("ol", { class: "messages", testid: "messages", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
    this.older = el("p", { class: "older hint", testid: "older", hidden: true });
    this.typing = el("p", { class: "typing", testid: "typing", "aria-live": "polite", hidden: true });
    this.input = el("textarea", { rows: 2, placeholder: "Write a message. Enter sends, Shift+Enter starts a new line.", "aria-label": "Message", testid: "composer" });
    this.sendButton = el("button", { type: "submit", class: "primary", testid: "send", text: "Send" });
    this.error = el("p", { class: "notice error", role: "alert", testid: "chat-error", hidden: true });
    this.form = el("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } }, this.input, this.sendButton);
    root.replaceChildren(this.older, this.list, this.typing, this.error, this.form);

    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.typed());
    this.list.addEventListener("scroll", () => { if (this.list.scrollTop < 40) this.loadOlder(); });
    document.addEventListener("visibilitychange", () => this.markRead());
    this.reset(null);
  }

  reset(sessionId) {
    this.sessionId = sessionId;
    if (sessionId) this.list.dataset.sessionId = sessionId;
    else delete this.list.dataset.sessionId;
    this.messages = new Map(); // id -> {message, node}
    this.order = []; // ids, oldest first
    this.prevCursor = null;
    this.hasPrev = false;
    this.loadingOlder = false;
    this.theirRead = null; // the newest of my messages the other side has read (id)
    this.myRead = null;
    this.lastTypingSent = 0;
    this.list.replaceChildren();
    this.older.hidden = true;
    this.showTyping(null, false);
    say(this.error, "");
  }

  /** Opens a session at its newest messages. */
  async open(sessionId) {
    this.reset(sessionId);
    const page = await api(this.auth, "GET", `/livechat/sessions/${sessionId}/messages?limit=${PAGE}&direction=backward`);
    if (this.sessionId !== sessionId) return;
    this.prepend(page.data, page.meta.pagination);
    this.scrollToEnd();
    this.markRead();
  }

  setWritable(writable, why = "") {
    this.input.disabled = !writable;
    this.sendButton.disabled = !writable;
    this.input.placeholder = writable ? "Write a message. Enter sends, Shift+Enter starts a new line." : why;
  }

  /** After a reconnect: everything after the newest message shown, page by page, merged by id. */
  async catchUp() {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    if (this.order.length === 0) return this.open(sessionId);
    const last = this.order[this.order.length - 1];
    for await (const batch of pages(this.auth, `/livechat/sessions/${sessionId}/messages?limit=100&cursor=${last}`)) {
      if (this.sessionId !== sessionId) return;
      batch.forEach((message) => this.add(message));
    }
    this.markRead();
  }

  async loadOlder() {
    if (!this.hasPrev || this.loadingOlder || !this.sessionId) return;
    this.loadingOlder = true;
    const sessionId = this.sessionId;
    say(this.older, "Loading older messages…");
    try {
      const page = await api(this.auth, "GET", `/livechat/sessions/${sessionId}/messages?limit=${PAGE}&direction=backward&cursor=${this.prevCursor}`);
      if (this.sessionId !== sessionId) return;
      const before = this.list.scrollHeight;
      this.prepend(page.data, page.meta.pagination);
      this.list.scrollTop += this.list.scrollHeight - before; // keep the message the reader looked at in place
    } catch (e) {
      say(this.older, `Older messages could not be loaded: ${e.message}`, "error");
    } finally {
      this.loadingOlder = false;
    }
  }

  prepend(batch, pagination) {
    const fresh = batch.filter((m) => !this.messages.has(m.id));
    const nodes = fresh.map((m) => this.remember(m));
    this.order.unshift(...fresh.map((m) => m.id));
    this.list.prepend(...nodes);
    this.hasPrev = Boolean(pagination?.has_prev);
    this.prevCursor = pagination?.prev_cursor ?? this.order[0] ?? null;
    say(this.older, this.hasPrev ? "Scroll up for older messages." : this.order.length ? "This is the start of the chat." : "No messages yet.");
    this.paintRead();
  }

  /** A message pushed or fetched: shown once, at the end (pushes and catch-up pages come in session order). */
  add(message) {
    if (message.session_id !== this.sessionId || this.messages.has(message.id)) return false;
    const nearEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    this.order.push(message.id);
    this.list.append(this.remember(message));
    if (this.order.length === 1) say(this.older, "This is the start of the chat.");
    if (message.sender_id !== this.auth.userId) this.showTyping(message.sender_id, false);
    if (nearEnd || message.sender_id === this.auth.userId) this.scrollToEnd();
    this.paintRead();
    return true;
  }

  remember(message) {
    const mine = message.sender_id === this.auth.userId;
    const node = el("li", { class: mine ? "message mine" : "message theirs", testid: "message", "data-id": message.id },
      el("span", { class: "who", text: mine ? "You" : this.name(message.sender_id) }),
      el("p", { class: "text", testid: "message-text", text: message.message }),
      el("span", { class: "meta" }, timeElement(message.created_at), mine ? el("span", { class: "read", testid: "read-mark", hidden: true, text: "Read" }) : null));
    this.messages.set(message.id, { message, node });
    return node;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** The other side read up to messageId: "Read" goes on my newest message at or before it. */
  theyRead(event) {
    if (event.session_id !== this.sessionId || event.user_id === this.auth.userId) return;
    this.theirRead = event.last_read_message_id;
    this.paintRead();
  }

  paintRead() {
    const upTo = this.theirRead ? this.order.indexOf(this.theirRead) : -1;
    let marked = false;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const { message, node } = this.messages.get(this.order[i]);
      const show = !marked && i <= upTo && message.sender_id === this.auth.userId;
      const mark = node.querySelector(".read");
      if (mark) mark.hidden = !show;
      if (show) marked = true;
    }
  }

  /** Moves this user's read marker to the newest message of the others, when the page is being looked at. */
  async markRead() {
    if (!this.sessionId || document.visibilityState !== "visible") return;
    const newest = [...this.order].reverse().map((id) => this.messages.get(id).message).find((m) => m.sender_id !== this.auth.userId);
    if (!newest || newest.id === this.myRead) return;
    this.myRead = newest.id;
    try {
      await api(this.auth, "POST", `/livechat/sessions/${this.sessionId}/read`, { message_id: newest.id });
    } catch {
      this.myRead = null; // tried again with the next message or reconnect
    }
  }

  showTyping(userId, isTyping) {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !isTyping;
    this.typing.textContent = isTyping ? `${this.name(userId)} is typing…` : "";
    // The server ends an indicator after 6 s without a refresh; this is only in case that event is lost.
    if (isTyping) this.typingTimer = setTimeout(() => this.showTyping(userId, false), 8000);
  }

  theyType(event) {
    if (event.session_id !== this.sessionId || event.user_id === this.auth.userId) return;
    this.showTyping(event.user_id, event.is_typing);
  }

  /** Says "typing" at most every 3 s while keys are pressed (the server forwards one per 2 s and ends it after 6 s). */
  typed() {
    this.pendingId = null; // a new text is a new message
    if (!this.sessionId || !this.input.value.trim()) return;
    const now = Date.now();
    if (now - this.lastTypingSent < 3000) return;
    this.lastTypingSent = now;
    api(this.auth, "POST", `/livechat/sessions/${this.sessionId}/typing`, { is_typing: true }).catch(() => {});
  }

  async send() {
    const text = this.input.value;
    if (!this.sessionId || !text.trim() || this.input.disabled) return;
    say(this.error, "");
    this.sendButton.disabled = true;
    try {
      // The same client_message_id on a retry returns the first message instead of a copy.
      this.pendingId ??= randomId();
      const sent = await api(this.auth, "POST", `/livechat/sessions/${this.sessionId}/messages`, { message: text, client_message_id: this.pendingId });
      this.pendingId = null;
      this.input.value = "";
      this.lastTypingSent = 0;
      this.add(sent.data);
      this.onSent(sent.data);
    } catch (e) {
      say(this.error, `Not sent: ${e.message}`, "error");
    } finally {
      this.sendButton.disabled = this.input.disabled;
      this.input.focus();
    }
  }
}

/** 32 hex characters from the browser's random source (crypto.randomUUID needs HTTPS or localhost). */
function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
