// How units read: states, readiness, results, durations, the progress
// summary and the CLI's wording of job failures. The same words as
// `devctl status` and `devctl ui` (ctl/src/ui/view.rs); a tone is a CSS class.

/** Tone of an active state. */
export function activeTone(active) {
  switch (active) {
    case "active": return "good";
    case "failed": return "bad";
    case "activating":
    case "deactivating": return "busy";
    default: return "plain";
  }
}

/** `active running`, `failed`, `inactive`: the sub-state only where it says more. */
export function stateCell(active, sub) {
  const implied = (active === "inactive" && sub === "dead") || (active === "failed" && sub === "failed");
  return {
    text: implied ? active : `${active} ${sub}`,
    tone: sub === "backoff" ? "busy" : activeTone(active),
  };
}

export function readyCell(ready) {
  if (ready === true) return { text: "yes", tone: "good" };
  if (ready === false) return { text: "no", tone: "busy" };
  return { text: "-", tone: "dim" };
}

export function resultCell(result) {
  if (!result) return { text: "-", tone: "dim" };
  return { text: result, tone: result === "success" ? "good" : "bad" };
}

/** `42s`, `3m07s`, `2h05m`, `3d04h`. */
export function shortDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Uptime in ms while active or activating, else null (whole wall-clock seconds). */
export function uptimeMs(u, nowMs) {
  if (!(u.active === "active" || u.active === "activating") || u.since_ms == null) return null;
  return (Math.floor(nowMs / 1000) - Math.floor(u.since_ms / 1000)) * 1000;
}

/** `2/5`, with the next retry when one is scheduled. */
export function restartsCell(u, nowMs) {
  let text = `${u.restarts}/${u.restart_limit}`;
  if (u.next_restart_ms != null && u.next_restart_ms > nowMs) {
    text += ` · retry in ${shortDuration(u.next_restart_ms - nowMs + 999)}`;
  }
  return { text, tone: u.restarts > 0 ? "busy" : "plain" };
}

/** Counts of one project's units, as `devctl ui` words them. */
export function summary(units) {
  const s = { total: 0, active: 0, activating: 0, deactivating: 0, failed: 0, inactive: 0, probed: 0, ready: 0, building: 0 };
  for (const u of units) {
    s.total += 1;
    s[u.active] = (s[u.active] || 0) + 1;
    if (u.sub === "building") s.building += 1;
    if (u.ready != null) {
      s.probed += 1;
      if (u.ready) s.ready += 1;
    }
  }
  return s;
}

/** The summary as cells: `5/7 active`, `1 activating`, `1 failed`, `ready 3/4`. */
export function summaryParts(s) {
  const parts = [{ text: `${s.active}/${s.total} active`, tone: s.total > 0 && s.active === s.total ? "good" : "plain" }];
  for (const [n, word, tone] of [
    [s.activating, "activating", "busy"],
    [s.building, "building", "busy"],
    [s.deactivating, "deactivating", "busy"],
    [s.failed, "failed", "bad"],
    [s.inactive, "inactive", "dim"],
  ]) {
    if (n > 0) parts.push({ text: `${n} ${word}`, tone });
  }
  if (s.probed > 0) parts.push({ text: `ready ${s.ready}/${s.probed}`, tone: s.ready === s.probed ? "good" : "busy" });
  return parts;
}

/** `pz/web: failed (exec-failed): No such file or directory` (ctl/src/jobs.rs outcome_line). */
export function outcomeLine(project, o) {
  let line = `${project}/${o.unit}: ${o.active}`;
  if (o.result) line += ` (${o.result})`;
  if (o.message) {
    const prefix = o.result ? `${o.result}: ` : "";
    line += ": " + (prefix && o.message.startsWith(prefix) ? o.message.slice(prefix.length) : o.message);
  }
  return line;
}

/** The lines `devctl` prints on stderr for a job answer, or [] when it succeeded. */
export function jobFailureLines(project, response) {
  const failed = (response.outcomes || []).filter((o) => !o.ok);
  const names = failed.map((o) => `${project}/${o.unit}`).join(", ");
  if (response.timed_out) return [`error: timed out waiting for ${names || project}`];
  if (failed.length === 0) return [];
  return [...failed.map((o) => `devctl: ${outcomeLine(project, o)}`), `error: ${names}: did not reach the requested state`];
}

/** An API error as `devctl` prints it. */
export function apiErrorLines(err) {
  const lines = [`error: ${err.message}`];
  if (err.help) lines.push(`help: ${err.help}`);
  return lines;
}

