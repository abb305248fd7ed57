// The dashboard page: every project's units, live. State comes from the
// API (`/v1/projects`, `/v1/units`) once, then from the daemon's event
// stream (`/events`, server-sent events). Events are queued and applied
// once per animation frame, touching only the rows they changed; once a
// burst is over (REFRESH_QUIET_MS without events), each affected project's
// list is read again once (pending changes, ports, exact times) — a
// thousand units starting cost a few reads, not a thousand. Nothing
// polls: an idle page makes no request.
//
// CPU and memory: the page tells the daemon which running units it shows
// (rows in view, the open detail; none while the page is hidden) and the
// daemon sends their figures as `usage` events every 2 s while it does.
// Nothing shown, nothing sampled.

import { apiErrorLines, dependencyLines, jobFailureLines, loadSummary, readyCell, restartsCell, resultCell, runLine, sampled, shortDuration, stateCell, summary, summaryParts, triggerMode, uptimeMs, usageCells, usageText } from "./view.js";
import { drawGraph } from "./graph.js";
import { LogView } from "./logs.js";
import { UsageWatch } from "./usage.js";

const TOKEN = document.querySelector('meta[name="devctl-token"]').content;
const $ = (sel) => document.querySelector(sel);

class ApiError extends Error {
  /** `printed`: the text `devctl` prints for this failure, when the daemon says it. */
  constructor(body, printed) {
    super(body.message);
    this.body = body;
    this.printed = printed;
  }
}

const api = {
  async call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { "X-Devctl-Token": TOKEN, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    const text = await res.text();
    let v = text;
    try { v = JSON.parse(text); } catch { /* plain text */ }
    if (!res.ok) throw new ApiError(v && v.error ? v.error : { message: String(text).trim() || `HTTP ${res.status}` }, v && typeof v.printed === "string" ? v.printed : null);
    return res.status === 204 ? null : v;
  },
  get(path) { return this.call("GET", path); },
  post(path, body) { return this.call("POST", path, body); },
  async raw(path, signal) {
    const res = await fetch(path, { headers: { "X-Devctl-Token": TOKEN }, credentials: "same-origin", signal });
    if (!res.ok) {
      const v = await res.json().catch(() => ({ error: { message: `HTTP ${res.status}` } }));
      throw new ApiError(v.error);
    }
    return res;
  },
};

const key = (project, name) => `${project}/${name}`;
/** How long the events must pause before affected projects are read again. */
const REFRESH_QUIET_MS = 250;
/** What a row shows of a unit, to skip rows a re-read did not change. */
const shown = (u) => JSON.stringify([u.active, u.sub, u.result, u.ready, u.restarts, u.restart_limit, u.next_restart_ms, u.since_ms, u.main_pid, u.ports, u.links, u.enabled, u.trigger, u.pending_changes]);

const state = {
  units: new Map(), // "project/name" → UnitStatus
  rows: new Map(), // "project/name" → <tr>
  projects: [],
  selected: null,
  picked: new Set(),
  dirtyRows: new Set(),
  dirtyAll: false,
  queue: [],
  frame: 0,
  refresh: new Map(), // project → {inFlight, again}
  refreshDue: new Set(),
  refreshTimer: 0,
  graphProject: null,
  unitFiles: new Map(),
};

const usage = new UsageWatch(api, (k) => state.units.get(k), () => (state.selected ? [state.selected] : []));

// ---------------------------------------------------------------- table

const COLUMNS = ["pick", "project", "unit", "kind", "state", "ready", "result", "restarts", "uptime", "pid", "cpu", "mem", "ports", "enabled", "trigger", "actions"];

function setUsageCells(tr, u) {
  const c = usageCells(u, usage.figures.get(tr.dataset.key));
  for (const [col, cell] of [["cpu", c.cpu], ["mem", c.mem]]) {
    const td = cellEl(tr, col);
    setCell(td, cell.text, cell.tone);
    if (td.title !== cell.title) td.title = cell.title;
  }
}

function cellEl(tr, col) {
  return tr.children[COLUMNS.indexOf(col)];
}

function setCell(td, text, tone) {
  if (td.textContent !== text) td.textContent = text;
  const cls = `c-${td.dataset.col}${tone ? ` tone-${tone}` : ""}`;
  if (td.className !== cls) td.className = cls;
}

