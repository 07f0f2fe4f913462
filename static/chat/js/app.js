// The chat page: sign-in, conversation list, chat view. State per conversation is a map
// seq -> message, so whatever arrives twice (push and pull overlap after a reconnect) is
// shown once; `held` is the highest seq held without a gap, and everything between it and
// the newest seq the server reported is pulled (docs/protocol.md, "Keeping seqs").

import { Api } from "./api.js";
import { el, body, preview, isSystem, systemText, formatTime } from "./render.js";
import { Connection } from "./socket.js";
import { CONTENT_TYPE_OF_KIND, FileLinks, formatSize, uploadFile } from "./files.js";

const $ = (id) => document.getElementById(id);
const cfg = document.body.dataset;
const PAGE = 30;
const TOKEN_KEY = "imchat.token";
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;
const WATCH_EVERY_MS = 8 * 60 * 1000;

const state = {
  api: null,
  conn: null,
  files: null, // FileLinks: signed links for this server's files
  uploads: Promise.resolve(), // one upload at a time
  uploading: 0,
  me: "",
  meName: "",
  everConnected: false,
  convs: new Map(),
  active: null,
  nodes: new Map(), // seq -> <li> of the open conversation
  pendingNodes: new Map(), // client_msg_id -> <li>
  users: new Map(), // user_id -> nickname
  groups: new Map(), // group_id -> {name}
  presence: new Map(), // user_id -> online
  members: [],
  typingSentAt: 0,
  typingConv: null,
  watchTimer: null,
  statusTimer: null,
  readTimer: null,
};

// ------------------------------------------------------------------------ helpers
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function nameOf(userId) {
  return state.users.get(userId) || userId;
}

function convName(c) {
  if (c.type === 3) return (state.groups.get(c.groupId) || {}).name || c.groupId;
  if (c.type === 4) return "Notifications";
  return nameOf(c.peerId) || c.id;
}

function unreadOf(c) {
  return Math.max(0, c.maxSeq - c.readSeq);
}

function showAlert(text) {
  const box = $("alert");
  box.textContent = text;
  box.hidden = !text;
  if (text) setTimeout(() => { if (box.textContent === text) box.hidden = true; }, 8000);
}

function announce(text) {
  const live = $("live");
  live.append(el("p", { text }));
  while (live.childElementCount > 5) live.firstElementChild.remove();
}

// ------------------------------------------------------------------ conversations
function getConv(id) {
  let c = state.convs.get(id);
  if (!c) {
    c = {
      id, type: id.startsWith("sg_") ? 3 : id.startsWith("n_") ? 4 : 1, peerId: "", groupId: id.startsWith("sg_") ? id.slice(3) : "",
      maxSeq: 0, readSeq: 0, minSeq: 0, peerReadSeq: 0, last: null, lastTime: 0, isMember: true,
      msgs: new Map(), loaded: false, low: 1, held: 0, loadingOlder: false,
      pending: new Map(), chain: Promise.resolve(), typing: new Map(),
    };
    state.convs.set(id, c);
  }
  return c;
}

function mergeListItem(item) {
  const c = getConv(item.conversation_id);
  c.type = item.session_type || c.type;
  c.groupId = item.group_id || c.groupId;
  c.peerId = item.peer_id || c.peerId;
  c.maxSeq = Math.max(c.maxSeq, item.max_seq || 0);
  c.readSeq = Math.max(c.readSeq, item.read_seq || 0);
  c.minSeq = item.min_seq || 0;
  c.isMember = item.is_member !== false;
  if (item.peer_read_seq != null) c.peerReadSeq = Math.max(c.peerReadSeq, item.peer_read_seq);
  const last = item.last_message;
  if (last && (!c.last || last.seq >= c.last.seq)) c.last = last;
  c.lastTime = Math.max(c.lastTime, item.last_msg_time || 0, last ? last.send_time : 0);
  return c;
}

function isPlaceholder(m) {
  return m.status === 4 && !m.server_msg_id;
}

function isShown(m) {
  return !isPlaceholder(m) && m.content_type !== 2101;
}

// store messages (pulled, pushed or acked); each seq is kept and shown once
function addMessages(c, list, { live = false } = {}) {
  for (const m of list) {
    if (!m || !m.seq) continue;
    const old = c.msgs.get(m.seq);
    if (old && old.status === m.status && old.server_msg_id === m.server_msg_id) continue;
    if (old && old.status === 5 && m.status === 2) continue; // a stale copy of a revoked message
    c.msgs.set(m.seq, m);
    c.maxSeq = Math.max(c.maxSeq, m.seq);
    if (isShown(m) && (!c.last || m.seq >= c.last.seq)) {
      c.last = m;
      c.lastTime = Math.max(c.lastTime, m.send_time || 0);
    }
    if (m.content_type === 2101 && m.content) markRevoked(c, m.content.seq);
    if (state.active === c.id) {
      const pending = m.client_msg_id && m.send_id === state.me ? state.pendingNodes.get(m.client_msg_id) : null;
      if (pending && c.pending.has(m.client_msg_id)) {
        c.pending.delete(m.client_msg_id);
        pending.remove();
        state.pendingNodes.delete(m.client_msg_id);
      }
      placeNode(msgNode(c, m), m.seq);
      if (live && isShown(m) && m.send_id !== state.me) announce(`${nameOf(m.send_id)}: ${preview(m, state.me)}`);
    }
  }
  while (c.msgs.has(c.held + 1)) c.held += 1;
}

