// The playground page: no framework, no build step. It talks to the API of learngpt/web/app.py.
"use strict";

const $ = (id) => document.getElementById(id);
let runs = [];          // GET /api/runs
let controllers = [];   // one AbortController per stream of the current generation
const COLORS = ["#2456c9", "#d1495b", "#2a9d8f", "#e9a03b", "#7b4bb7", "#3d8b37", "#c2577e", "#5c6b7a"];

// ---- words: the page's language and its script's words, put in the page by the server ----

const LANG = document.documentElement.lang;
const WORDS = JSON.parse($("words").textContent);
// The catalog's text for `key` (web.js.*), its {placeholders} filled from `fields`.
const t = (key, fields = {}) => (WORDS[key] ?? key).replace(/\{(\w+)\}/g, (m, name) => (name in fields ? fields[name] : m));
const STATUS = {
  ready: t("web.js.status_ready"), training: t("web.js.status_training"),
  "not written yet": t("web.js.status_not_written"), failed: t("web.js.status_failed"),
};
const statusWord = (status) => STATUS[status] ?? status;

// ---- runs: the model menu, the side-by-side choices, the loss curves ----

async function loadRuns() {
  const response = await fetch(`/api/runs?lang=${LANG}`);
  runs = (await response.json()).runs;
  const select = $("run");
  const chosen = select.value;
  const checked = new Set([...document.querySelectorAll("#compare-list input:checked")].map((c) => c.value));
  const firstLoad = select.options.length === 0;
  select.replaceChildren(...runs.map((run) => {
    const option = new Option(`${run.name}${run.status === "ready" ? "" : ` (${statusWord(run.status)})`}`, run.name);
    option.disabled = run.status !== "ready";
    return option;
  }));
  if (chosen) select.value = chosen;
  if (firstLoad || !select.value || select.selectedOptions[0].disabled) {
    const ready = runs.find((run) => run.status === "ready");
    if (ready) select.value = ready.name;
  }
  $("compare-list").replaceChildren(...runs.map((run, i) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = run.name;
    box.disabled = run.status !== "ready";
    box.checked = !box.disabled && (firstLoad || checked.has(run.name));
    const text = document.createElement("span");
    text.innerHTML = `<b style="color:${COLORS[i % COLORS.length]}">■</b> `;
    text.append(run.name);
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = run.status === "ready" ? "" : ` ${statusWord(run.status)}${run.detail ? ": " + run.detail : ""}`;
    label.append(box, text, status);
    return label;
  }));
  drawLosses();
  if (runs.some((run) => run.status === "training")) setTimeout(loadRuns, 1500);
}

function drawLosses() {
  const withLoss = runs.map((run, i) => ({ run, color: COLORS[i % COLORS.length] }))
    .filter(({ run }) => run.loss.steps.length > 0);
  const all = withLoss.flatMap(({ run }) => [...run.loss.train, ...run.loss.val]);
  const low = Math.min(...all), high = Math.max(...all);
  $("loss-charts").replaceChildren(...withLoss.map(({ run, color }) => lossChart(run, color, low, high)));
}