function button(label, title, onClick, extra = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  for (const [k, v] of Object.entries(extra)) b.setAttribute(k, v);
  b.addEventListener("click", (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}

function makeRow(u) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.key = key(u.project, u.name);
  tr.dataset.unit = u.name;
  tr.dataset.project = u.project;
  for (const col of COLUMNS) {
    const td = document.createElement("td");
    td.dataset.col = col;
    td.className = `c-${col}`;
    tr.appendChild(td);
  }
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.setAttribute("aria-label", `check ${u.name}`);
  pick.addEventListener("click", (e) => e.stopPropagation());
  pick.addEventListener("change", () => {
    const k = tr.dataset.key;
    if (pick.checked) state.picked.add(k); else state.picked.delete(k);
  });
  cellEl(tr, "pick").appendChild(pick);
  const en = document.createElement("button");
  en.type = "button";
  en.className = "toggle";
  en.setAttribute("role", "switch");
  en.addEventListener("click", (e) => {
    e.stopPropagation();
    toggleEnabled(state.units.get(tr.dataset.key), false);
  });
  cellEl(tr, "enabled").appendChild(en);
  const acts = cellEl(tr, "actions");
  const k = tr.dataset.key;
  acts.append(
    button("start", "start (s)", () => unitJob("start", state.units.get(k)), { "data-act": "start" }),
    button("stop", "stop (x)", () => unitJob("stop", state.units.get(k)), { "data-act": "stop" }),
    button("restart", "restart (r)", () => unitJob("restart", state.units.get(k)), { "data-act": "restart" }),
    button("trigger", "trigger (t)", () => unitJob("trigger", state.units.get(k)), { "data-act": "trigger" }),
  );
  tr.addEventListener("click", () => select(tr.dataset.key));
  usage.observe(tr);
  return tr;
}

function fillRow(tr, u, now) {
  setCell(cellEl(tr, "project"), u.project);
  setCell(cellEl(tr, "unit"), u.name);
  setCell(cellEl(tr, "kind"), u.kind);
  const st = stateCell(u.active, u.sub);
  setCell(cellEl(tr, "state"), st.text, st.tone);
  const rd = readyCell(u.ready);
  setCell(cellEl(tr, "ready"), rd.text, rd.tone);
  const rs = resultCell(u.result);
  setCell(cellEl(tr, "result"), rs.text, rs.tone);
  const rt = restartsCell(u, now);
  setCell(cellEl(tr, "restarts"), rt.text, rt.tone);
  const up = uptimeMs(u, now);
  setCell(cellEl(tr, "uptime"), up == null ? "-" : shortDuration(up), up == null ? "dim" : "");
  setCell(cellEl(tr, "pid"), u.main_pid == null ? "-" : String(u.main_pid), u.main_pid == null ? "dim" : "");
  if (!sampled(u)) usage.figures.delete(tr.dataset.key);
  setUsageCells(tr, u);
  const ports = cellEl(tr, "ports");
  const portsText = [...u.ports.map(String), ...u.links].join(" ");
  if (ports.dataset.v !== portsText) {
    ports.dataset.v = portsText;
    ports.replaceChildren();
    for (const p of u.ports) {
      const a = document.createElement("span");
      a.textContent = String(p);
      ports.append(a, " ");
    }
    for (const l of u.links) {
      const a = document.createElement("a");
      a.href = l;
      a.textContent = l;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      ports.append(a, " ");
    }
    if (!portsText) ports.textContent = "-";
  }
  const en = cellEl(tr, "enabled").firstElementChild;
  const enabled = u.enabled === "enabled";
  en.textContent = u.enabled;
  en.setAttribute("aria-checked", String(enabled));
  en.disabled = u.enabled === "static";
  en.title = enabled ? "disable (e)" : "enable (e)";
  en.className = `toggle ${u.enabled}`;
  const trig = u.pending_changes > 0 ? `manual · ${u.pending_changes} pending` : u.trigger || "-";
  setCell(cellEl(tr, "trigger"), trig, u.pending_changes > 0 ? "busy" : u.trigger ? "" : "dim");
  tr.dataset.active = u.active;
  tr.classList.toggle("selected", state.selected === tr.dataset.key);
}

function visible(u) {
  const p = $("#project-filter").value;
  const f = $("#unit-filter").value.trim().toLowerCase();
  return (!p || u.project === p) && (!f || u.name.toLowerCase().includes(f));
}

function renderAll() {
  const now = Date.now();
  const tbody = $("#unit-rows");
  const sorted = [...state.units.values()].sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name));
  const frag = document.createDocumentFragment();
  const keep = new Set();
  for (const u of sorted) {
    const k = key(u.project, u.name);
    keep.add(k);
    let tr = state.rows.get(k);
    if (!tr) {
      tr = makeRow(u);
      state.rows.set(k, tr);
    }
    fillRow(tr, u, now);
    tr.hidden = !visible(u);
    frag.appendChild(tr);
  }
  for (const [k, tr] of state.rows) {
    if (keep.has(k)) continue;
    usage.forget(tr);
    tr.remove();
    state.rows.delete(k);
  }
  tbody.replaceChildren(frag);
  $("#no-units").hidden = state.units.size > 0;
  renderSummary();
  renderProjectFilter();
}