function markRevoked(c, seq) {
  const m = c.msgs.get(seq);
  if (m && m.status !== 5) {
    const revoked = { ...m, status: 5, content: {} };
    c.msgs.set(seq, revoked);
    if (c.last && c.last.seq === seq) c.last = revoked;
    if (state.active === c.id) placeNode(msgNode(c, revoked), seq);
  } else if (!m && c.last && c.last.seq === seq) {
    c.last = { ...c.last, status: 5, content: {} };
  }
}

async function pullRange(c, from, to) {
  while (from <= to) {
    const r = await state.conn.request("msg.pull", { conversation_id: c.id, from_seq: from, to_seq: to, limit: 100 });
    c.minSeq = r.min_seq || 0;
    if (r.max_seq) c.maxSeq = Math.max(c.maxSeq, r.max_seq);
    addMessages(c, r.messages || []);
    const got = r.messages || [];
    if (r.is_end || !got.length) break;
    from = got[got.length - 1].seq + 1;
  }
}

// pull whatever lies between what we hold and the newest seq the server told us of
function catchUp(c) {
  c.chain = c.chain
    .then(async () => {
      if (!c.loaded || c.held >= c.maxSeq) return;
      await pullRange(c, c.held + 1, c.maxSeq);
    })
    .catch((err) => console.warn("catch-up of", c.id, "failed:", err.message))
    .then(() => {
      if (state.active === c.id) {
        renderHistoryState(c);
        scheduleRead(c);
      }
      renderList();
    });
  return c.chain;
}

function loadLatest(c) {
  if (c.loaded) return catchUp(c);
  const floor = Math.max(1, c.minSeq || 1);
  const top = c.maxSeq;
  const from = Math.max(floor, top - PAGE + 1);
  c.loaded = true;
  c.low = from;
  c.held = from - 1;
  c.chain = c.chain
    .then(() => (top >= from ? pullRange(c, from, top) : null))
    .catch((err) => showAlert(`Could not load messages: ${err.message}`));
  return catchUp(c);
}

async function loadOlder(c) {
  const floor = Math.max(1, c.minSeq || 1);
  if (c.loadingOlder || !c.loaded || c.low <= floor) return;
  c.loadingOlder = true;
  renderHistoryState(c);
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  const to = c.low - 1;
  const from = Math.max(floor, to - PAGE + 1);
  try {
    await pullRange(c, from, to);
    c.low = from;
  } catch (err) {
    showAlert(`Could not load older messages: ${err.message}`);
  } finally {
    c.loadingOlder = false;
  }
  if (state.active === c.id) {
    box.scrollTop = box.scrollHeight - fromBottom;
    renderHistoryState(c);
  }
}

function scheduleRead(c) {
  clearTimeout(state.readTimer);
  state.readTimer = setTimeout(() => markRead(c), 250);
}

function markRead(c) {
  if (state.active !== c.id || document.visibilityState === "hidden") return;
  if (!state.conn || state.conn.state !== "open" || c.held <= c.readSeq) return;
  const seq = c.held;
  c.readSeq = seq;
  renderList();
  state.conn.request("conv.read", { conversation_id: c.id, seq }).catch(() => {});
}

// ------------------------------------------------------------------------ lists
async function refreshLists() {
  const items = await state.api.all("conversations");
  for (const item of items) mergeListItem(item);
  await fillNames();
  renderList();
}

async function fillNames() {
  const userIds = new Set();
  const groupIds = new Set();
  for (const c of state.convs.values()) {
    if (c.type === 1 && c.peerId && !state.users.has(c.peerId)) userIds.add(c.peerId);
    if (c.type === 3 && c.groupId && !state.groups.has(c.groupId)) groupIds.add(c.groupId);
  }
  const jobs = [];
  if (userIds.size) {
    jobs.push(state.api.get("users", { ids: [...userIds].slice(0, 1000).join(",") }).then((r) => {
      for (const u of r.results || []) state.users.set(u.user_id, u.nickname || u.user_id);
    }));
  }
  if (groupIds.size) {
    jobs.push(state.api.get("groups", { ids: [...groupIds].slice(0, 1000).join(",") }).then((r) => {
      for (const g of r.results || []) state.groups.set(g.group_id, { name: g.name || g.group_id });
    }));
  }
  await Promise.all(jobs.map((j) => j.catch(() => {})));
}

async function watchPresence() {
  clearTimeout(state.watchTimer);
  state.watchTimer = setTimeout(watchPresence, WATCH_EVERY_MS);
  const ids = new Set();
  for (const c of state.convs.values()) if (c.type === 1 && c.peerId) ids.add(c.peerId);
  for (const m of state.members) ids.add(m.user_id);
  ids.delete(state.me);
  if (!ids.size || !state.conn || state.conn.state !== "open") return;
  try {
    const r = await state.conn.request("presence.watch", { user_ids: [...ids].slice(0, 500) });
    for (const [id, p] of Object.entries(r.users || {})) state.presence.set(id, !!p.online);
    renderList();
    renderMembers();
    renderChatSub();
  } catch (err) {
    console.warn("presence.watch failed:", err.message);
  }
}

