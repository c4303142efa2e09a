// The chat window both pages share: opens at the newest messages, loads older ones when scrolled to the top
// (direction=backward), merges pushed and fetched messages by id (nothing shown twice), sends with Enter,
// says when the other side types and has read, and marks what this user has seen as read. For agents (agentTools)
// the composer also drafts internal notes and offers canned responses after "/". Files are attached with a button,
// by dropping them on the chat or by pasting a picture (attach.js); a message may carry files without text.
import { api, pages } from "./api.js";
import { AttachmentTray, attachmentsOf } from "./attach.js";
import { el, say, timeElement } from "./dom.js";

const PAGE = 30;

export class ChatView {
  /**
   * root: an empty element; name(userId) gives how a participant is called ("Agent 7", "You"); a message's own
   * sender_name wins when it has one. agentTools: the note mode and the canned-response picker (the desk).
   */
  constructor(root, auth, { name, onSent, agentTools = false }) {
    this.root = root;
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
    this.noteMode = false;
    this.noteToggle = agentTools ? el("button", { type: "button", class: "note-toggle", testid: "note-toggle", "aria-pressed": "false",
      title: "Internal note: only agents see it", text: "Note", onclick: () => this.setNoteMode(!this.noteMode) }) : null;
    this.picker = agentTools ? new CannedPicker(this) : null;
    this.tray = new AttachmentTray(this, () => { this.pendingId = null; this.canSend(); }); // other files make another message
    this.form = el("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.noteToggle, this.tray.button, this.tray.input, el("div", { class: "composer-input" }, this.picker?.list, this.input), this.sendButton);
    root.replaceChildren(this.older, this.list, this.typing, this.error, this.tray.list, this.form);
    root.classList.add("drop-target");
    this.acceptFiles(root);

    this.input.addEventListener("keydown", (e) => {
      if (this.picker?.keydown(e)) return;
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => { this.typed(); this.picker?.update(); });
    this.list.addEventListener("scroll", () => { if (this.list.scrollTop < 40) this.loadOlder(); });
    document.addEventListener("visibilitychange", () => this.markRead());
    this.reset(null);
  }

  reset(sessionId) {
    if (sessionId !== this.sessionId) this.tray?.discard(); // unsent files belong to the chat they were chosen in
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
    this.picker?.close();
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
    await this.loadReadMarks(sessionId);
  }

  /** Everyone's read markers (GET .../read): "Read" on old messages without waiting for a live event. */
  async loadReadMarks(sessionId) {
    try {
      const { data } = await api(this.auth, "GET", `/livechat/sessions/${sessionId}/read`);
      if (this.sessionId !== sessionId) return;
      const furthest = data.filter((r) => r.user_id !== this.auth.userId && r.last_read_message_id)
        .map((r) => r.last_read_message_id).sort((a, b) => this.order.indexOf(b) - this.order.indexOf(a))[0];
      if (furthest && this.order.indexOf(furthest) > (this.theirRead ? this.order.indexOf(this.theirRead) : -1)) {
        this.theirRead = furthest;
        this.paintRead();
      }
    } catch {
      // the marks are a nicety: the live messagesRead events still set them
    }
  }

  /** Note mode: what is sent is an internal note, which the customer never sees. */
  setNoteMode(on) {
    this.noteMode = on;
    this.pendingId = null; // a note is not a retry of a message (the service answers 422 to that), nor the reverse
    this.noteToggle?.setAttribute("aria-pressed", String(on));
    this.form.classList.toggle("note-mode", on);
    if (!this.input.disabled) this.input.placeholder = this.placeholder();
    this.input.focus();
  }

  placeholder() {
    return this.noteMode ? "Write an internal note: only agents see it. Enter adds it."
      : this.picker ? "Write a message, or / for a canned response. Enter sends, Shift+Enter starts a new line."
      : "Write a message. Enter sends, Shift+Enter starts a new line.";
  }

  setWritable(writable, why = "") {
    this.input.disabled = !writable;
    this.tray.button.disabled = !writable;
    if (this.noteToggle) this.noteToggle.disabled = !writable;
    this.input.placeholder = writable ? this.placeholder() : why;
    if (!writable) this.tray.discard();
    this.canSend();
  }

  /** Send waits while a file is still uploading or being scanned. */
  canSend() {
    this.sendButton.disabled = this.input.disabled || this.tray.busy;
    this.sendButton.title = this.tray.busy ? "Wait until the files are ready" : "";
  }

  /** Files dropped on the chat, or a picture pasted (from a screenshot tool, say), are attached like chosen ones. */
  acceptFiles(root) {
    const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
    let depth = 0; // dragenter and dragleave fire for every child crossed
    root.addEventListener("dragenter", (e) => {
      if (!carriesFiles(e) || this.input.disabled) return;
      e.preventDefault();
      depth++;
      root.classList.add("dropping");
    });
    root.addEventListener("dragover", (e) => {
      if (!carriesFiles(e) || this.input.disabled) return;
      e.preventDefault(); // without it the browser opens the file instead of dropping it here
      e.dataTransfer.dropEffect = "copy";
    });
    root.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; root.classList.remove("dropping"); } });
    root.addEventListener("drop", (e) => {
      depth = 0;
      root.classList.remove("dropping");
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      this.tray.add([...e.dataTransfer.files]);
    });
    // A file dropped anywhere else (or on a closed chat) would make the browser leave the page to show it: there, a
    // drop does nothing.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (e) => {
        if (!carriesFiles(e) || e.defaultPrevented) return;
        e.preventDefault();
        if (type === "dragover") e.dataTransfer.dropEffect = "none";
      });
    }
    root.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return; // text is pasted as text
      e.preventDefault();
      this.tray.add(files);
    });
  }

  /** attachmentUpdated: one of this user's uploads was scanned. */
  attachmentUpdated(attachment) {
    this.tray.updated(attachment);
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

  /** Brings a message of the open chat into view (a search hit): older pages are loaded until it is among them. */
  async reveal(messageId) {
    for (let i = 0; i < 100 && !this.messages.has(messageId) && this.hasPrev; i++) await this.loadOlder();
    const node = this.messages.get(messageId)?.node;
    if (!node) return false;
    this.list.querySelectorAll(".message.found").forEach((n) => n.classList.remove("found"));
    node.classList.add("found");
    node.scrollIntoView({ block: "center" });
    return true;
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
    const node = el("li", { class: `message ${mine ? "mine" : "theirs"}${message.internal ? " note" : ""}`, testid: "message", "data-id": message.id,
      "data-internal": message.internal ? "true" : undefined },
      el("span", { class: "who" }, el("span", { testid: "sender", text: mine ? "You" : message.sender_name ?? this.name(message.sender_id) }),
        message.internal ? el("span", { class: "note-tag", testid: "note-tag", text: "Internal note" }) : null),
      onlyFileNames(message) ? null : el("p", { class: "text", testid: "message-text", text: message.message }),
      attachmentsOf(message, this.auth),
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
    // A note is for agents: the customer is not told "typing" for a text it will never see.
    if (!this.sessionId || !this.input.value.trim() || this.noteMode) return;
    const now = Date.now();
    if (now - this.lastTypingSent < 3000) return;
    this.lastTypingSent = now;
    api(this.auth, "POST", `/livechat/sessions/${this.sessionId}/typing`, { is_typing: true }).catch(() => {});
  }

  async send() {
    const text = this.input.value;
    const files = this.tray.ids();
    if (!this.sessionId || this.input.disabled || (!text.trim() && this.tray.empty)) return;
    if (this.tray.busy) {
      say(this.error, "Wait until the files are ready (uploaded and checked), then send.", "error");
      return;
    }
    say(this.error, "");
    this.sendButton.disabled = true;
    try {
      // The same client_message_id on a retry returns the first message instead of a copy.
      this.pendingId ??= randomId();
      const body = { client_message_id: this.pendingId };
      // With files the text may be left out: the service then keeps their names as the message.
      if (text.trim() || !files.length) body.message = text;
      if (files.length) body.attachment_ids = files;
      if (this.noteMode) body.internal = true;
      const sent = await api(this.auth, "POST", `/livechat/sessions/${this.sessionId}/messages`, body);
      this.pendingId = null;
      this.tray.clear();
      this.input.value = "";
      this.lastTypingSent = 0;
      this.add(sent.data);
      this.onSent(sent.data);
      if (this.noteMode) this.setNoteMode(false); // one note at a time: the next message goes to the customer again
    } catch (e) {
      say(this.error, `Not sent: ${e.message}`, "error");
    } finally {
      this.canSend();
      this.input.focus();
    }
  }
}

/** A message of files without a text: the service stored their names as its text, which the files already show. */
const onlyFileNames = (message) => Boolean(message.attachments?.length) && message.message === message.attachments.map((a) => a.file_name).join(", ");

/** 32 hex characters from the browser's random source (crypto.randomUUID needs HTTPS or localhost). */
function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The canned-response picker: "/" and a shortcut's start (or a title word's) as the whole draft lists the matches
 * (GET /livechat/canned-responses?q=); Up/Down choose, Enter or a click puts the response's text rendered for the
 * open session (customer and agent names filled in) in the composer; Escape closes it.
 */