function renderSummary() {
  const byProject = new Map();
  for (const p of state.projects) byProject.set(p.name, []);
  for (const u of state.units.values()) {
    if (!byProject.has(u.project)) byProject.set(u.project, []);
    byProject.get(u.project).push(u);
  }
  const root = $("#summary");
  const cards = [];
  for (const [name, units] of [...byProject].sort((a, b) => a[0].localeCompare(b[0]))) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.project = name;
    const h = document.createElement("h2");
    h.textContent = name;
    const s = summary(units);
    const line = document.createElement("p");
    line.className = "counts";
    line.append(`${s.total} units: `);
    summaryParts(s).forEach((part, i) => {
      if (i) line.append(", ");
      const span = document.createElement("span");
      span.className = `tone-${part.tone}`;
      span.textContent = part.text;
      line.append(span);
    });
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", `${s.active} of ${s.total} active`);
    for (const [n, cls] of [[s.active, "good"], [s.activating + s.deactivating, "busy"], [s.failed, "bad"]]) {
      if (!n) continue;
      const seg = document.createElement("span");
      seg.className = `tone-${cls}`;
      seg.style.flexGrow = String(n);
      bar.appendChild(seg);
    }
    const rest = document.createElement("span");
    rest.style.flexGrow = String(s.inactive);
    bar.appendChild(rest);
    const acts = document.createElement("div");
    acts.className = "actions";
    acts.append(
      button("up", `devctl up: every enabled unit of ${name}`, () => projectJob("up", name)),
      button("down", `devctl down: stop every unit of ${name}`, () => projectJob("down", name)),
      button("reload", `devctl reload: read ${name}'s devctl.kdl again (R)`, () => reloadProject(name), { "data-act": "reload" }),
      button("graph", `dependency graph of ${name}`, () => showGraph(name)),
    );
    card.append(h, line, bar, acts);
    cards.push(card);
  }
  root.replaceChildren(...cards);
}

function renderProjectFilter() {
  const sel = $("#project-filter");
  const names = [...new Set([...state.projects.map((p) => p.name), ...[...state.units.values()].map((u) => u.project)])].sort();
  const have = [...sel.options].slice(1).map((o) => o.value);
  if (have.join("\n") === names.join("\n")) return;
  const cur = sel.value;
  sel.replaceChildren(new Option("all", ""), ...names.map((n) => new Option(n, n)));
  sel.value = names.includes(cur) ? cur : "";
}

// ------------------------------------------------------- live updates

function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(flush);
}

function flush() {
  state.frame = 0;
  const events = state.queue;
  state.queue = [];
  const touched = new Set();
  for (const e of events) applyEvent(e, touched);
  if (state.dirtyAll) {
    state.dirtyAll = false;
    state.dirtyRows.clear();
    renderAll();
  } else if (state.dirtyRows.size) {
    const now = Date.now();
    for (const k of state.dirtyRows) {
      const u = state.units.get(k);
      const tr = state.rows.get(k);
      if (u && tr) fillRow(tr, u, now);
    }
    state.dirtyRows.clear();
    renderSummary();
  }
  if (touched.size) {
    for (const p of touched) state.refreshDue.add(p);
    // A trailing debounce: the re-read happens once a burst of events is over.
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => {
      const due = [...state.refreshDue];
      state.refreshDue.clear();
      for (const p of due) refreshProject(p);
    }, REFRESH_QUIET_MS);
  }
  if (state.selected && events.some((e) => e.project && key(e.project, e.unit || "") === state.selected)) loadDetail(state.selected);
  if (state.graphProject && touched.has(state.graphProject)) renderGraph();
  tickUptimes();
  usage.soon();
}

