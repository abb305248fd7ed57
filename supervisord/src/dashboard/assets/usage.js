// CPU and memory for the rows the page shows. The page tells the daemon
// which running units are in its window (an IntersectionObserver over the
// rows; the open detail too; nothing while the page is hidden), on the
// event stream the daemon named in its `hello` event, and again only when
// that set changes. The daemon samples just those every 2 s and sends
// `usage` events; when the page shows no running unit, it samples nothing.

import { sampled } from "./view.js";

export class UsageWatch {
  /**
   * `unitOf(key)`: the unit of a row key; `extra()`: keys shown elsewhere
   * (the open detail); `api`: the page's API client.
   */
  constructor(api, unitOf, extra) {
    this.api = api;
    this.unitOf = unitOf;
    this.extra = extra;
    this.stream = null;
    this.sent = "";
    this.timer = 0;
    this.inView = new Set();
    this.figures = new Map(); // row key → LiveUsage
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const k = e.target.dataset.key;
        if (e.isIntersecting) this.inView.add(k);
        else {
          // Figures of a row out of view go stale: "…" until sampled again.
          this.inView.delete(k);
          this.figures.delete(k);
        }
      }
      this.soon();
    });
    document.addEventListener("visibilitychange", () => this.soon());
  }

  observe(tr) {
    this.observer.observe(tr);
  }

  forget(tr) {
    this.observer.unobserve(tr);
    this.inView.delete(tr.dataset.key);
    this.figures.delete(tr.dataset.key);
  }

  /** A new event stream, which watches nothing yet (`null`: none open). */
  hello(stream) {
    this.stream = stream;
    this.sent = "";
    if (stream != null) this.soon();
  }

  /** The running units shown now: none while the page is hidden. */
  units() {
    if (document.hidden) return [];
    const keys = new Set([...this.inView, ...this.extra()]);
    return [...keys]
      .map((k) => this.unitOf(k))
      .filter((u) => u && sampled(u))
      .map((u) => ({ project: u.project, unit: u.name }))
      .sort((a, b) => a.project.localeCompare(b.project) || a.unit.localeCompare(b.unit));
  }

  /** Say what the page shows once things settle (rows move in bursts). */
  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.send(), 150);
  }

  async send() {
    if (this.stream == null) return;
    const units = this.units();
    const sig = `${this.stream} ${JSON.stringify(units)}`;
    if (sig === this.sent) return;
    this.sent = sig;
    try {
      await this.api.post(`/events/${this.stream}/watch`, { units });
    } catch {
      // The stream ended; its successor's hello sends the set again.
      this.sent = "";
    }
  }
}
