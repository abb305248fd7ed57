// The log view: one unit or several of a project, merged by time by the
// daemon (`GET /v1/logs`, NDJSON read as it arrives), following by default.
// Lines are appended in batches once per animation frame and the view keeps
// the last MAX_LINES. When the page reads slower than a unit writes, the
// daemon reads the lines it could not queue back from the log files and the
// stream goes on; only lines it cannot read back come as a `missed` notice
// (as `devctl logs -f` is told), which the view shows and marks in the flow
// where the lines are missing. A stream that is cut (the daemon drops a page
// that reads nothing for 10 s, or it restarted) is resumed after the last
// line shown, from the log files, and the place is marked. A regex filters
// and highlights.

import { clock } from "./view.js";

const MAX_LINES = 5000;
const HISTORY = 500;
const ERROR_WORDS = /\b(error|fatal|panic|exception|traceback|failed)\b/i;

export class LogView {
  constructor(root, api) {
    this.api = api;
    this.linesEl = root.querySelector("#log-lines");
    this.notice = root.querySelector("#log-notice");
    this.title = root.querySelector("#logs-title");
    this.followBox = root.querySelector("#log-follow");
    this.searchBox = root.querySelector("#log-search");
    this.searchError = root.querySelector("#log-search-error");
    this.pending = [];
    this.frame = 0;
    this.regex = null;
    this.abort = null;
    this.project = null;
    this.units = [];
    this.lastUs = 0;
    this.atLast = 0;
    this.skip = null;
    this.lastGap = null;
    this.searchBox.addEventListener("input", () => this.setSearch(this.searchBox.value));
    this.followBox.addEventListener("change", () => this.followBox.checked && this.scrollEnd());
    this.linesEl.addEventListener("scroll", () => {
      const atEnd = this.linesEl.scrollHeight - this.linesEl.scrollTop - this.linesEl.clientHeight < 4;
      if (!atEnd && this.followBox.checked && !this.autoScrolling) this.followBox.checked = false;
    });
    root.querySelector("#log-first-error").addEventListener("click", () => this.firstError());
  }

  /** Show the logs of `units` (names) of `project`. */
  open(project, units) {
    if (this.abort) this.abort.abort();
    this.project = project;
    this.units = units;
    this.lastUs = 0;
    this.atLast = 0;
    this.skip = null;
    this.lastGap = null;
    this.pending = [];
    this.linesEl.replaceChildren();
    this.notice.hidden = true;
    this.title.textContent = `Logs: ${project}/${units.length ? units.join(", ") : "*"}`;
    this.title.classList.remove("dim");
    this.stream(`n=${HISTORY}`);
  }