function applyEvent(e, touched) {
  if (!e.project) return;
  touched.add(e.project);
  if (e.type === "project-loaded" || e.type === "project-forgotten") {
    state.dirtyAll = true;
    return;
  }
  const k = key(e.project, e.unit);
  const u = state.units.get(k);
  if (!u) return;
  switch (e.type) {
    case "state-changed":
      if (u.active !== e.active) u.since_ms = e.time_ms;
      Object.assign(u, { active: e.active, sub: e.sub, result: e.result, message: e.message });
      if (e.sub === "ready") u.ready = true;
      if (e.sub === "not-ready") u.ready = false;
      if (e.active === "inactive" || e.active === "failed") u.main_pid = null;
      break;
    case "spawned": u.main_pid = e.pid; break;
    case "exited": u.last_exit = { code: e.code, signal: e.signal, at_ms: e.time_ms }; break;
    case "restart-scheduled": u.restarts = e.attempt; u.next_restart_ms = e.time_ms + e.delay_ms; break;
    case "triggered": u.trigger = e.reason; break;
    case "enablement-changed": u.enabled = e.enabled; break;
    default: break;
  }
  state.dirtyRows.add(k);
}

/** Read a project's units again after a burst of events: one request in flight, at most one more queued. */
async function refreshProject(project) {
  const r = state.refresh.get(project) || { inFlight: false, again: false };
  state.refresh.set(project, r);
  if (r.inFlight) {
    r.again = true;
    return;
  }
  r.inFlight = true;
  try {
    const units = await api.get(`/v1/units?project=${encodeURIComponent(project)}`);
    const seen = new Set();
    for (const u of units) {
      const k = key(u.project, u.name);
      seen.add(k);
      const old = state.units.get(k);
      if (!old) state.dirtyAll = true;
      state.units.set(k, u);
      if (!old || shown(old) !== shown(u)) state.dirtyRows.add(k);
    }
    for (const k of [...state.units.keys()]) {
      if (k.startsWith(`${project}/`) && !seen.has(k)) {
        state.units.delete(k);
        state.dirtyAll = true;
      }
    }
    schedule();
  } catch {
    /* the event stream's reconnect re-reads everything */
  } finally {
    r.inFlight = false;
    if (r.again) {
      r.again = false;
      refreshProject(project);
    }
  }
}

let uptimeTimer = 0;
/** Uptimes change once a second; redraw only those cells, only while a unit is up. */
function tickUptimes() {
  clearTimeout(uptimeTimer);
  const now = Date.now();
  let any = false;
  for (const [k, u] of state.units) {
    const up = uptimeMs(u, now);
    if (up == null && !(u.next_restart_ms > now)) continue;
    any = true;
    const tr = state.rows.get(k);
    if (tr && !tr.hidden) {
      setCell(cellEl(tr, "uptime"), up == null ? "-" : shortDuration(up), up == null ? "dim" : "");
      const rt = restartsCell(u, now);
      setCell(cellEl(tr, "restarts"), rt.text, rt.tone);
    }
  }
  if (any && !document.hidden) uptimeTimer = setTimeout(tickUptimes, 1000 - (now % 1000) + 5);
}
document.addEventListener("visibilitychange", tickUptimes);

async function loadAll() {
  const [projects, units] = await Promise.all([api.get("/v1/projects"), api.get("/v1/units")]);
  state.projects = projects;
  state.units = new Map(units.map((u) => [key(u.project, u.name), u]));
  renderAll();
  tickUptimes();
  if (state.selected) loadDetail(state.selected);
  if (state.graphProject) renderGraph();
}