// ------------------------------------------------------------------ rendering
function initials(name) {
  return (name || "?").trim().slice(0, 2).toUpperCase();
}

function lastLine(c) {
  if (!c.last) return c.maxSeq ? "" : "No messages yet";
  const text = preview(c.last, state.me, nameOf);
  if (isSystem(c.last) || c.last.status === 5) return text;
  if (c.last.send_id === state.me) return `You: ${text}`;
  return c.type === 3 ? `${nameOf(c.last.send_id)}: ${text}` : text;
}

function renderList() {
  const list = $("conv-list");
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.conv : null;
  const convs = [...state.convs.values()].sort((a, b) => b.lastTime - a.lastTime || a.id.localeCompare(b.id));
  list.replaceChildren(...convs.map(convItem));
  $("conv-empty").hidden = convs.length > 0;
  if (focused) {
    const again = [...list.querySelectorAll("button.conv")].find((b) => b.dataset.conv === focused);
    if (again) again.focus();
  }
  const unread = convs.reduce((n, c) => n + unreadOf(c), 0);
  document.title = unread ? `(${unread}) imserver chat` : "imserver chat";
}

function convItem(c) {
  const unread = unreadOf(c);
  const name = convName(c);
  const online = c.type === 1 ? state.presence.get(c.peerId) === true : null;
  const extra = [];
  if (c.type === 1) extra.push(online ? "online" : "offline");
  if (c.type === 3) extra.push("group");
  if (unread) extra.push(`${unread} unread`);
  const btn = el(
    "button",
    {
      type: "button", class: "conv", dataset: { conv: c.id },
      "aria-current": state.active === c.id ? "true" : null,
      onclick: () => openConv(c.id),
    },
    el("span", { class: "avatar" + (c.type === 3 ? " group" : ""), "aria-hidden": "true" }, initials(name),
      c.type === 1 ? el("span", { class: "dot" + (online ? " on" : "") }) : null),
    el("span", { class: "conv-main" },
      el("span", { class: "conv-name", text: name }),
      el("span", { class: "conv-last", text: lastLine(c) })),
    el("span", { class: "conv-meta" },
      el("time", { text: formatTime(c.lastTime) }),
      unread ? el("span", { class: "badge", "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }) : null),
    el("span", { class: "visually-hidden", text: `, ${extra.join(", ")}` }),
  );
  return el("li", {}, btn);
}

function renderChatSub() {
  const c = state.active && state.convs.get(state.active);
  if (!c) return;
  const sub = $("chat-sub");
  if (c.type === 1) {
    const online = state.presence.get(c.peerId) === true;
    sub.replaceChildren(el("span", { class: "dot" + (online ? " on" : ""), "aria-hidden": "true" }), online ? " online" : " offline");
  } else if (c.type === 3) {
    sub.textContent = state.members.length ? `${state.members.length} members` : "group";
    if (!c.isMember) sub.textContent += " · you left this group";
  } else {
    sub.textContent = "";
  }
}

function renderMembers() {
  const list = $("member-list");
  list.replaceChildren(
    ...state.members.map((m) => {
      const online = m.user_id === state.me || state.presence.get(m.user_id) === true;
      const role = m.role_level === 100 ? " (owner)" : m.role_level === 60 ? " (admin)" : "";
      return el("li", { dataset: { user: m.user_id } },
        el("span", { class: "dot" + (online ? " on" : ""), "aria-hidden": "true" }),
        ` ${m.nickname || (m.user && m.user.nickname) || m.user_id}${role}`,
        el("span", { class: "visually-hidden", text: online ? ", online" : ", offline" }));
    }),
  );
}

function renderHistoryState(c) {
  const box = $("history-state");
  const floor = Math.max(1, c.minSeq || 1);
  box.replaceChildren();
  if (c.loadingOlder) box.textContent = "Loading older messages…";
  else if (!c.loaded || c.low <= floor || c.maxSeq === 0) box.textContent = c.maxSeq ? "Beginning of the conversation" : "";
  else box.append(el("button", { type: "button", class: "link-button", id: "load-older", onclick: () => loadOlder(c) }, "Load older messages"));
}

function nearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToBottom() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function placeNode(li, seq) {
  const stick = nearBottom();
  const list = $("message-list");
  const existing = state.nodes.get(seq);
  state.nodes.set(seq, li);
  if (existing) {
    existing.replaceWith(li);
    return;
  }
  let before = null;
  for (const child of list.children) {
    if (!child.dataset.seq || Number(child.dataset.seq) > seq) {
      before = child;
      break;
    }
  }
  list.insertBefore(li, before);
  if (stick && !before?.dataset?.seq) scrollToBottom();
}

function receiptText(c, m) {
  if (c.type !== 1) return "Sent";
  return m.seq <= c.peerReadSeq ? "Read" : "Sent";
}

function msgNode(c, m) {
  if (!isShown(m)) return el("li", { hidden: true, dataset: { seq: String(m.seq) } });
  if (isSystem(m)) return el("li", { class: "system", dataset: { seq: String(m.seq) } }, systemText(m, nameOf));
  const own = m.send_id === state.me;
  const sender = own ? "You" : m.sender_nickname || nameOf(m.send_id);
  const footer = el("div", { class: "meta" }, el("time", { datetime: new Date(m.send_time).toISOString(), text: formatTime(m.send_time, { withDate: false }) }));
  if (own && m.status === 2) {
    footer.append(el("span", { class: "receipt", text: receiptText(c, m) }));
    footer.append(el("button", {
      type: "button", class: "link-button revoke", "aria-label": `Revoke your message: ${preview(m, state.me).slice(0, 40)}`,
      onclick: () => revoke(c, m),
    }, "Revoke"));
  }
  const li = el(
    "li",
    { class: `msg ${own ? "own" : "other"}${m.status === 5 ? " is-revoked" : ""}`, dataset: { seq: String(m.seq), cmid: m.client_msg_id || "" } },
    el("span", { class: own || c.type === 1 ? "sender visually-hidden" : "sender", text: `${sender}: ` }),
    body(m),
    footer,
  );
  if (state.files) state.files.hydrate(li);
  return li;
}

function pendingNode(c, p) {
  const footer = el("div", { class: "meta" });
  if (p.state === "uploading") {
    const pct = Math.round((p.progress || 0) * 100);
    footer.append(el("progress", { max: "100", value: String(pct), "aria-label": `Uploading ${p.file.name}` }));
    footer.append(el("span", { class: "receipt", text: p.progress ? `Uploading… ${pct}%` : "Waiting to upload…" }));
  } else if (p.state === "sending") {
    footer.append(el("span", { class: "receipt", text: "Sending…" }));
  } else {
    footer.append(el("span", { class: "send-error", text: p.error }));
    // an upload the server refused (too large, a type it does not take) would only be refused again
    if (!p.refused) footer.append(el("button", { type: "button", class: "link-button retry", onclick: () => attemptSend(c, p) }, "Retry"));
    if (p.file) {
      footer.append(el("button", {
        type: "button", class: "link-button dismiss", "aria-label": `Dismiss ${p.file.name}`,
        onclick: () => dismissPending(c, p),
      }, "Dismiss"));
    }
  }
  const what = p.file
    ? el("p", { class: "text file-pending", text: `${p.file.name || "file"} · ${formatSize(p.file.size)}` })
    : el("p", { class: "text", text: p.text });
  return el(
    "li",
    { class: `msg own pending ${p.state}`, dataset: { cmid: p.cmid } },
    el("span", { class: "sender visually-hidden", text: "You: " }),
    what,
    footer,
  );
}

function dismissPending(c, p) {
  c.pending.delete(p.cmid);
  const node = state.pendingNodes.get(p.cmid);
  if (node) node.remove();
  state.pendingNodes.delete(p.cmid);
  $("composer-input").focus();
}

function showPending(c, p) {
  if (state.active !== c.id) return;
  const node = pendingNode(c, p);
  const old = state.pendingNodes.get(p.cmid);
  state.pendingNodes.set(p.cmid, node);
  if (old) old.replaceWith(node);
  else {
    $("message-list").append(node);
    scrollToBottom();
  }
}

function renderReceipts(c) {
  if (state.active !== c.id) return;
  for (const [seq, li] of state.nodes) {
    const r = li.querySelector(".receipt");
    const m = c.msgs.get(seq);
    if (r && m) r.textContent = receiptText(c, m);
  }
}

function renderTyping() {
  const c = state.active && state.convs.get(state.active);
  const who = c ? [...c.typing.keys()].map(nameOf) : [];
  $("typing").textContent = who.length ? `${who.join(", ")} ${who.length > 1 ? "are" : "is"} typing…` : "";
}

// ------------------------------------------------------------------ chat view
async function openConv(id) {
  const c = state.convs.get(id);
  if (!c) return;
  state.active = id;
  state.nodes = new Map();
  state.pendingNodes = new Map();
  state.members = [];
  $("app").classList.add("show-chat");
  $("chat-empty").hidden = true;
  $("chat-view").hidden = false;
  $("chat-title").textContent = convName(c);
  $("members-toggle").hidden = c.type !== 3;
  $("members").hidden = true;
  $("members-toggle").setAttribute("aria-expanded", "false");
  $("message-list").replaceChildren();
  $("composer-input").disabled = c.type === 4 || !c.isMember;
  $("attach").disabled = c.type === 4 || !c.isMember;
  renderTyping();
  renderChatSub();
  renderList();
  for (const seq of [...c.msgs.keys()].sort((a, b) => a - b)) placeNode(msgNode(c, c.msgs.get(seq)), seq);
  for (const p of c.pending.values()) showPending(c, p);
  renderHistoryState(c);
  $("composer-input").focus();
  if (c.type === 3) loadMembers(c);
  await loadLatest(c);
  if (state.active === id) {
    scrollToBottom();
    scheduleRead(c);
  }
}

async function loadMembers(c) {
  try {
    const rows = await state.api.all(`groups/${encodeURIComponent(c.groupId)}/members`);
    if (state.active !== c.id) return;
    state.members = rows;
    for (const m of rows) if (!state.users.has(m.user_id)) state.users.set(m.user_id, (m.user && m.user.nickname) || m.nickname || m.user_id);
    for (const [seq, li] of state.nodes) if (li.classList.contains("system")) placeNode(msgNode(c, c.msgs.get(seq)), seq);
    renderMembers();
    renderChatSub();
    watchPresence();
  } catch (err) {
    $("member-list").replaceChildren(el("li", { text: `Could not load members: ${err.message}` }));
  }
}

function closeConv() {
  $("app").classList.remove("show-chat");
  const btn = [...$("conv-list").querySelectorAll("button.conv")].find((b) => b.dataset.conv === state.active);
  if (btn) btn.focus();
}

// ------------------------------------------------------------------------ send
function sendFromComposer() {
  const input = $("composer-input");
  const text = input.value.trim();
  const c = state.active && state.convs.get(state.active);
  if (!text || !c) return;
  input.value = "";
  stopTyping();
  const p = { cmid: uuid(), text, state: "sending", error: "", retryOnReconnect: false };
  c.pending.set(p.cmid, p);
  showPending(c, p);
  attemptSend(c, p);
}

// pictures and files: each becomes a pending bubble that uploads, then sends a media message
function sendFiles(files) {
  const c = state.active && state.convs.get(state.active);
  if (!c || !files.length) return;
  if (c.type === 4 || !c.isMember) {
    showAlert("You cannot send to this conversation.");
    return;
  }
  for (const file of files) {
    const p = { cmid: uuid(), text: "", file, upload: null, progress: 0, state: "uploading", error: "", retryOnReconnect: false };
    c.pending.set(p.cmid, p);
    showPending(c, p);
    attemptSend(c, p);
  }
}

function setUploading(delta) {
  state.uploading = Math.max(0, state.uploading + delta);
  const btn = $("attach");
  btn.setAttribute("aria-disabled", state.uploading ? "true" : "false");
  btn.textContent = state.uploading ? "Uploading…" : "Attach";
}

function showProgress(c, p) {
  const node = state.active === c.id && state.pendingNodes.get(p.cmid);
  if (!node) return;
  const pct = Math.round(p.progress * 100);
  const bar = node.querySelector("progress");
  const text = node.querySelector(".receipt");
  if (bar) bar.value = pct;
  if (text) text.textContent = `Uploading… ${pct}%`;
}

// uploads run one after another; on success p.upload holds the file's description
function uploadFor(c, p) {
  p.state = "uploading";
  p.progress = 0;
  p.error = "";
  p.retryOnReconnect = false;
  showPending(c, p);
  const job = state.uploads.then(async () => {
    if (!c.pending.has(p.cmid)) return; // dismissed while waiting
    setUploading(1);
    try {
      const desc = await uploadFile(state.api, p.file, {
        onProgress: (fraction) => {
          p.progress = fraction;
          showProgress(c, p);
        },
      });
      p.upload = desc;
      p.contentType = CONTENT_TYPE_OF_KIND[desc.kind] || 105;
      state.files.seed(desc);
    } catch (err) {
      p.state = "failed";
      p.refused = err.status === 413 || err.status === 400;
      const code = err.code > 0 ? ` (code ${err.code})` : "";
      p.error = `Not sent: ${err.message}${code}.`;
      showPending(c, p);
      showAlert(`Could not upload “${p.file.name}”: ${err.message}${code}.`);
    } finally {
      setUploading(-1);
    }
  });
  state.uploads = job.catch(() => {});
  return job;
}

// what a media message holds once the server has added the file's description
function fileContent(p) {
  const d = p.upload;
  const out = { file_id: d.file_id, url: d.url, name: d.name, size: d.size, mime_type: d.content_type, kind: d.kind };
  if (d.width != null) {
    out.width = d.width;
    out.height = d.height;
  }
  if (d.thumbnail_url) out.thumbnail_url = d.thumbnail_url;
  if (p.contentType === 105) out.file_name = d.name;
  return out;
}

async function attemptSend(c, p) {
  if (p.file && !p.upload) {
    await uploadFor(c, p);
    if (!p.upload) return;
  }
  p.state = "sending";
  p.error = "";
  p.retryOnReconnect = false;
  showPending(c, p);
  const contentType = p.upload ? p.contentType : 101;
  const content = p.upload ? { file_id: p.upload.file_id } : { content: p.text };
  // a retry sends the SAME client_msg_id: if the first try was stored, the server answers with it
  const data = { client_msg_id: p.cmid, session_type: c.type, content_type: contentType, content };
  if (c.type === 3) data.group_id = c.groupId;
  else data.recv_id = c.peerId;
  try {
    const ack = await state.conn.request("msg.send", data);
    c.pending.delete(p.cmid);
    const node = state.pendingNodes.get(p.cmid);
    if (node) node.remove();
    state.pendingNodes.delete(p.cmid);
    c.readSeq = Math.max(c.readSeq, ack.seq);
    const m = {
      server_msg_id: ack.server_msg_id, client_msg_id: p.cmid, conversation_id: c.id, seq: ack.seq,
      send_id: state.me, recv_id: c.type === 1 ? c.peerId : "", group_id: c.groupId || "", session_type: c.type,
      content_type: contentType, content: p.upload ? fileContent(p) : content, send_time: ack.send_time, status: 2,
      sender_nickname: state.meName,
    };
    addMessages(c, [m]);
    if (state.active === c.id) scrollToBottom();
    if (c.held < c.maxSeq) catchUp(c);
    else renderList();
  } catch (err) {
    p.state = "failed";
    p.retryOnReconnect = err.code === -1 || err.code === 500;
    p.error = err.code === -1 ? "Not sent: no connection to the server." : `Not sent: ${err.message} (${err.code}).`;
    showPending(c, p);
    announce("Message not sent. Use Retry to send it again.");
  }
}

async function revoke(c, m) {
  try {
    const r = await state.conn.request("msg.revoke", { server_msg_id: m.server_msg_id });
    markRevoked(c, r.seq);
    if (r.notice) addMessages(c, [r.notice]);
    renderList();
  } catch (err) {
    showAlert(`Could not revoke the message: ${err.message}`);
  }
}

function onComposerInput() {
  const c = state.active && state.convs.get(state.active);
  const text = $("composer-input").value.trim();
  if (!c || !state.conn || state.conn.state !== "open") return;
  if (!text) {
    stopTyping();
    return;
  }
  if (Date.now() - state.typingSentAt > TYPING_EVERY_MS || state.typingConv !== c.id) {
    state.typingSentAt = Date.now();
    state.typingConv = c.id;
    state.conn.request("typing", { conversation_id: c.id, typing: true }).catch(() => {});
  }
}

function stopTyping() {
  if (state.typingConv && state.conn && state.conn.state === "open") {
    state.conn.request("typing", { conversation_id: state.typingConv, typing: false }).catch(() => {});
  }
  state.typingConv = null;
  state.typingSentAt = 0;
}

// ------------------------------------------------------------------------ pushes
function onPush(frame) {
  const d = frame.data || {};
  switch (frame.op) {
    case "push.msg": {
      const m = d;
      const known = state.convs.has(m.conversation_id);
      const c = getConv(m.conversation_id);
      if (!known) {
        c.type = m.session_type === 3 ? 3 : c.type;
        c.groupId = m.group_id || c.groupId;
        if (c.type === 1) c.peerId = m.send_id === state.me ? m.recv_id : m.send_id;
        fillNames().then(() => { renderList(); watchPresence(); });
      }
      if (c.typing.has(m.send_id)) {
        clearTimeout(c.typing.get(m.send_id));
        c.typing.delete(m.send_id);
        renderTyping();
      }
      if (c.loaded) {
        addMessages(c, [m], { live: true });
        if (m.seq > c.held) catchUp(c); // a gap: pull what is missing
        else if (state.active === c.id) scheduleRead(c);
      } else {
        c.maxSeq = Math.max(c.maxSeq, m.seq);
        if (isShown(m) && (!c.last || m.seq >= c.last.seq)) c.last = m;
        if (m.content_type === 2101 && m.content) markRevoked(c, m.content.seq);
        c.lastTime = Math.max(c.lastTime, m.send_time || 0);
        if (isShown(m) && m.send_id !== state.me) announce(`New message from ${nameOf(m.send_id)}: ${preview(m, state.me)}`);
      }
      renderList();
      break;
    }
    case "push.msg.deleted": {
      const c = state.convs.get(d.conversation_id);
      if (c && c.msgs.has(d.seq)) {
        const m = { ...c.msgs.get(d.seq), status: 4, content: {} };
        c.msgs.set(d.seq, m);
        if (state.active === c.id) placeNode(msgNode(c, m), d.seq);
      }
      break;
    }
    case "push.read": {
      const c = state.convs.get(d.conversation_id);
      if (!c) break;
      if (d.user_id === state.me) c.readSeq = Math.max(c.readSeq, d.read_seq);
      else {
        c.peerReadSeq = Math.max(c.peerReadSeq, d.read_seq);
        renderReceipts(c);
      }
      renderList();
      break;
    }
    case "push.typing": {
      const c = state.convs.get(d.conversation_id);
      if (!c || d.user_id === state.me) break;
      clearTimeout(c.typing.get(d.user_id));
      if (d.typing) {
        c.typing.set(d.user_id, setTimeout(() => { c.typing.delete(d.user_id); renderTyping(); }, TYPING_SHOWN_MS));
      } else {
        c.typing.delete(d.user_id);
      }
      renderTyping();
      break;
    }
    case "push.presence":
      state.presence.set(d.user_id, !!d.online);
      renderList();
      renderMembers();
      renderChatSub();
      break;
    case "push.notification":
      if (d.content_type === 1209 && d.content && d.content.user_id) {
        state.users.set(d.content.user_id, d.content.nickname || d.content.user_id);
        renderList();
      }
      break;
    default:
      break;
  }
}

// ------------------------------------------------------------------- connection
async function onConnected() {
  const first = !state.everConnected;
  state.everConnected = true;
  try {
    await refreshLists();
    const r = await state.conn.request("seq.newest", {});
    for (const [id, s] of Object.entries(r.conversations || {})) {
      const c = state.convs.get(id);
      if (!c) continue;
      c.maxSeq = Math.max(c.maxSeq, s.max_seq);
      c.readSeq = Math.max(c.readSeq, s.read_seq);
      c.minSeq = s.min_seq || 0;
    }
    if (state.files) state.files.retryFailed($("message-list"));
    const work = [];
    for (const c of state.convs.values()) if (c.loaded) work.push(catchUp(c));
    await Promise.all(work);
    renderList();
    for (const c of state.convs.values()) {
      for (const p of [...c.pending.values()]) if (p.state === "failed" && p.retryOnReconnect) attemptSend(c, p);
    }
    watchPresence();
    if (!first) announce("Reconnected. Messages are up to date.");
  } catch (err) {
    showAlert(`Could not sync: ${err.message}`);
  }
}

function renderConnState(detail) {
  const status = $("status");
  const conn = $("conn");
  clearInterval(state.statusTimer);
  const setStatus = (text, action) => {
    status.replaceChildren(el("span", { text }));
    if (action) status.append(" ", action);
    status.hidden = false;
  };
  switch (detail.state) {
    case "open":
      conn.textContent = "Connected";
      conn.className = "conn ok";
      status.hidden = true;
      status.replaceChildren();
      break;
    case "connecting":
      conn.textContent = "Connecting…";
      conn.className = "conn";
      if (state.everConnected) setStatus("Connection to the server lost. Reconnecting…");
      break;
    case "waiting": {
      conn.textContent = "Disconnected";
      conn.className = "conn bad";
      const tick = () => {
        const secs = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
        const lead = state.everConnected ? "Connection to the server lost." : "Cannot reach the server.";
        setStatus(`${lead} Reconnecting in ${secs} s…`,
          el("button", { type: "button", class: "link-button", onclick: () => state.conn.reconnectNow() }, "Reconnect now"));
      };
      tick();
      state.statusTimer = setInterval(tick, 1000);
      break;
    }
    case "offline":
      conn.textContent = "Offline";
      conn.className = "conn bad";
      setStatus("You are offline. New messages will appear when the network is back.");
      break;
    default:
      break;
  }
}

function tokenProblem(code, msg) {
  const what = {
    1501: "Your sign-in has expired (token expired)",
    1502: "This token is not valid",
    1506: "This session was ended (signed out, banned, or replaced by a newer sign-in)",
    1507: "This token is not known to this server",
    1006: "No token was given",
    1602: "The server refused the connection arguments",
    1103: "This user is banned",
  }[code] || "Sign-in failed";
  return `${what}. ${msg ? `The server said: “${msg}” (code ${code}). ` : ""}Get a new token and sign in again.`;
}

// ------------------------------------------------------------------------ sign-in
function showSignin(error = "") {
  $("booting").hidden = true;
  $("app").hidden = true;
  $("signin").hidden = false;
  $("status").hidden = true;
  const box = $("signin-error");
  box.textContent = error;
  box.hidden = !error;
  const first = $("demo-user") || $("token-input");
  if (first) first.focus();
}

function resetState() {
  if (state.conn) state.conn.stop();
  state.conn = null;
  state.everConnected = false;
  state.active = null;
  for (const map of [state.convs, state.nodes, state.pendingNodes, state.users, state.groups, state.presence]) map.clear();
  state.members = [];
  clearTimeout(state.watchTimer);
  $("conv-list").replaceChildren();
  $("message-list").replaceChildren();
  $("chat-view").hidden = true;
  $("chat-empty").hidden = false;
  $("app").classList.remove("show-chat");
}

async function start(token) {
  resetState(); // a new sign-in in the same tab starts from nothing
  state.api = new Api(cfg.api, token);
  state.files = new FileLinks(state.api);
  let me;
  try {
    me = await state.api.get("users/me");
  } catch (err) {
    if (err.code === -1) {
      showSignin("Cannot reach the server. Check that it is running and reload this page.");
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignin(tokenProblem(err.code, err.message));
    }
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me.user_id;
  state.meName = me.nickname || me.user_id;
  state.users.set(me.user_id, state.meName);
  $("me-name").textContent = me.nickname && me.nickname !== me.user_id ? `${me.nickname} (${me.user_id})` : me.user_id;
  $("signin").hidden = true;
  $("booting").hidden = true;
  $("app").hidden = false;
  document.body.dataset.me = me.user_id;
  try {
    await refreshLists();
  } catch (err) {
    showAlert(`Could not load conversations: ${err.message}`);
  }
  const conn = new Connection({ path: cfg.ws, token });
  state.conn = conn;
  conn.addEventListener("state", (ev) => renderConnState(ev.detail));
  conn.addEventListener("open", () => onConnected());
  conn.addEventListener("push", (ev) => onPush(ev.detail));
  conn.addEventListener("fatal", (ev) => {
    const d = ev.detail;
    sessionStorage.removeItem(TOKEN_KEY);
    if (d.op === "kicked" || d.closeCode === 4003) {
      showSignin(`This session was ended (${(d.data && d.data.reason) || "logged out"}): ${d.msg || "kicked"}. Sign in again with a new token.`);
    } else {
      showSignin(tokenProblem(d.code, d.msg));
    }
  });
  conn.start();
}

async function demoSignIn(ev) {
  ev.preventDefault();
  const userId = $("demo-user").value.trim();
  const nickname = $("demo-nick").value.trim();
  if (!userId) {
    showSignin("Enter a user id.");
    return;
  }
  try {
    const r = await new Api("/chat/", "").call("POST", "demo-sign-in", { body: { user_id: userId, nickname }, auth: false });
    start(r.token);
  } catch (err) {
    showSignin(`Demo sign-in failed: ${err.message} (code ${err.code}).`);
  }
}

function wire() {
  const demo = $("demo-form");
  if (demo) demo.addEventListener("submit", demoSignIn);
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) showSignin("Paste a token first.");
    else start(token);
  });
  $("signout").addEventListener("click", () => {
    if (state.conn) state.conn.stop();
    sessionStorage.removeItem(TOKEN_KEY);
    location.replace(location.pathname);
  });
  $("new-dm-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const peer = $("new-dm-user").value.trim();
    if (!peer) return;
    if (peer === state.me) {
      showAlert("That is you: pick another user id.");
      return;
    }
    try {
      const r = await state.api.get("users", { ids: peer });
      const u = (r.results || [])[0];
      if (!u) {
        showAlert(`No user with id “${peer}”.`);
        return;
      }
      state.users.set(u.user_id, u.nickname || u.user_id);
      const id = "si_" + [state.me, u.user_id].sort().join("_");
      const c = getConv(id);
      c.type = 1;
      c.peerId = u.user_id;
      if (!c.lastTime) c.lastTime = Date.now();
      $("new-dm-user").value = "";
      watchPresence();
      openConv(id);
    } catch (err) {
      showAlert(`Could not start the chat: ${err.message}`);
    }
  });
  $("new-group-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("new-group-name").value.trim();
    const ids = $("new-group-members").value.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s && s !== state.me);
    if (!name || !ids.length) {
      showAlert("A group needs a name and at least one other member.");
      return;
    }
    try {
      const g = await state.api.post("groups", { name, member_ids: ids });
      state.groups.set(g.group_id, { name: g.name || name });
      const c = getConv(`sg_${g.group_id}`);
      c.type = 3;
      c.groupId = g.group_id;
      c.lastTime = Date.now();
      const r = await state.conn.request("seq.newest", {}).catch(() => null);
      const s = r && r.conversations && r.conversations[c.id];
      if (s) {
        c.maxSeq = Math.max(c.maxSeq, s.max_seq);
        c.readSeq = Math.max(c.readSeq, s.read_seq);
      }
      $("new-group-name").value = "";
      $("new-group-members").value = "";
      $("new-group").open = false;
      openConv(c.id);
    } catch (err) {
      showAlert(`Could not create the group: ${err.message}`);
    }
  });
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sendFromComposer();
  });
  $("composer-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendFromComposer();
    }
  });
  $("composer-input").addEventListener("input", onComposerInput);
  $("composer-input").addEventListener("paste", (ev) => {
    const files = [...((ev.clipboardData && ev.clipboardData.files) || [])];
    if (!files.length) return;
    ev.preventDefault();
    sendFiles(files);
  });
  $("attach").addEventListener("click", () => {
    if ($("attach").getAttribute("aria-disabled") === "true") {
      announce("An upload is still running; wait for it to finish.");
      return;
    }
    $("attach-input").click();
  });
  $("attach-input").addEventListener("change", () => {
    const files = [...$("attach-input").files];
    $("attach-input").value = "";
    sendFiles(files);
    $("composer-input").focus();
  });
  wireDrop();
  $("composer-input").addEventListener("blur", stopTyping);
  $("messages").addEventListener("scroll", () => {
    const c = state.active && state.convs.get(state.active);
    if (c && $("messages").scrollTop < 60) loadOlder(c);
  });
  $("back").addEventListener("click", closeConv);
  $("members-toggle").addEventListener("click", () => {
    const open = $("members").hidden;
    $("members").hidden = !open;
    $("members-toggle").setAttribute("aria-expanded", String(open));
  });
}