/** `12:03:04.567` of a time in microseconds. */
export function clock(timeUs) {
  const d = new Date(Math.floor(timeUs / 1000));
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The watch trigger mode a compiled unit file declares: auto, manual, or null (nothing watched). */
export function triggerMode(unitFile) {
  if (!/^X-Devctl-Watch=/m.test(unitFile)) return null;
  const m = unitFile.match(/^X-Devctl-Watch-Trigger=(\S+)/m);
  return m ? m[1] : "auto";
}

/** Dependency lines both ways (Requires / Required by, Wants / Wanted by). */
export function dependencyLines(u, all) {
  const fwd = { requires: [], wants: [] };
  const back = { requires: [], wants: [] };
  for (const d of u.deps) (fwd[d.kind] || (fwd[d.kind] = [])).push(`${d.unit} (until ${d.until})`);
  for (const o of all) {
    if (o.project !== u.project) continue;
    for (const d of o.deps) if (d.unit === u.name) (back[d.kind] || (back[d.kind] = [])).push(o.name);
  }
  const list = (v) => (v.length ? v.join(", ") : "-");
  return [
    `   Requires: ${list(fwd.requires)}`,
    `Required by: ${list(back.requires)}`,
    `      Wants: ${list(fwd.wants)}`,
    `  Wanted by: ${list(back.wants)}`,
  ];
}

/** `1.5M`, as `devctl history` writes sizes. */
export function bytes(n) {
  for (const [suffix, size] of [["G", 1073741824], ["M", 1048576], ["K", 1024]]) {
    if (n >= size) return `${(n / size).toFixed(1)}${suffix}`;
  }
  return `${n}B`;
}

/** Why a run happened, worded as `devctl history` words it. */
export function runTrigger(t) {
  switch (t?.type) {
    case "verb": return `${t.verb} (${t.source === "dbus" ? "d-bus" : t.source})`;
    case "file-change": {
      const more = t.paths.length > 3 ? ` (+${t.paths.length - 3})` : "";
      return `file change: ${t.paths.slice(0, 3).join(", ")}${more}`;
    }
    case "restart": {
      const a = t.after;
      const why = a.signal != null ? `signal ${a.signal}` : a.code != null ? `exit ${a.code}` : "failure";
      return `restart after ${why}, backoff ${t.backoff_ms}ms`;
    }
    case "dependency": return `dependency of ${t.of}`;
    case "commit": return `commit ${t.commit.slice(0, 12)}`;
    case "up-to-date": return "up to date (not run)";
    case "definition-changed": return "definition changed";
    case "other": return t.reason;
    default: return t?.type ?? "-";
  }
}

/** One line of a unit's recent runs: id, trigger, outcome and length. */
export function runLine(r, nowMs) {
  const from = r.spawned_ms ?? r.queued_ms;
  const outcome = r.ended_ms == null
    ? `running ${shortDuration(nowMs - from)}`
    : `${r.result ?? "ended"} after ${shortDuration(r.ended_ms - from)}`;
  return `${r.id} ${runTrigger(r.trigger)} → ${outcome}`;
}

/** A running tree's live use: `3% CPU · 12.5M in 2 processes`. */
export function usageText(x) {
  const cpu = x.cpu_percent == null ? "-" : `${x.cpu_percent}%`;
  return `${cpu} CPU · ${bytes(x.rss_bytes)} in ${x.procs} process${x.procs === 1 ? "" : "es"}`;
}

/** Kinds whose processes the daemon runs, and so can sample. */
const SAMPLED_KINDS = new Set(["service", "daemon", "build"]);

/** Whether the daemon can sample a unit's CPU and memory now. */
export function sampled(u) {
  return SAMPLED_KINDS.has(u.kind) && u.main_pid != null;
}

/**
 * The CPU and memory cells of a unit: its last figures while it runs
 * (`…` until the first sample, CPU `…` until the second), `-` when it runs
 * nothing, and `—` with the reason for units whose processes another
 * program runs.
 */
export function usageCells(u, x) {
  const why = {
    container: "Docker runs this container's processes: devctl does not sample them (docker stats does)",
    kubernetes: "the cluster runs this unit's pods: devctl does not sample them (kubectl top does)",
  }[u.kind];
  if (why) return { cpu: { text: "—", tone: "dim", title: why }, mem: { text: "—", tone: "dim", title: why } };
  if (!sampled(u)) return { cpu: { text: "-", tone: "dim", title: "" }, mem: { text: "-", tone: "dim", title: "" } };
  if (!x) {
    const title = "sampled every 2 s while the row is in view";
    return { cpu: { text: "…", tone: "dim", title }, mem: { text: "…", tone: "dim", title } };
  }
  const title = `${x.procs} process${x.procs === 1 ? "" : "es"}, the whole tree; sampled every 2 s while the row is in view`;
  return {
    cpu: { text: x.cpu_percent == null ? "…" : `${x.cpu_percent}%`, tone: "", title },
    mem: { text: bytes(x.rss_bytes), tone: "", title },
  };
}

/** What `devctl reload` prints for a load: `pz: added: a, b` lines (ctl/src/jobs.rs load_summary). */
export function loadSummary(project, r) {
  const lines = [];
  for (const [label, names] of [["added", r.added], ["removed", r.removed], ["changed", r.changed], ["restarted", r.restarted], ["stopped", r.stopped]]) {
    if (names.length) lines.push(`${project}: ${label}: ${names.join(", ")}`);
  }
  if (!lines.length) lines.push(`${project}: unchanged (${r.unchanged} units)`);
  return lines;
}