function connect() {
  const live = $("#live");
  const es = new EventSource("/events");
  es.onopen = () => {
    live.textContent = "live";
    live.className = "live on";
    loadAll().catch((e) => {
      live.textContent = `cannot read units: ${e.message}`;
      live.className = "live off";
    });
  };
  es.onmessage = (m) => {
    state.queue.push(JSON.parse(m.data));
    schedule();
  };
  es.addEventListener("hello", (m) => {
    // A new stream watches nothing yet: say again what the page shows.
    usage.hello(JSON.parse(m.data).stream);
  });
  es.addEventListener("usage", (m) => applyUsage(JSON.parse(m.data)));
  es.addEventListener("lagged", (m) => {
    // The page fell behind the daemon's events: read everything again.
    const missed = JSON.parse(m.data).missed;
    live.textContent = `missed ${missed} events; re-reading`;
    es.close();
    usage.hello(null);
    connect();
  });
  es.onerror = () => {
    live.textContent = "disconnected; reconnecting…";
    live.className = "live off";
  };
}

// ---------------------------------------------------------- usage

function applyUsage(frame) {
  for (const x of frame.units) {
    const k = key(x.project, x.unit);
    const u = state.units.get(k);
    if (!u || !sampled(u)) continue;
    usage.figures.set(k, x.usage);
    const tr = state.rows.get(k);
    if (tr) setUsageCells(tr, u);
    if (k === state.selected) {
      const dd = document.querySelector("#detail-status dd[data-usage]");
      if (dd) dd.textContent = usageText(x.usage);
    }
  }
}

// --------------------------------------------------------------- jobs

function jobToast(title) {
  const div = document.createElement("div");
  div.className = "job busy";
  div.setAttribute("role", "status");
  const h = document.createElement("strong");
  h.textContent = title;
  const body = document.createElement("pre");
  body.textContent = "running…";
  const close = button("×", "dismiss", () => div.remove());
  div.append(close, h, body);
  $("#jobs").prepend(div);
  return {
    /** Failure lines (none: it succeeded, and `ok` says what it did). */
    done(lines, ok = ["done"]) {
      div.classList.remove("busy");
      if (lines.length) {
        div.classList.add("failed");
        div.setAttribute("role", "alert");
        body.textContent = lines.join("\n");
      } else {
        div.classList.add("ok");
        body.textContent = ok.join("\n");
        setTimeout(() => div.remove(), 4000);
      }
    },
    /** A failure `devctl` prints as a report: kept as it is, scrolled sideways if wide. */
    report(text) {
      div.classList.remove("busy");
      div.classList.add("failed", "wide");
      div.setAttribute("role", "alert");
      body.className = "report";
      body.textContent = text;
    },
  };
}

async function runJob(title, project, path, body, linesOf) {
  const t = jobToast(title);
  try {
    const r = await api.post(`/v1/projects/${encodeURIComponent(project)}/${path}`, body);
    t.done(linesOf(r));
  } catch (e) {
    t.done(e instanceof ApiError ? apiErrorLines(e.body) : [`error: ${e.message}`]);
  }
}

function unitJob(verb, u) {
  if (!u) return;
  runJob(`${verb} ${u.project}/${u.name}`, u.project, "jobs", { verb, units: [u.name], block: true, source: "dashboard" }, (r) => jobFailureLines(u.project, r));
}

function projectJob(verb, project) {
  runJob(`${verb} ${project}`, project, "jobs", { verb, units: [], block: true, failed_only: true, source: "dashboard" }, (r) => jobFailureLines(project, r));
}

/** `devctl reload` of a project: its devctl.kdl compiled and loaded again by the daemon. */
async function reloadProject(project) {
  const t = jobToast(`reload ${project}`);
  try {
    const r = await api.post(`/v1/projects/${encodeURIComponent(project)}/reload`);
    t.done([], loadSummary(r.project, r.load));
  } catch (e) {
    if (e instanceof ApiError && e.printed) t.report(e.printed);
    else t.done(e instanceof ApiError ? apiErrorLines(e.body) : [`error: ${e.message}`]);
  }
}

function toggleEnabled(u, now) {
  if (!u || u.enabled === "static") return;
  const enable = u.enabled !== "enabled";
  const verb = `${enable ? "enable" : "disable"}${now ? " --now" : ""}`;
  runJob(`${verb} ${u.project}/${u.name}`, u.project, "enablement", { units: [u.name], enable, now, boot: false, block: true }, (r) => (r.job ? jobFailureLines(u.project, r.job) : []));
}

// ------------------------------------------------------------- detail

function select(k) {
  state.selected = k;
  usage.soon();
  for (const tr of document.querySelectorAll("#unit-rows tr.selected")) tr.classList.remove("selected");
  const tr = state.rows.get(k);
  if (tr) tr.classList.add("selected");
  $("#detail").hidden = false;
  loadDetail(k);
}

