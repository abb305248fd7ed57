// The log view: one unit or several of a project, merged by time by the
// daemon (`GET /v1/logs`, NDJSON read as it arrives), following by default.
// Lines are appended in batches once per animation frame and the view keeps
// the last MAX_LINES. When the daemon drops a stream that fell behind, the
// view says so (its message, as `devctl logs -f` prints it) and resumes
// from the last line's time. A regex filters and highlights.

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
    this.skipUntil = 0;
    this.resumeAfterLag = false;
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
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        return;
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
    if (this.abort === ctrl && !ctrl.signal.aborted && this.resumeAfterLag) {
      this.resumeAfterLag = false;
      this.skipUntil = this.lastUs;
      this.stream(`since=${Math.floor(this.lastUs / 1000)}`);
    }
  }

  take(v) {
    if (v.error) {
      // The daemon closed a stream that fell behind: say how many lines were lost, then resume.
      this.say(`${v.error.message}; resumed from the last line shown`);
      this.resumeAfterLag = true;
      return;
    }
    if (this.skipUntil && v.time_us <= this.skipUntil) return;
    this.lastUs = Math.max(this.lastUs, v.time_us);
    this.pending.push(v);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  say(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  flush() {
    this.frame = 0;
    const batch = this.pending;
    this.pending = [];
    const frag = document.createDocumentFragment();
    for (const r of batch) frag.appendChild(this.render(r));
    this.linesEl.appendChild(frag);
    let extra = this.linesEl.childElementCount - MAX_LINES;
    while (extra-- > 0) this.linesEl.firstElementChild.remove();
    if (this.followBox.checked) this.scrollEnd();
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
