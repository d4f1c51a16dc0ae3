// The review page's keyboard and saves. One row is current; every action applies to it.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;  // sent with every save

const rows = Array.from(document.querySelectorAll("article.row"));
const reviewer = document.getElementById("reviewer");
const progressLine = document.getElementById("progress");
const NAME_KEY = "asrloop-reviewer";
let current = 0;

if (!reviewer.value) reviewer.value = localStorage.getItem(NAME_KEY) || "";
reviewer.addEventListener("change", () => localStorage.setItem(NAME_KEY, reviewer.value.trim()));

function select(index, edit) {
  if (!rows.length) return;
  current = Math.max(0, Math.min(index, rows.length - 1));
  rows.forEach((row, i) => row.classList.toggle("current", i === current));
  const row = rows[current];
  row.scrollIntoView({ block: "nearest" });
  if (edit) {
    const input = row.querySelector(".ref");
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  } else {
    row.focus({ preventScroll: true });
  }
}

function play(row, restart) {
  const audio = row.querySelector("audio");
  document.querySelectorAll("audio").forEach((other) => other !== audio && other.pause());
  if (!restart && !audio.paused) { audio.pause(); return; }
  if (restart || audio.ended) audio.currentTime = 0;
  audio.play().catch((error) => showError(row, `cannot play the clip: ${error.message}`));
}

function showError(row, message, stale) {
  const box = row.querySelector(".error");
  box.textContent = message;
  box.hidden = !message;
  row.querySelector(".reload").hidden = !stale;
}

function update(row, saved) {
  row.dataset.tag = saved.tag;
  row.className = row.className.replace(/status-\w+/, `status-${saved.status}`);
  row.querySelector(".status").textContent = saved.status;
  row.querySelector(".by").textContent = saved.reviewer ? `by ${saved.reviewer} (rev ${saved.revision})` : "";
  row.querySelector(".ref").value = saved.reference;
  showError(row, "", false);
}

function showProgress(p) {
  const budget = p.budget_minutes === null ? "" : ` of ${p.budget_minutes}`;
  progressLine.textContent =
    `${p.decided} of ${p.total} decided · ${p.approved} approved · ${p.rejected} rejected · ` +
    `${p.pending} pending · ${p.minutes} review minutes${budget}`;
}

async function request(row, options) {
  const response = await fetch(`/api/rows/${encodeURIComponent(row.dataset.id)}`, options);
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { status: response.status });
  return data;
}

async function decide(row, status) {
  const name = reviewer.value.trim();
  if (!name) {
    showError(row, "Enter your name (top of the page) before deciding.", false);
    reviewer.focus();
    return false;
  }
  localStorage.setItem(NAME_KEY, name);
  const body = { status, reference: row.querySelector(".ref").value, reviewer: name, seen: row.dataset.tag };
  try {
    const data = await request(row, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": CSRF },
      body: JSON.stringify(body),
    });
    update(row, data.row);
    showProgress(data.progress);
    return true;
  } catch (error) {
    showError(row, error.message, error.status === 409);
    return false;
  }
}

async function reload(row) {
  try {
    update(row, await request(row, { method: "GET" }));
  } catch (error) {
    showError(row, error.message, false);
  }
}

async function decideAndMove(status, fromText) {
  const row = rows[current];
  if (await decide(row, status)) select(current + 1, false);
  else if (fromText) row.querySelector(".ref").focus();
}

rows.forEach((row, index) => {
  row.addEventListener("click", () => index !== current && select(index, false), true);
  row.querySelector(".approve").addEventListener("click", () => { current = index; decideAndMove("approved", false); });
  row.querySelector(".reject").addEventListener("click", () => { current = index; decideAndMove("rejected", false); });
  row.querySelector(".reload").addEventListener("click", () => reload(row));
});

document.querySelectorAll(".filters select").forEach((box) =>
  box.addEventListener("change", () => box.form.submit()));

document.addEventListener("keydown", (event) => {
  if (!rows.length || event.altKey || event.metaKey) return;
  const target = event.target;
  const row = rows[current];
  if (target.classList && target.classList.contains("ref")) {
    if (event.key === "Enter") { event.preventDefault(); decideAndMove("approved", true); }
    else if (event.key === "Escape") { event.preventDefault(); select(current, false); }
    else if (event.key === " " && event.ctrlKey) { event.preventDefault(); play(row, true); }
    return;
  }
  if (event.ctrlKey || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(target.tagName)) return;
  const actions = {
    p: () => play(row, true),
    " ": () => play(row, false),
    e: () => select(current, true),
    Enter: () => select(current, true),
    a: () => decideAndMove("approved", false),
    r: () => decideAndMove("rejected", false),
    u: () => decideAndMove("pending", false),
    n: () => select(current + 1, false),
    j: () => select(current + 1, false),
    ArrowDown: () => select(current + 1, false),
    k: () => select(current - 1, false),
    ArrowUp: () => select(current - 1, false),
    l: () => reload(row),
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
});

select(0, false);