class CannedPicker {
  constructor(view) {
    this.view = view;
    this.list = el("ul", { class: "canned", testid: "canned-list", role: "listbox", "aria-label": "Canned responses", hidden: true });
    this.items = [];
    this.chosen = 0;
    this.asked = null;
  }

  get open() { return !this.list.hidden; }

  async update() {
    const match = /^\/([^\s/]*)$/.exec(this.view.input.value);
    if (!match) return this.close();
    const q = match[1];
    this.asked = q;
    try {
      const { data } = await api(this.view.auth, "GET", `/livechat/canned-responses?limit=8&q=${encodeURIComponent(q)}`);
      if (this.asked !== q) return; // a later keystroke asked again
      this.show(data);
    } catch (e) {
      say(this.view.error, `Canned responses could not be loaded: ${e.message}`, "error");
    }
  }

  show(items) {
    this.items = items;
    this.chosen = 0;
    this.list.replaceChildren(...(items.length ? items.map((c, i) => el("li", { class: "canned-item", testid: "canned-item", role: "option",
      "aria-selected": String(i === this.chosen), onmousedown: (e) => { e.preventDefault(); this.choose(i); } },
      el("span", { class: "shortcut", text: `/${c.shortcut}` }), " ", el("span", { class: "canned-title", text: c.title })))
      : [el("li", { class: "empty", testid: "canned-empty", text: "No canned response starts like that." })]));
    this.list.hidden = false;
  }

  close() {
    this.asked = null;
    this.items = [];
    this.list.hidden = true;
  }

  /** Keys while the picker is open; true when the key was for it. */
  keydown(e) {
    if (!this.open) return false;
    if (e.key === "Escape") { this.close(); e.preventDefault(); return true; }
    if (!this.items.length) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      this.chosen = (this.chosen + (e.key === "ArrowDown" ? 1 : this.items.length - 1)) % this.items.length;
      [...this.list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === this.chosen)));
      return true;
    }
    if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.choose(this.chosen);
      return true;
    }
    return false;
  }

  async choose(index) {
    const canned = this.items[index];
    const sessionId = this.view.sessionId;
    this.close();
    if (!canned || !sessionId) return;
    try {
      const { data } = await api(this.view.auth, "GET", `/livechat/canned-responses/${canned.id}?session_id=${sessionId}`);
      if (this.view.sessionId !== sessionId) return;
      this.view.input.value = data.rendered ?? data.body;
      this.view.pendingId = null; // a new text is a new message
      this.view.input.focus();
    } catch (e) {
      say(this.view.error, `The canned response could not be inserted: ${e.message}`, "error");
    }
  }
}
