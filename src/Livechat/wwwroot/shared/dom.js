// Tiny DOM helpers. Text always goes in as text (textContent), never as HTML.

/** el("p", {class: "x", testid: "y", text: "..."}, child, ...) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A timestamp in the browser's own time zone: the time today, the date and time before. */
export function localTime(iso) {
  const date = new Date(iso);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

/** A <time> element showing local time, with the exact instant as its title. */
export function timeElement(iso) {
  return el("time", { datetime: iso, title: new Date(iso).toLocaleString(), text: localTime(iso) });
}

/** Shows a message in the page's status line (role=status or role=alert). */
export function say(node, text, kind = "info") {
  node.textContent = text ?? "";
  node.dataset.kind = kind;
  node.hidden = !text;
}
