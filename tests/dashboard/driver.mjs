// A headless Chromium that a test drives one step at a time: one JSON
// command per line on stdin, one JSON answer per line on stdout
// ({"ok": true, "value": …} or {"ok": false, "error": "…"}). The test
// (tests/tests/dashboard_e2e.rs, bench/src/dashboard.rs) checks the world
// between steps: processes in /proc, `devctl is-enabled`, daemon restarts.
//
// Commands: goto {url} · click {selector} · fill {selector, value} ·
// press {key} · wait {selector, text?, timeout?} · gone {selector, timeout?} ·
// text {selector} · count {selector} · eval {js} · screenshot {path} ·
// viewport {width, height} · scheme {dark} · page {} (a new page) · quit {}.

import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const pages = [await context.newPage()];
let page = pages[0];
const errors = [];
const watch = (p) => {
  p.on("pageerror", (e) => errors.push(String(e)));
  p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
};
watch(page);

const steps = {
  async goto({ url }) { const r = await page.goto(url); return r ? r.status() : null; },
  async click({ selector }) { await page.locator(selector).first().click(); },
  async fill({ selector, value }) { await page.locator(selector).first().fill(value); },
  async press({ key }) { await page.keyboard.press(key); },
  async focus({ selector }) { await page.locator(selector).first().focus(); },
  async wait({ selector, text, timeout = 30000 }) {
    const loc = page.locator(selector).first();
    if (text === undefined) await loc.waitFor({ state: "visible", timeout });
    else await loc.filter({ hasText: text }).waitFor({ state: "attached", timeout });
    return loc.innerText();
  },
  async gone({ selector, timeout = 30000 }) { await page.locator(selector).first().waitFor({ state: "detached", timeout }); },
  async text({ selector }) { return page.locator(selector).first().innerText(); },
  async count({ selector }) { return page.locator(selector).count(); },
  async eval({ js }) { return page.evaluate(js); },
  async screenshot({ path, full = false }) { await page.screenshot({ path, fullPage: full }); },
  async viewport({ width, height }) { await page.setViewportSize({ width, height }); },
  async scheme({ dark }) { await page.emulateMedia({ colorScheme: dark ? "dark" : "light" }); },
  async page() { page = await context.newPage(); watch(page); pages.push(page); return pages.length; },
  async errors() { return errors.splice(0); },
  async quit() { await browser.close(); process.exit(0); },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let answer;
  try {
    const cmd = JSON.parse(line);
    const step = steps[cmd.cmd];
    if (!step) throw new Error(`no such command: ${cmd.cmd}`);
    const value = await step(cmd);
    answer = { ok: true, value: value === undefined ? null : value };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