function lossChart(run, color, low, high) {
  const W = 240, H = 150, pad = { left: 34, right: 8, top: 8, bottom: 22 };
  const steps = run.loss.steps, last = Math.max(steps[steps.length - 1], 1);
  const x = (step) => pad.left + (step / last) * (W - pad.left - pad.right);
  const y = (loss) => pad.top + (high - loss) / Math.max(high - low, 1e-9) * (H - pad.top - pad.bottom);
  const line = (values) => values.map((v, i) => `${i ? "L" : "M"}${x(steps[i]).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  svg.innerHTML = `
    <line x1="${pad.left}" y1="${H - pad.bottom}" x2="${W - pad.right}" y2="${H - pad.bottom}" stroke="#aab"/>
    <line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${H - pad.bottom}" stroke="#aab"/>
    <text x="${pad.left - 4}" y="${pad.top + 8}" text-anchor="end">${high.toFixed(1)}</text>
    <text x="${pad.left - 4}" y="${H - pad.bottom}" text-anchor="end">${low.toFixed(1)}</text>
    <text x="${W - pad.right}" y="${H - 6}" text-anchor="end">${t("web.js.chart_step", { step: last })}</text>
    <path d="${line(run.loss.train)}" fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="4 3"/>
    <path d="${line(run.loss.val)}" fill="none" stroke="${color}" stroke-width="2"/>`;
  const box = document.createElement("div");
  box.className = "chart";
  const title = document.createElement("div");
  const val = run.loss.val[run.loss.val.length - 1];
  title.textContent = t("web.js.chart_title", { name: run.name, val: val.toFixed(3) });
  box.append(title, svg);
  return box;
}

// ---- generation: POST /api/generate, read its server-sent events ----

function settings() {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  return {
    prompt: $("prompt").value,
    temperature: number("temperature") ?? 1,
    top_k: number("top-k"),
    top_p: number("top-p"),
    max_new_tokens: number("max-tokens") ?? 200,
    seed: number("seed") ?? 0,
  };
}

// Calls on[event](data) for each event of the stream; resolves when the stream ends.
async function stream(body, on, signal) {
  const response = await fetch("/api/generate", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal,
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: response.statusText }));
    on.error({ error: problem.error });
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(message)?.[1];
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (event && data && on[event]) on[event](JSON.parse(data));
    }
  }
}

// Write a stream into a text element: the prompt (highlighted) first, then the tokens.
function writer(element, extra = {}) {
  element.replaceChildren();
  return {
    start: (data) => {
      const prompt = document.createElement("span");
      prompt.className = "prompt";
      prompt.textContent = data.prompt;
      element.append(prompt);
    },
    token: (data) => { element.append(data.text); },
    done: (data) => { element.append(data.text); extra.done?.(data); },
    error: (data) => { extra.error?.(data); },
    attention: (data) => { extra.attention?.(data); },
  };
}

async function generate() {
  controllers.forEach((c) => c.abort());
  controllers = [];
  $("message").textContent = "";
  $("stats").textContent = "";
  $("attention").replaceChildren();
  const base = settings();
  const primary = $("run").value;
  const others = [...document.querySelectorAll("#compare-list input:checked")]
    .map((box) => box.value).filter((name) => name !== primary);
  $("output-run").textContent = primary ? `(${primary})` : "";
  const columns = [primary, ...others].map((name) => column(name));
  $("columns").replaceChildren(...columns.map((c) => c.box));
  $("generate").disabled = true;
  const jobs = [[primary, true], ...others.map((name) => [name, false])].map(([name, main], i) => {
    const controller = new AbortController();
    controllers.push(controller);
    const body = { ...base, run: name, attention: main };
    const col = writer(columns[i].text, { error: (d) => columns[i].text.append(`[${d.error}]`) });
    const on = main ? both(writer($("output"), {
      done: (d) => { $("stats").textContent = t("web.js.stats", { tokens: d.tokens, seconds: d.seconds, rate: d.tokens_per_s }); },
      error: (d) => { $("message").textContent = d.error; },
      attention: drawAttention,
    }), col) : col;
    return stream(body, on, controller.signal).catch((e) => {
      if (e.name !== "AbortError") on.error({ error: String(e) });
    });
  });
  await Promise.all(jobs);
  $("generate").disabled = false;
}

function both(a, b) {
  const on = {};
  for (const event of ["start", "token", "done", "error", "attention"]) on[event] = (d) => { a[event](d); b[event](d); };
  return on;
}

function column(name) {
  const box = document.createElement("div");
  box.className = "column";
  const title = document.createElement("h3");
  const run = runs.find((r) => r.name === name);
  title.textContent = name;
  const note = document.createElement("div");
  note.className = "status";
  note.textContent = run ? run.description : "";
  const text = document.createElement("div");
  text.className = "text";
  text.dataset.testid = `compare-output`;
  box.append(title, note, text);
  return { box, text };
}

// ---- attention: one small map per layer and head, a big one for the chosen head ----

const shown = (token) => token.replace(/\n/g, "↵").replace(/ /g, "·") || "∅";

// Draw matrix (T x T) with cells of `cell` px; with `labels`, the tokens along both edges.
function paint(canvas, matrix, cell, { focus = -1, labels = null } = {}) {
  const T = matrix.length;
  const margin = labels ? 28 : 0;
  canvas.width = canvas.height = margin + T * cell;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j <= i; j++) {
      const w = Math.sqrt(matrix[i][j]);  // sqrt: small weights stay visible
      ctx.fillStyle = `rgb(${Math.round(255 - 219 * w)},${Math.round(255 - 169 * w)},${Math.round(255 - 54 * w)})`;
      ctx.fillRect(margin + j * cell, margin + i * cell, cell, cell);
    }
  }
  if (labels) {
    ctx.fillStyle = "#1d2330";
    ctx.font = `${Math.min(13, cell - 2)}px monospace`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    labels.forEach((token, k) => {
      const mid = margin + k * cell + cell / 2;
      ctx.fillText(shown(token), mid, margin / 2);  // keys along the top
      ctx.fillText(shown(token), margin / 2, mid);  // queries down the side
    });
  }
  if (focus >= 0) {
    ctx.strokeStyle = "#e0672a";
    ctx.lineWidth = 2;
    ctx.strokeRect(margin + 1, margin + focus * cell + 1, T * cell - 2, cell - 2);
  }
  return margin;
}

function drawAttention(data) {
  const box = $("attention");
  box.replaceChildren();
  if (data.layers.length === 0) {
    box.textContent = t("web.js.no_attention");
    box.dataset.drawn = "true";
    return;
  }
  let layer = data.layers.length - 1, head = 0, focus = data.tokens.length - 1;
  const T = data.tokens.length;
  const thumbs = document.createElement("div");
  thumbs.className = "thumbs";
  const heads = data.layers[0].length;
  thumbs.style.gridTemplateColumns = `auto repeat(${heads}, auto)`;
  const big = document.createElement("canvas");
  big.dataset.testid = "attention-map";
  const cell = Math.max(4, Math.min(26, Math.floor(416 / T)));
  let margin = 0;
  const tokens = document.createElement("div");
  tokens.className = "tokens";
  const title = document.createElement("div");
  const redraw = () => {
    title.textContent = t("web.js.attended", { layer: layer + 1, head: head + 1, token: shown(data.tokens[focus]) });
    margin = paint(big, data.layers[layer][head], cell, { focus, labels: cell >= 10 ? data.tokens : null });
    const row = data.layers[layer][head][focus];
    [...tokens.children].forEach((span, j) => {
      const w = j <= focus ? row[j] : 0;
      span.dataset.weight = w;
      span.style.background = `rgba(36, 86, 201, ${Math.min(1, Math.sqrt(w)).toFixed(3)})`;
      span.style.color = w > 0.3 ? "#fff" : "";
      span.classList.toggle("focus", j === focus);
    });
    [...thumbs.querySelectorAll("canvas")].forEach((c) => c.classList.toggle("selected",
      Number(c.dataset.layer) === layer && Number(c.dataset.head) === head));
  };
  data.layers.forEach((heads, l) => {
    const axis = document.createElement("span");
    axis.className = "axis";
    axis.textContent = t("web.js.layer", { layer: l + 1 });
    thumbs.append(axis);
    heads.forEach((matrix, h) => {
      const c = document.createElement("canvas");
      c.dataset.layer = l;
      c.dataset.head = h;
      c.title = t("web.js.layer_head", { layer: l + 1, head: h + 1 });
      paint(c, matrix, Math.max(1, Math.floor(48 / T)));
      c.style.width = c.style.height = "48px";
      c.addEventListener("click", () => { layer = l; head = h; redraw(); });
      thumbs.append(c);
    });
  });
  data.tokens.forEach((token, j) => {
    const span = document.createElement("span");
    span.textContent = shown(token);
    span.addEventListener("mouseenter", () => { focus = j; redraw(); });
    tokens.append(span);
  });
  big.addEventListener("mousemove", (e) => {
    const row = Math.floor((e.offsetY - margin) / cell);
    if (row >= 0 && row < T && row !== focus) { focus = row; redraw(); }
  });
  const right = document.createElement("div");
  right.className = "heatmap";
  right.append(title, big, tokens);
  box.append(thumbs, right);
  redraw();
  box.dataset.drawn = "true";
}

$("generate").addEventListener("click", generate);
$("prompt").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(); });
loadRuns().catch((e) => { $("message").textContent = t("web.js.cannot_list", { error: e }); });
