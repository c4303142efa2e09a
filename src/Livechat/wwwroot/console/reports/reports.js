// The reports page (contract section 20, docs/reports.md): a date range and a time zone, the summary as figures,
// the daily series as charts drawn here as SVG (chats per day, first response median and p90, rating average),
// the per-agent table, and the three reports as CSV. For agents and the tenant's SUPPORT_ADMIN.
import { api, ApiError, clearAuth, loadAuth } from "../../shared/api.js";
import { $, el, say } from "../../shared/dom.js";
import { signIn } from "../../shared/signin.js";

const SVG = "http://www.w3.org/2000/svg";
const mayRead = (auth) => auth.isAgent || auth.roles.includes("SUPPORT_ADMIN");
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

let auth;
const errorLine = $("#reports-error");

async function main() {
  auth = loadAuth();
  if (!auth || !mayRead(auth)) {
    auth = await signIn($("#signin-root"), {
      title: "Livechat reports",
      defaultRole: "SUPPORT_AGENT",
      check: async (candidate) => {
        if (!mayRead(candidate)) throw new Error("Reports are for support agents and the tenant's SUPPORT_ADMIN.");
        const today = isoDate(new Date());
        await api(candidate, "GET", `/livechat/reports/summary?from=${today}&to=${today}`);
      },
    });
  }
  $("#reports").hidden = false;
  $("[data-testid=whoami]").textContent = `${auth.isAgent ? "Agent" : "Admin"} ${auth.userId} · tenant ${auth.tenantId}`;
  $("#sign-out").addEventListener("click", () => { clearAuth(); location.reload(); });
  $("#zones").append(...(Intl.supportedValuesOf?.("timeZone") ?? []).map((zone) => el("option", { value: zone })));

  // The range comes from the address (a report can be linked to), else the last 30 days.
  const asked = new URLSearchParams(location.search);
  const [from, to] = asked.has("from") && asked.has("to") ? [asked.get("from"), asked.get("to")] : lastDays(30);
  $("#from").value = from;
  $("#to").value = to;
  $("#tz").value = asked.get("tz") || browserZone;
  $("#range").addEventListener("submit", (e) => { e.preventDefault(); show(); });
  for (const preset of document.querySelectorAll("[data-days]")) {
    preset.addEventListener("click", () => {
      [$("#from").value, $("#to").value] = lastDays(Number(preset.dataset.days));
      show();
    });
  }
  await show();
}

/** The last n days up to today; "yesterday" for n = 1 (a day that is over). */
function lastDays(n) {
  const today = new Date();
  if (n === 1) {
    const yesterday = addDays(today, -1);
    return [isoDate(yesterday), isoDate(yesterday)];
  }
  return [isoDate(addDays(today, -(n - 1))), isoDate(today)];
}

const pad = (n) => String(n).padStart(2, "0");
const isoDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);

async function show() {
  const range = { from: $("#from").value, to: $("#to").value, tz: $("#tz").value.trim() || "UTC" };
  const query = new URLSearchParams(range).toString();
  history.replaceState(null, "", `?${query}`);
  say(errorLine, "");
  try {
    const [summary, daily, agents] = await Promise.all(["summary", "daily", "agents"].map((report) =>
      api(auth, "GET", `/livechat/reports/${report}?${query}`).then((envelope) => envelope.data)));
    $("#range-said").textContent = `${count(summary.sessions_started, "chat")} started from ${longDate(range.from)} to ${longDate(range.to)}, days of ${range.tz}.`;
    renderSummary(summary);
    renderCharts(daily, range.tz);
    renderAgents(agents);
    renderCsvLinks(query);
  } catch (e) {
    say(errorLine, e instanceof ApiError && e.errors ? Object.values(e.errors).flat().join(" ") : e.message, "error");
  }
}

// --- figures ---

const count = (n, noun) => `${n.toLocaleString("en-GB")} ${noun}${n === 1 ? "" : "s"}`;