// files dropped on the open conversation are sent like picked ones
function wireDrop() {
  const view = $("chat-view");
  const hint = $("drop-hint");
  const hasFiles = (ev) => ev.dataTransfer && [...ev.dataTransfer.types].includes("Files");
  const canSend = () => !$("attach").disabled;
  view.addEventListener("dragover", (ev) => {
    if (!hasFiles(ev) || !canSend()) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "copy";
    hint.hidden = false;
  });
  view.addEventListener("dragleave", (ev) => {
    if (!view.contains(ev.relatedTarget)) hint.hidden = true;
  });
  view.addEventListener("drop", (ev) => {
    hint.hidden = true;
    if (!hasFiles(ev) || !canSend()) return;
    ev.preventDefault();
    sendFiles([...ev.dataTransfer.files]);
  });
}

function boot() {
  wire();
  document.addEventListener("visibilitychange", () => {
    const c = state.active && state.convs.get(state.active);
    if (c) scheduleRead(c);
  });
  const hash = new URLSearchParams(location.hash.slice(1));
  let token = hash.get("token");
  if (token) {
    // keep the token out of the address bar and history
    history.replaceState(null, "", location.pathname + location.search);
  } else {
    token = sessionStorage.getItem(TOKEN_KEY);
  }
  if (token) {
    start(token);
    return;
  }
  showSignin();
  if (hash.has("paste")) {
    const user = hash.get("user");
    if (user) $("token-title").textContent = `Sign in with a token for ${user}`;
    $("token-input").focus();
  }
}

boot();
