// headshots page script: plain JavaScript, no build step, nothing from outside this server.
// 1. Photos: each file goes to the API one at a time; its verdict and the set's advice show
//    as they arrive. Without this script the form posts all files at once and still works.
// 2. Progress: the server-sent event stream (it reconnects by itself, also across a server
//    restart) triggers a refresh of the progress part; polling takes over if the stream fails.
"use strict";

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)hs_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function badge(cls, text) { return el("span", { class: "badge " + cls }, text); }

function renderSet(set) {
  const box = document.getElementById("set-live");
  if (!box || !set) return;
  const p = el("p", {}, el("strong", {}, String(set.accepted)),
    ` of ${set.photos} photo(s) accepted (${set.min_accepted} needed). `,
    set.ready ? badge("good", "ready to train") : badge("warn", "not ready yet"));
  const parts = [p];
  if (set.advice && set.advice.length) {
    parts.push(el("ul", { class: "advice" }, ...set.advice.map((a) => el("li", {}, a))));
  }
  box.replaceChildren(...parts);
}

function photoItem(name) {
  const item = el("li", { class: "photo pending" },
    el("div", { class: "verdict" }, badge("", "checking…"), el("span", { class: "name" }, name)));
  document.getElementById("photo-list").prepend(item);
  return item;
}

function showVerdict(item, name, body, ok) {
  const parts = [];
  if (ok) {
    const photo = body.photo;
    item.className = "photo " + (photo.accepted ? "ok" : "bad");
    parts.push(el("div", { class: "verdict" },
      badge(photo.accepted ? "good" : "bad", photo.accepted ? "accepted" : "not usable"),
      el("span", { class: "name" }, name)));
    for (const r of photo.reasons) {
      parts.push(el("p", {}, badge("reason", r.code), " " + r.explanation + (r.fix ? ". " : ""),
        r.fix ? el("em", {}, r.fix) : null));
    }
  } else {
    item.className = "photo refused";
    parts.push(el("div", { class: "verdict" }, badge("bad", "refused"),
      el("span", { class: "name" }, name)));
    if (body.reason) parts.push(badge("reason", body.reason));
    const problem = (body.problem || "the upload failed").replace(/\bph_[0-9a-f]+: /, "");
    parts.push(el("p", {}, problem + ". ",
      el("em", {}, body.fix || "try again")));
  }
  item.replaceChildren(...parts);
  const said = document.getElementById("upload-live");  // one sentence per photo, for readers
  if (said) {
    const verdict = ok ? (body.photo.accepted ? "accepted" : "not usable: " +
      body.photo.reasons.map((r) => r.explanation).join(", ")) : "refused: " + (body.problem || "");
    said.textContent = `${name}: ${verdict.replace(/\bph_[0-9a-f]+: /, "")}`;
  }
}

async function uploadAll(form) {
  const input = form.querySelector("input[type=file]");
  const button = form.querySelector("button");
  const files = Array.from(input.files);
  if (!files.length) return;
  button.disabled = true;
  const url = `/api/v1/orders/${form.dataset.order}/photos`;
  for (const file of files) {
    const item = photoItem(file.name);
    const data = new FormData();
    data.append("file", file, file.name);
    let body = {};
    let ok = false;
    try {
      const r = await fetch(url, { method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf() } });
      body = await r.json().catch(() => ({}));
      ok = r.ok;
    } catch (e) {
      body = { problem: "the connection failed", fix: "check your connection and try again" };
    }
    showVerdict(item, file.name, body, ok);
    if (ok) renderSet(body.set);
  }
  input.value = "";
  button.disabled = false;
  // the page's remove buttons need real forms: reload the list once everything is in
  const r = await fetch(window.location.pathname, { credentials: "same-origin" });
  if (r.ok) {
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = doc.getElementById("photo-list");
    const kept = Array.from(document.querySelectorAll("#photo-list .refused"));
    if (fresh) {
      document.getElementById("photo-list").replaceChildren(...kept, ...fresh.children);
    }
  }
}

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    uploadAll(form);
  });
}

const FINAL = ["delivered", "failed", "cancelled", "expired", "deleted"];

function setupProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const live = document.getElementById("live-status");
  let busy = false;
  let again = false;
  let stream = null;
  let poller = null;

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(box.dataset.part, { credentials: "same-origin" });
      if (r.ok) {
        box.innerHTML = await r.text();
        const part = box.querySelector(".progress-part");
        if (part) {
          if (live.textContent.trim() !== part.dataset.summary) live.textContent = part.dataset.summary;
          if (FINAL.includes(part.dataset.status)) stop();
        }
      }
    } catch (e) { /* the server may be restarting: the next event or poll tries again */ }
    busy = false;
    if (again) { again = false; refresh(); }
  }

  function stop() {
    if (stream) stream.close();
    if (poller) clearInterval(poller);
    stream = null; poller = null;
  }

  function connect() {
    stream = new EventSource(box.dataset.stream + "?timeout=600");
    for (const kind of ["stage_started", "progress", "stage_done", "stage_failed", "status"]) {
      stream.addEventListener(kind, refresh);
    }
    stream.onopen = refresh;  // also after a reconnect: catch up at once
    stream.onerror = () => {
      // EventSource retries by itself unless the answer was an error; then poll instead
      if (stream && stream.readyState === EventSource.CLOSED && !poller) {
        poller = setInterval(() => { refresh(); if (!stream || stream.readyState === EventSource.CLOSED) { stop(); connect(); } }, 3000);
      }
    };
  }

  if (box.dataset.final !== "yes") connect();
}

document.addEventListener("DOMContentLoaded", () => { setupUpload(); setupProgress(); });