/** A duration for a person: "45 s", "4 min 10 s", "2 h 5 min"; "–" when nothing was measured. */
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 1) return "< 1 s";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const minutes = Math.round((s % 3600) / 60);
  return minutes ? `${Math.floor(s / 3600)} h ${minutes} min` : `${Math.floor(s / 3600)} h`;
}

const average = (rating) => (rating.average === null ? "–" : rating.average.toFixed(2));

function longDate(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

function shortDate(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short" });
}

function figure(testid, label, value, detail, data = {}) {
  const node = el("div", { class: "figure card", testid },
    el("span", { class: "figure-label", text: label }),
    el("strong", { class: "figure-value", testid: "value", text: value }),
    detail ? el("span", { class: "figure-detail", testid: "detail", text: detail }) : null);
  for (const [key, v] of Object.entries(data)) node.dataset[key] = v ?? "";
  return node;
}

function timing(testid, label, percentiles) {
  return figure(testid, `${label} · median`, duration(percentiles.p50), percentiles.p90 === null ? "nothing measured" : `90 % within ${duration(percentiles.p90)}`,
    { p50: percentiles.p50, p90: percentiles.p90 });
}

function renderSummary(summary) {
  const rating = summary.rating;
  const stars = el("div", { class: "distribution", testid: "distribution" },
    ...[5, 4, 3, 2, 1].map((score) => {
      const n = rating.distribution[String(score)];
      const bar = el("span", { class: "distribution-bar" });
      bar.style.width = `${rating.count ? (100 * n) / rating.count : 0}%`;
      return el("div", { class: "distribution-row", title: `${count(n, "rating")} of ${score}` },
        el("span", { text: `${score}★` }), el("span", { class: "distribution-track" }, bar), el("span", { class: "num", text: String(n) }));
    }));
  const ratingCard = figure("figure-rating", "Rating", rating.average === null ? "–" : `${average(rating)} / 5`,
    rating.count ? `average of ${count(rating.count, "rating")}` : "no ratings", { average: rating.average, count: rating.count });
  ratingCard.append(stars);
  $("#summary").replaceChildren(
    figure("figure-started", "Chats started", summary.sessions_started.toLocaleString("en-GB")),
    figure("figure-closed", "Chats closed", summary.sessions_closed.toLocaleString("en-GB")),
    figure("figure-messages", "Messages", summary.messages.toLocaleString("en-GB"), "in the chats started"),
    timing("figure-first-response", "First response", summary.first_response_seconds),
    timing("figure-resolution", "Resolution", summary.resolution_seconds),
    timing("figure-queue-wait", "Queue wait", summary.queue_wait_seconds),
    ratingCard);
}

function renderAgents(agents) {
  const cell = (text, testid) => el("td", { class: "num", text, testid });
  const pair = (p) => (p.p50 === null ? "–" : `${duration(p.p50)} · ${duration(p.p90)}`);
  $("#agents").replaceChildren(...(agents.length === 0
    ? [el("tr", {}, el("td", { colspan: 8, class: "empty", text: "No agent had a chat in this range." }))]
    : agents.map((row) => el("tr", { testid: "agent-row", "data-agent-id": row.agent_id },
      el("th", { scope: "row", text: row.agent_id === auth.userId ? `Agent ${row.agent_id} (you)` : `Agent ${row.agent_id}` }),
      cell(String(row.sessions_started), "agent-started"),
      cell(String(row.sessions_closed), "agent-closed"),
      cell(String(row.messages), "agent-messages"),
      cell(pair(row.first_response_seconds), "agent-first-response"),
      cell(pair(row.resolution_seconds), "agent-resolution"),
      cell(pair(row.queue_wait_seconds), "agent-queue-wait"),
      cell(row.rating.count ? `${average(row.rating)} (${row.rating.count})` : "–", "agent-rating")))));
}

/** CSV links: the endpoints need the token in a header, so a click fetches the file and hands it to the browser. */
function renderCsvLinks(query) {
  const link = (report, label) => el("a", {
    href: `/livechat/reports/${report}?${query}&format=csv`, download: `report-${report}.csv`, testid: `csv-${report}`, text: label,
    onclick: async (e) => {
      e.preventDefault();
      try {
        const response = await fetch(e.currentTarget.href, { headers: { Authorization: `Bearer ${auth.token}`, "X-Tenant-ID": auth.tenantId } });
        if (!response.ok) throw new Error((await response.json()).message);
        const url = URL.createObjectURL(await response.blob());
        const save = el("a", { href: url, download: `report-${report}.csv` });
        document.body.append(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (err) {
        say(errorLine, `The CSV could not be downloaded: ${err.message}`, "error");
      }
    },
  });
  $("#csv-links").replaceChildren(link("summary", "Summary"), " · ", link("daily", "Day by day"), " · ", link("agents", "Per agent"));
}

// --- charts ---

let drawn = null; // the daily rows and zone last drawn, to draw again at another width

// Each chart is drawn at its box's width in pixels, so its text is the page's size on a phone as on a wide
// screen; a resize draws them again.
window.addEventListener("resize", () => {
  clearTimeout(drawn?.timer);
  if (drawn) drawn.timer = setTimeout(() => renderCharts(drawn.days, drawn.tz), 150);
});

function renderCharts(days, tz) {
  drawn = { days, tz };
  const dates = days.map((d) => d.date);
  const firstResponses = days.flatMap((d) => [d.first_response_seconds.p50, d.first_response_seconds.p90]).filter((v) => v !== null);
  const unit = durationUnit(Math.max(0, ...firstResponses));
  const inUnit = (v) => (v === null ? null : v / unit.seconds);
  const charts = [
    {
      testid: "chart-chats", title: "Chats started per day", wide: true, dates, tz, yLabel: "chats",
      series: [{ name: "chats started", kind: "bar", color: "#0b5cad", values: days.map((d) => d.sessions_started), tip: (v) => count(v, "chat") }],
    },
    {
      testid: "chart-first-response", title: "First response time", dates, tz, yLabel: unit.name,
      series: [
        { name: "median (p50)", kind: "line", color: "#0b5cad", values: days.map((d) => inUnit(d.first_response_seconds.p50)), tip: (v) => `median ${duration(v * unit.seconds)}` },
        { name: "90 % within (p90)", kind: "line", color: "#c2410c", dashed: true, values: days.map((d) => inUnit(d.first_response_seconds.p90)), tip: (v) => `p90 ${duration(v * unit.seconds)}` },
      ],
    },
    {
      testid: "chart-rating", title: "Average rating per day", dates, tz, yLabel: "stars", yMin: 1, yMax: 5, yStep: 1,
      series: [{ name: "average rating (1–5)", kind: "line", color: "#1e6b34", values: days.map((d) => d.rating.average),
        tip: (v, i) => `${v.toFixed(2)} from ${count(days[i].rating.count, "rating")}` }],
    },
  ];
  const boxes = charts.map((c) => el("figure", { class: c.wide ? "chart card wide" : "chart card", testid: c.testid },
    el("figcaption", { class: "chart-title", text: c.title })));
  $("#charts").replaceChildren(...boxes);
  boxes.forEach((box, i) => {
    const style = getComputedStyle(box);
    box.append(chart({ ...charts[i], width: Math.max(box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight), 280) }));
  });
}

/** Seconds up to 2 minutes, minutes up to 2 hours, then hours: the axis reads in whole numbers a person knows. */
function durationUnit(max) {
  if (max >= 7200) return { name: "hours", seconds: 3600 };
  if (max >= 120) return { name: "minutes", seconds: 60 };
  return { name: "seconds", seconds: 1 };
}

/** A round step that gives at most about five gridlines up to max. */
function niceStep(max) {
  if (max <= 0) return 1;
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw);
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined && value !== null) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

const tipOf = (text) => svg("title", {}, text);

/**
 * One chart of a daily series: the days along the x axis (a label every few days), the values on a y axis with
 * round gridlines and its unit, a legend; bars or lines (a line breaks where a day has no value; each value is a
 * dot, with its day and figure as a tooltip).
 */
function chart({ title, dates, tz, yLabel, series, width, yMin = 0, yMax, yStep }) {
  const height = 250;
  const left = 58, right = 14, top = 34, bottom = 46;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const values = series.flatMap((s) => s.values).filter((v) => v !== null);
  const step = yStep ?? niceStep(Math.max(...values, 0));
  const max = yMax ?? Math.max(step, Math.ceil(Math.max(...values, 0) / step) * step);
  const y = (v) => top + plotHeight - ((v - yMin) / (max - yMin)) * plotHeight;
  const band = plotWidth / Math.max(dates.length, 1);
  const x = (i) => left + band * (i + 0.5);

  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "img", "aria-label": `${title}, per day of ${tz}` });
  // Gridlines and the y axis's numbers.
  for (let v = yMin; v <= max + 1e-9; v += step) {
    root.append(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: v === yMin ? "axis" : "grid" }));
    root.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, Number(v.toFixed(2)).toLocaleString("en-GB")));
  }
  root.append(svg("text", { x: 14, y: top + plotHeight / 2, transform: `rotate(-90 14 ${top + plotHeight / 2})`, "text-anchor": "middle", class: "axis-title" }, yLabel));
  // The days: at most about ten labels, always the first.
  const every = Math.ceil(dates.length / Math.max(Math.floor(plotWidth / 60), 1));
  dates.forEach((date, i) => {
    if (i % every !== 0) return;
    root.append(svg("line", { x1: x(i), x2: x(i), y1: top + plotHeight, y2: top + plotHeight + 4, class: "axis" }));
    root.append(svg("text", { x: x(i), y: top + plotHeight + 17, "text-anchor": "middle", class: "tick" }, shortDate(date)));
  });
  root.append(svg("text", { x: left + plotWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis-title" }, `day (${tz})`));

  for (const s of series) {
    const group = svg("g", { "data-series": s.name, "data-testid": "series" });
    if (s.kind === "bar") {
      s.values.forEach((v, i) => {
        group.append(svg("rect", {
          x: x(i) - band * 0.35, width: Math.max(band * 0.7, 1), y: y(v), height: Math.max(y(yMin) - y(v), 0), fill: s.color,
          "data-testid": "bar", "data-date": dates[i], "data-value": v,
        }, tipOf(`${longDate(dates[i])}: ${s.tip(v, i)}`)));
      });
    } else {
      let path = "";
      s.values.forEach((v, i) => {
        if (v === null) return;
        path += `${i > 0 && s.values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      });
      group.append(svg("path", { d: path, fill: "none", stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dashed ? "7 4" : null, "stroke-linejoin": "round" }));
      s.values.forEach((v, i) => {
        if (v === null) return;
        group.append(svg("circle", { cx: x(i), cy: y(v), r: dates.length > 90 ? 1.5 : 3.5, fill: s.color, "data-testid": "point", "data-date": dates[i], "data-value": v },
          tipOf(`${longDate(dates[i])}: ${s.tip(v, i)}`)));
      });
    }
    root.append(group);
  }
  if (values.length === 0) root.append(svg("text", { x: left + plotWidth / 2, y: top + plotHeight / 2, "text-anchor": "middle", class: "empty-chart" }, "Nothing in this range"));

  // The legend, above the plot.
  let legendX = left;
  for (const s of series) {
    root.append(s.kind === "bar"
      ? svg("rect", { x: legendX, y: 10, width: 14, height: 12, fill: s.color })
      : svg("line", { x1: legendX, x2: legendX + 18, y1: 16, y2: 16, stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dashed ? "7 4" : null }));
    root.append(svg("text", { x: legendX + 24, y: 20, class: "legend", "data-testid": "legend" }, s.name));
    legendX += 40 + s.name.length * 7.5;
  }
  return root;
}

main();
