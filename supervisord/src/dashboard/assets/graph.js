// The dependency graph of one project, drawn as SVG: a unit sits one
// column right of the deepest unit it depends on, so dependencies read
// left to right; `requires` edges are solid, `wants` edges dashed; each
// node is coloured by its state and focusable (Enter selects the unit).

import { stateCell } from "./view.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 168;
const NODE_H = 40;
const GAP_X = 64;
const GAP_Y = 16;

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/** Column of each unit: 0 for units with no dependency, else 1 + the deepest dependency's (cycles cut). */
export function layers(units) {
  const byName = new Map(units.map((u) => [u.name, u]));
  const depth = new Map();
  const visiting = new Set();
  const visit = (name) => {
    if (depth.has(name)) return depth.get(name);
    if (visiting.has(name)) return 0;
    visiting.add(name);
    const u = byName.get(name);
    let d = 0;
    for (const dep of u ? u.deps : []) if (byName.has(dep.unit)) d = Math.max(d, visit(dep.unit) + 1);
    visiting.delete(name);
    depth.set(name, d);
    return d;
  };
  for (const u of units) visit(u.name);
  return depth;
}

/** Draw `units` (one project) into `container`; `onPick(name)` on click or Enter. */
export function drawGraph(container, units, selected, onPick) {
  const depth = layers(units);
  const columns = [];
  for (const u of [...units].sort((a, b) => a.name.localeCompare(b.name))) {
    const d = depth.get(u.name);
    (columns[d] || (columns[d] = [])).push(u);
  }
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((u, y) => pos.set(u.name, { x: 8 + x * (NODE_W + GAP_X), y: 8 + y * (NODE_H + GAP_Y) })));
  const width = 16 + Math.max(1, columns.length) * (NODE_W + GAP_X) - GAP_X;
  const height = 16 + Math.max(1, ...columns.map((c) => (c ? c.length : 0))) * (NODE_H + GAP_Y) - GAP_Y;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": "dependency graph" });
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }, marker);
  for (const u of units) {
    const to = pos.get(u.name);
    for (const d of u.deps) {
      const from = pos.get(d.unit);
      if (!from) continue;
      // From the dependency's right edge to the dependent's left edge.
      const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x, y2 = to.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      const path = el("path", { d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`, class: `edge ${d.kind}`, "marker-end": "url(#arrow)" }, svg);
      el("title", {}, path).textContent = `${u.name} ${d.kind} ${d.unit} (until ${d.until})`;
    }
  }
  for (const u of units) {
    const p = pos.get(u.name);
    const st = stateCell(u.active, u.sub);
    const g = el("g", { class: `node tone-${st.tone}${u.name === selected ? " selected" : ""}`, tabindex: "0", role: "button", "data-unit": u.name, "aria-label": `${u.name}: ${st.text}` }, svg);
    el("rect", { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6 }, g);
    el("text", { x: p.x + 8, y: p.y + 16, class: "name" }, g).textContent = u.name;
    el("text", { x: p.x + 8, y: p.y + 32, class: "state" }, g).textContent = `${u.kind} · ${st.text}`;
    g.addEventListener("click", () => onPick(u.name));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        onPick(u.name);
      }
    });
  }
  container.replaceChildren(svg);
}