let detailSeq = 0;
async function loadDetail(k) {
  const [project, name] = k.split("/");
  const seq = ++detailSeq;
  const path = `/v1/projects/${encodeURIComponent(project)}/units/${encodeURIComponent(name)}`;
  let u;
  let file = state.unitFiles.get(k);
  try {
    [u, file] = await Promise.all([api.get(path), file == null ? api.get(`${path}/file`) : file]);
  } catch (e) {
    if (seq === detailSeq) $("#detail-status").textContent = e.message;
    return;
  }
  if (seq !== detailSeq) return;
  state.unitFiles.set(k, file);
  $("#detail-title").textContent = `${project}/${name}`;
  const rows = [];
  const st = stateCell(u.active, u.sub);
  const add = (dt, dd, tone) => rows.push([dt, dd, tone]);
  if (u.description) add("Description", u.description);
  add("Kind", u.kind);
  add("Loaded", `${u.load} (${u.enabled}; default ${u.enabled_default ? "enabled" : "disabled"})`);
  add("Active", st.text + (u.since_ms ? ` since ${new Date(u.since_ms).toLocaleString()}` : ""), st.tone);
  if (u.result) add("Result", u.result, resultCell(u.result).tone);
  if (u.message) add("Message", u.message, u.active === "failed" ? "bad" : "");
  if (u.main_pid != null) add("Main PID", String(u.main_pid));
  add("Ready", readyCell(u.ready).text);
  add("Restarts", restartsCell(u, Date.now()).text);
  if (u.last_exit) {
    const e = u.last_exit;
    add("Last exit", `${e.code != null ? `code ${e.code}` : `signal ${e.signal}`} at ${new Date(e.at_ms).toLocaleString()}`, e.code === 0 ? "" : "bad");
  }
  if (u.origin) add("Origin", u.origin);
  if (u.trigger) add("Triggered by", u.trigger);
  const mode = triggerMode(file);
  add("Trigger mode", mode ? `${mode}${u.pending_changes ? ` (${u.pending_changes} changes pending)` : ""}` : "- (nothing watched)");
  if (u.notify_status) add("Status", u.notify_status);
  if (u.ports.length) add("Ports", u.ports.join(", "));
  if (u.links.length) add("Links", u.links.join(" "));
  // Sampled by the daemon for this answer: opening the detail again
  // samples again (nothing polls).
  if (u.usage) add("CPU / memory", usageText(u.usage), "usage");
  if (u.run) add("Run", u.run + (u.usual_ms ? ` (usually ${shortDuration(u.usual_ms)})` : ""));
  if (u.recent_runs?.length) add("Last runs", u.recent_runs.map((r) => runLine(r, Date.now())).join("\n"), "lines");
  const dl = $("#detail-status");
  dl.replaceChildren();
  for (const [dt, dd, tone] of rows) {
    const a = document.createElement("dt");
    a.textContent = dt;
    const b = document.createElement("dd");
    b.textContent = dd;
    if (tone === "usage") b.dataset.usage = "1";
    else if (tone) b.className = tone === "lines" ? "lines" : `tone-${tone}`;
    dl.append(a, b);
  }
  const all = [...state.units.values()];
  $("#detail-deps").textContent = dependencyLines(u, all).join("\n");
  $("#detail-file").textContent = file;
  const acts = $("#detail-actions");
  const enable = u.enabled !== "enabled";
  acts.replaceChildren(
    ...["start", "stop", "restart", "trigger"].map((v) => button(v, v, () => unitJob(v, u), { "data-act": v })),
    ...(u.enabled === "static" ? [] : [
      button(enable ? "enable" : "disable", `${enable ? "enable" : "disable"} (persisted)`, () => toggleEnabled(u, false), { "data-act": "toggle" }),
      button(enable ? "enable --now" : "disable --now", `${enable ? "enable and start" : "disable and stop"} now`, () => toggleEnabled(u, true), { "data-act": "toggle-now" }),
    ]),
    button("logs", "show the logs (l)", () => showLogs([u]), { "data-act": "logs" }),
    button("graph", "dependency graph (g)", () => showGraph(u.project), { "data-act": "graph" }),
  );
}