  async stream(from) {
    const ctrl = new AbortController();
    this.abort = ctrl;
    const q = [`project=${encodeURIComponent(this.project)}`, ...this.units.map((u) => `unit=${encodeURIComponent(u)}`), from, "follow=true"];
    let res;
    try {
      res = await this.api.raw(`/v1/logs?${q.join("&")}`, ctrl.signal);
    } catch (e) {
      if (ctrl.signal.aborted) return;
      this.say(`cannot read the logs: ${e.message}`);
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let why = "the daemon ended it";
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        why = e.message || "the connection was lost";
        break;
      }
      if (chunk.done) break;
      buf += chunk.value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) this.take(JSON.parse(line));
      }
    }
    if (this.abort !== ctrl || ctrl.signal.aborted) return;
    // A moment's pause, so that a daemon on its way down is not asked
    // again and again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (this.abort !== ctrl) return;
    this.resume(why);
  }

  /** Follow again after a cut stream, from the last line shown. */
  resume(why) {
    if (!this.lastUs) {
      this.stream(`n=${HISTORY}`);
      return;
    }
    const message = `the stream was cut here (${why}); below, the lines since read back from the log files, the last ${MAX_LINES} at most: any before those are not shown`;
    this.say(`The log stream was cut after the line of ${clock(this.lastUs)} (${why}); the view resumed after it, reading the lines since from the log files.`);
    this.queue({ gap: null, message });
    // Lines share microseconds in a burst: skip exactly those already shown.
    this.skip = { us: this.lastUs, n: this.atLast };
    this.stream(`since=${Math.floor(this.lastUs / 1000)}&n=${MAX_LINES}`);
  }

  take(v) {
    if (v.notice) {
      // Lines the daemon could not read back for this view: said, and
      // marked where they are missing; the stream goes on.
      const n = v.notice;
      if (n.type === "missed") {
        this.say(`The view fell behind the log. ${n.message}. The mark in the flow is where they are.`);
        this.queue({ gap: n.lines, message: n.message });
      } else {
        this.say(n.message);
      }
      return;
    }
    if (v.error) {
      this.say(v.error.message);
      return;
    }
    if (this.skip) {
      if (v.time_us < this.skip.us) return;
      if (v.time_us === this.skip.us && this.skip.n > 0) {
        this.skip.n -= 1;
        return;
      }
      this.skip = null;
    }
    if (v.time_us === this.lastUs) this.atLast += 1;
    else if (v.time_us > this.lastUs) {
      this.lastUs = v.time_us;
      this.atLast = 1;
    }
    this.queue(v);
  }

  queue(item) {
    this.pending.push(item);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  say(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  flush() {
    this.frame = 0;
    let batch = this.pending;
    this.pending = [];
    if (batch.length > MAX_LINES) {
      // Only the last MAX_LINES would stay: build no more, but keep the
      // newest gap mark among the older ones.
      const gaps = batch.slice(0, -MAX_LINES).filter((r) => r.gap !== undefined);
      batch = [...gaps.slice(-1), ...batch.slice(-MAX_LINES)];
    }
    const frag = document.createDocumentFragment();
    for (const r of batch) frag.appendChild(r.gap !== undefined ? this.renderGap(r) : this.render(r));
    this.linesEl.appendChild(frag);
    let extra = this.linesEl.childElementCount - MAX_LINES;
    while (extra-- > 0) {
      // The newest gap mark stays on top while the lines after it are shown.
      let victim = this.linesEl.firstElementChild;
      if (victim === this.lastGap) victim = victim.nextElementSibling;
      if (!victim) break;
      victim.remove();
    }
    if (this.followBox.checked) this.scrollEnd();
  }

  /** The mark where lines are missing, or where a cut stream resumed. */
  renderGap(g) {
    const div = document.createElement("div");
    div.className = "line gap";
    div.setAttribute("role", "separator");
    div.textContent = `-- ${g.message} --`;
    this.lastGap = div;
    return div;
  }

  render(r) {
    const div = document.createElement("div");
    div.className = `line ${r.stream}`;
    div.dataset.text = r.text;
    if (r.stream === "stderr" || ERROR_WORDS.test(r.text)) div.dataset.error = "1";
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = clock(r.time_us);
    const u = document.createElement("span");
    u.className = "u";
    u.textContent = r.unit;
    const x = document.createElement("span");
    x.className = "x";
    this.paint(x, r.stream === "marker" ? `-- ${r.text} --` : r.text);
    div.append(t, u, x);
    if (this.regex && !this.regex.test(r.text)) div.hidden = true;
    return div;
  }

  /** Text with the search's matches in <mark>. */
  paint(el, text) {
    if (!this.regex) {
      el.textContent = text;
      return;
    }
    el.replaceChildren();
    const re = new RegExp(this.regex.source, this.regex.flags.includes("g") ? this.regex.flags : this.regex.flags + "g");
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m[0].length === 0) break;
      el.append(text.slice(last, m.index));
      const mark = document.createElement("mark");
      mark.textContent = m[0];
      el.append(mark);
      last = m.index + m[0].length;
    }
    el.append(text.slice(last));
  }

  setSearch(source) {
    this.searchError.textContent = "";
    if (source === "") {
      this.regex = null;
    } else {
      try {
        this.regex = new RegExp(source, "i");
      } catch (e) {
        this.searchError.textContent = `not a regular expression: ${e.message}`;
        return;
      }
    }
    for (const div of this.linesEl.children) {
      const text = div.dataset.text;
      if (text === undefined) continue;
      div.hidden = !!this.regex && !this.regex.test(text);
      this.paint(div.querySelector(".x"), div.classList.contains("marker") ? `-- ${text} --` : text);
    }
    if (this.followBox.checked) this.scrollEnd();
  }

  firstError() {
    const first = [...this.linesEl.children].find((d) => d.dataset.error && !d.hidden);
    if (!first) {
      this.say("no error in the lines shown");
      return;
    }
    this.followBox.checked = false;
    first.scrollIntoView({ block: "center" });
    first.classList.add("flash");
    setTimeout(() => first.classList.remove("flash"), 1500);
  }

  scrollEnd() {
    this.autoScrolling = true;
    this.linesEl.scrollTop = this.linesEl.scrollHeight;
    requestAnimationFrame(() => (this.autoScrolling = false));
  }
}
