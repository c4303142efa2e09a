// Attachments in the chat window (contract section 15), for both pages: the tray of files being attached (a button,
// drag and drop onto the conversation, a pasted image), each uploaded at once as a staged upload with a progress bar,
// shown as a chip whose × deletes it; and a message's files in the list (images as previews that open full size,
// other files as a named link with their size). Links are signed and expire after 15 minutes: an old one is
// swapped for a fresh one (GET /livechat/attachments/{id}) before it is used.
import { api, ApiError } from "./api.js";
import { el, say } from "./dom.js";

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const TYPE_NAMES = {
  "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP", "application/pdf": "PDF",
  "text/plain": "text", "text/csv": "CSV",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (docx)",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (xlsx)",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint (pptx)",
};
/** The service takes 10 files at most in one message. */
export const MAX_FILES = 10;

/** 1536 → "1.5 KB": bytes in the units people read (powers of 1024, as file managers show them). */
export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value)} ${units[unit]}`;
}

/**
 * Uploads one file as a staged upload with XMLHttpRequest (fetch reports no upload progress). onProgress(fraction)
 * follows the bytes sent. Returns {done: Promise<Attachment>, abort()}; a refusal rejects with ApiError.
 */
export function upload(auth, sessionId, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", `/livechat/sessions/${encodeURIComponent(sessionId)}/attachments`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", `Bearer ${auth.token}`);
    xhr.setRequestHeader("X-Tenant-ID", auth.tenantId);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let envelope = null;
      try { envelope = JSON.parse(xhr.responseText); } catch { /* no envelope: said below */ }
      if (envelope?.success) resolve(envelope.data);
      else reject(new ApiError(xhr.status, envelope?.message ?? `The service answered ${xhr.status} without a readable body.`, envelope?.errors));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "The service cannot be reached.")));
    xhr.addEventListener("abort", () => reject(new ApiError(-1, "Cancelled.")));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

/** Why a file was not attached, in words for the person who chose it (the service's own message as the last resort). */
export function uploadProblem(error, file) {
  const name = `“${file.name}”`;
  const message = error.message ?? "";
  switch (error.status) {
    case 0:
      return `${name} was not uploaded: the service cannot be reached. Check your connection and try again.`;
    case 413: {
      const limit = /at most (\d+) bytes/.exec(message);
      return `${name} is too large to send (${humanSize(file.size)}). A file may be at most ${limit ? humanSize(Number(limit[1])) : "the size the service allows"}.`;
    }
    case 415:
      return `${name} cannot be sent: this kind of file is not accepted.`;
    case 409:
      return error.errors?.file
        ? `${name} was not uploaded: there is no room left for files in this workspace. Ask an administrator to free some space.`
        : `${name} was not uploaded: this chat is closed.`;
    case 400:
      if (/empty/i.test(message)) return `${name} is empty: there is nothing in it to send.`;
      if (/type of file/i.test(message)) {
        const allowed = /allowed: ([^(]*)/.exec(message)?.[1].split(",").map((t) => TYPE_NAMES[t.trim()]).filter(Boolean);
        return `${name} cannot be sent: this kind of file is not accepted.${allowed?.length ? ` You can send ${listOf(allowed)} files.` : ""}`;
      }
      break;
  }
  return `${name} was not uploaded: ${message}`;
}

const listOf = (items) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

/**
 * The files being attached to the next message, as chips above the composer. Each file is uploaded as soon as it is
 * chosen; × cancels an upload or deletes the staged upload. ids() are the ready ones the message carries.
 */
export class AttachmentTray {
  /** view: the ChatView (auth, sessionId, error line); onChange(): the composer re-checks whether it may send. */
  constructor(view, onChange) {
    this.view = view;
    this.onChange = onChange;
    this.items = []; // {file, node, progress, state: "uploading" | "scanning" | "ready", attachment, abort}
    this.scanned = new Map(); // id -> Attachment: a scan's result heard before the upload's own answer
    // One upload at a time, in the order chosen: the service orders a message's files by upload, so the other side
    // sees them as the chips show them, and the first file is not slowed by the others.
    this.uploads = Promise.resolve();
    this.list = el("ul", { class: "attach-tray", testid: "attach-tray", "aria-label": "Files to send", hidden: true });
    this.input = el("input", { type: "file", multiple: true, hidden: true, testid: "attach-input", tabindex: "-1",
      onchange: () => { this.add([...this.input.files]); this.input.value = ""; } });
    this.button = el("button", { type: "button", class: "attach", testid: "attach", title: "Attach files (or drop them on the chat, or paste a picture)",
      "aria-label": "Attach files", onclick: () => this.input.click() }, el("img", { src: "/shared/paperclip.svg", alt: "", class: "icon" }), el("span", { class: "attach-label", text: "Attach" }));
  }

  /** Files still on their way (uploading or being scanned): the message waits for them. */
  get busy() { return this.items.some((i) => i.state !== "ready"); }

  get empty() { return this.items.length === 0; }

  ids() { return this.items.filter((i) => i.state === "ready").map((i) => i.attachment.id); }

  add(files) {
    const sessionId = this.view.sessionId;
    if (!sessionId || !files.length || this.view.input.disabled) return;
    say(this.view.error, "");
    const room = Math.max(MAX_FILES - this.items.length, 0);
    const left = files.length - room;
    if (left > 0) say(this.view.error, `A message carries at most ${MAX_FILES} files: ${left} ${left === 1 ? "was" : "were"} left out.`, "error");
    for (const file of files.slice(0, room)) this.start(file, sessionId);
  }

  start(file, sessionId) {
    const progress = el("progress", { max: "100", value: "0", testid: "attach-progress", "aria-label": `Uploading ${file.name}` });
    const status = el("span", { class: "attach-status", testid: "attach-status", text: "Waiting…" });
    const item = { file, progress, status, state: "uploading", attachment: null, abort: null };
    item.node = el("li", { class: "attach-chip", testid: "attach-chip", "data-state": "uploading" },
      el("span", { class: "attach-name", testid: "attach-name", text: file.name, title: file.name }),
      el("span", { class: "attach-size", text: humanSize(file.size) }), status, progress,
      el("button", { type: "button", class: "chip-remove", testid: "attach-remove", "aria-label": `Remove ${file.name}`, title: "Remove", text: "×",
        onclick: () => this.remove(item) }));
    this.items.push(item);
    this.render();
    this.uploads = this.uploads.then(() => (this.items.includes(item) ? this.send(item, sessionId) : null));
  }

  /** Uploads one chip's file; resolves when it is answered (either way). */
  send(item, sessionId) {
    const { file, progress } = item;
    item.status.textContent = "Uploading…";
    const sending = upload(this.view.auth, sessionId, file, (fraction) => { progress.value = Math.round(fraction * 100); });
    item.abort = sending.abort;
    return sending.done.then((attachment) => {
      if (!this.items.includes(item)) { // removed while the answer was on its way: the staged upload goes too
        this.deleteStaged(attachment.id);
        return;
      }
      this.apply(item, this.scanned.get(attachment.id) ?? attachment);
      this.scanned.delete(attachment.id);
    }, (error) => {
      if (!this.items.includes(item) || error.status === -1) return;
      this.drop(item);
      say(this.view.error, uploadProblem(error, file), "error");
    });
  }

  /** attachmentUpdated: the scan of one of this user's uploads finished. */
  updated(attachment) {
    const item = this.items.find((i) => i.attachment?.id === attachment.id);
    if (item) this.apply(item, attachment);
    else if (this.items.some((i) => i.state === "uploading")) this.scanned.set(attachment.id, attachment); // its upload's answer is on its way
  }

  apply(item, attachment) {
    item.attachment = attachment;
    if (attachment.status === "rejected") {
      this.drop(item);
      say(this.view.error, `“${attachment.file_name}” was removed: the virus scanner found something harmful in it.`, "error");
      return;
    }
    item.state = attachment.status === "ready" ? "ready" : "scanning";
    item.node.dataset.state = item.state;
    item.progress.hidden = true;
    item.status.textContent = item.state === "ready" ? "" : "Checking for viruses…";
    this.render();
  }

  /** ×: cancels the upload, or deletes the staged upload (DELETE /livechat/attachments/{id}). */
  remove(item) {
    this.drop(item);
    if (item.attachment) this.deleteStaged(item.attachment.id);
    else item.abort?.();
    this.view.input.focus();
  }

  deleteStaged(id) {
    api(this.view.auth, "DELETE", `/livechat/attachments/${id}`).catch(() => {}); // not deleted: the service's 24 h clean-up does it
  }

  drop(item) {
    this.items = this.items.filter((i) => i !== item);
    this.render();
  }

  /** After a send: the message took the files. */
  clear() {
    this.items = [];
    this.render();
  }

  /** Another chat opens: this one's unsent uploads are cancelled or deleted. */
  discard() {
    [...this.items].forEach((item) => this.remove(item));
  }

  render() {
    this.list.replaceChildren(...this.items.map((i) => i.node));
    this.list.hidden = this.items.length === 0;
    this.onChange();
  }
}

/** The files of a message: images as previews (a click shows them full size), other files as a link with the size. */
export function attachmentsOf(message, auth) {
  if (!message.attachments?.length) return null;
  return el("ul", { class: "attachments", testid: "attachments" }, ...message.attachments.map((a) => attachmentItem(a, auth)));
}

function attachmentItem(attachment, auth) {
  const size = humanSize(attachment.size);
  const common = { class: "attachment", testid: "attachment", "data-id": attachment.id, "data-status": attachment.status };
  if (attachment.status !== "ready" || !attachment.url) {
    const why = attachment.status === "rejected" ? "Removed: the virus scanner found something harmful in it." : "Being checked for viruses…";
    return el("li", { ...common, class: `attachment unavailable ${attachment.status}` },
      el("span", { class: "file-icon", "aria-hidden": "true", text: "!" }),
      el("span", { class: "file-text" }, el("span", { class: "file-name", text: attachment.file_name }),
        el("span", { class: "file-size", testid: "attachment-state", text: `${size} · ${why}` })));
  }
  if (IMAGE_TYPES.has(attachment.content_type)) {
    const image = el("img", { src: attachment.url, alt: attachment.file_name, loading: "lazy", testid: "attachment-image" });
    let retried = false;
    // A link older than 15 minutes (a replayed event, a page left open): one fresh link, once.
    image.addEventListener("error", async () => {
      if (retried) return;
      retried = true;
      const fresh = await freshUrl(auth, attachment, true);
      if (fresh) image.src = fresh;
    });
    const link = el("a", { href: attachment.url, target: "_blank", rel: "noopener", class: "image-link", title: `${attachment.file_name} (${size}): show full size`,
      onclick: (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return; // a new tab or window, as the person asked
        e.preventDefault();
        showFullSize(auth, attachment);
      } }, image);
    return el("li", { ...common, class: "attachment image" }, link,
      el("span", { class: "file-caption" }, el("span", { class: "file-name", text: attachment.file_name }), " ", el("span", { class: "file-size", text: size })));
  }
  const link = el("a", { href: attachment.url, target: "_blank", rel: "noopener", class: "file-name", testid: "attachment-link", text: attachment.file_name,
    onclick: (e) => openFresh(e, auth, attachment) });
  return el("li", { ...common, class: "attachment file" },
    el("span", { class: "file-icon", "aria-hidden": "true", text: fileBadge(attachment.content_type) }),
    el("span", { class: "file-text" }, link, el("span", { class: "file-size", testid: "attachment-size", text: `${size} · ${TYPE_NAMES[attachment.content_type] ?? "file"}` })));
}

function fileBadge(type) {
  if (type === "application/pdf") return "PDF";
  if (type.includes("wordprocessingml")) return "DOC";
  if (type.includes("spreadsheetml") || type === "text/csv") return "XLS";
  if (type.includes("presentationml")) return "PPT";
  return "TXT";
}

/** The attachment's link, or a fresh one when it expires within a minute (or `always`); null when it cannot be had. */
async function freshUrl(auth, attachment, always = false) {
  if (!always && stillValid(attachment.url)) return attachment.url;
  try {
    const { data } = await api(auth, "GET", `/livechat/attachments/${attachment.id}`);
    if (data.url) attachment.url = data.url;
    return data.url ?? null;
  } catch {
    return null;
  }
}

/** A file link whose signature expired: a window opened at the click (so no pop-up blocker stops it), sent to a fresh link. */
async function openFresh(event, auth, attachment) {
  if (stillValid(attachment.url)) return; // the browser follows the link
  event.preventDefault();
  const opened = window.open("about:blank", "_blank");
  if (opened) opened.opener = null;
  const fresh = await freshUrl(auth, attachment, true);
  if (fresh && opened) opened.location = fresh;
  else opened?.close();
}

/** A signed link with more than a minute left. */
function stillValid(url) {
  const expires = Number(new URL(url, location.href).searchParams.get("expires"));
  return expires * 1000 - Date.now() > 60_000;
}

/** The full-size image in a dialog over the page: Escape, the close button or a click outside closes it. */
let viewer = null;
async function showFullSize(auth, attachment) {
  viewer ??= makeViewer();
  const url = await freshUrl(auth, attachment);
  viewer.image.src = url ?? attachment.url;
  viewer.image.alt = attachment.file_name;
  viewer.caption.textContent = `${attachment.file_name} · ${humanSize(attachment.size)}`;
  viewer.open.href = url ?? attachment.url;
  if (!viewer.dialog.open) viewer.dialog.showModal();
}

function makeViewer() {
  const image = el("img", { testid: "viewer-image" });
  const caption = el("span", { class: "viewer-caption", testid: "viewer-caption" });
  const open = el("a", { target: "_blank", rel: "noopener", text: "Open in a new tab" });
  const dialog = el("dialog", { class: "viewer", testid: "viewer", "aria-label": "Picture, full size" },
    el("div", { class: "viewer-bar" }, caption, open,
      el("button", { type: "button", testid: "viewer-close", text: "Close", onclick: () => dialog.close() })),
    el("div", { class: "viewer-frame" }, image));
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
  document.body.append(dialog);
  return { dialog, image, caption, open };
}