function closeDetail() {
  state.selected = null;
  usage.soon();
  detailSeq += 1;
  $("#detail").hidden = true;
  for (const tr of document.querySelectorAll("#unit-rows tr.selected")) tr.classList.remove("selected");
}

// --------------------------------------------------- logs and graph

const logs = new LogView(document, api);

function showTab(which) {
  $("#tab-logs").setAttribute("aria-selected", String(which === "logs"));
  $("#tab-graph").setAttribute("aria-selected", String(which === "graph"));
  $("#logs-panel").hidden = which !== "logs";
  $("#graph-panel").hidden = which !== "graph";
}

function showLogs(units) {
  if (!units.length) return;
  const project = units[0].project;
  const same = units.filter((u) => u.project === project);
  showTab("logs");
  logs.open(project, same.map((u) => u.name));
}

function showGraph(project) {
  state.graphProject = project;
  showTab("graph");
  renderGraph();
}

function renderGraph() {
  const project = state.graphProject;
  const units = [...state.units.values()].filter((u) => u.project === project);
  $("#graph-title").textContent = `${project}: ${units.length} units (arrows point from a dependency to its dependent; dashed: wants)`;
  const selectedName = state.selected && state.selected.startsWith(`${project}/`) ? state.selected.slice(project.length + 1) : null;
  drawGraph($("#graph"), units, selectedName, (name) => select(key(project, name)));
}

// ----------------------------------------------------------- keyboard

function focusedUnit() {
  const tr = document.activeElement && document.activeElement.closest && document.activeElement.closest("#unit-rows tr");
  const k = tr ? tr.dataset.key : state.selected;
  return k ? state.units.get(k) : null;
}

function moveFocus(delta) {
  const rows = [...document.querySelectorAll("#unit-rows tr:not([hidden])")];
  if (!rows.length) return;
  const cur = rows.indexOf(document.activeElement.closest ? document.activeElement.closest("tr") : null);
  const next = rows[Math.max(0, Math.min(rows.length - 1, cur < 0 ? 0 : cur + delta))];
  next.focus();
}

document.addEventListener("keydown", (e) => {
  const typing = e.target.matches && e.target.matches("input[type=search], input[type=text], select");
  if (e.key === "Escape") {
    if (typing) e.target.blur(); else closeDetail();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  const u = focusedUnit();
  const inRow = document.activeElement && document.activeElement.closest && document.activeElement.closest("#unit-rows tr");
  switch (e.key) {
    case "ArrowDown": case "j": moveFocus(1); break;
    case "ArrowUp": case "k": moveFocus(-1); break;
    case "Enter": if (inRow) select(inRow.dataset.key); else return; break;
    case " ": if (inRow) { const c = inRow.querySelector("input[type=checkbox]"); c.click(); } else return; break;
    case "s": unitJob("start", u); break;
    case "x": unitJob("stop", u); break;
    case "r": unitJob("restart", u); break;
    case "t": unitJob("trigger", u); break;
    case "e": toggleEnabled(u, false); break;
    case "l": {
      const picked = [...state.picked].map((k) => state.units.get(k)).filter(Boolean);
      showLogs(picked.length ? picked : u ? [u] : []);
      break;
    }
    case "g": if (u) showGraph(u.project); break;
    case "R": if (u) reloadProject(u.project); break;
    case "/": $("#log-search").focus(); break;
    case "?": $("#help").showModal(); break;
    default: return;
  }
  e.preventDefault();
});

// -------------------------------------------------------------- start

$("#project-filter").addEventListener("change", () => { state.dirtyAll = true; schedule(); });
$("#unit-filter").addEventListener("input", () => { state.dirtyAll = true; schedule(); });
$("#logs-selected").addEventListener("click", () => showLogs([...state.picked].map((k) => state.units.get(k)).filter(Boolean)));
$("#detail-close").addEventListener("click", closeDetail);
$("#tab-logs").addEventListener("click", () => showTab("logs"));
$("#tab-graph").addEventListener("click", () => {
  const p = state.graphProject || $("#project-filter").value || (state.projects[0] && state.projects[0].name);
  if (p) showGraph(p); else showTab("graph");
});
$("#help-button").addEventListener("click", () => $("#help").showModal());
$("#help-close").addEventListener("click", () => $("#help").close());
api.get("/v1/version").then((v) => { $("#daemon").textContent = `devctld ${v.version} · pid ${v.pid}`; }).catch(() => {});
connect();
