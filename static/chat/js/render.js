// DOM helpers and how each kind of message looks. User text only ever goes in as text
// nodes (never as HTML), and links only when they are http(s). Nothing is loaded from
// another server: pictures elsewhere are shown as links; this server's files get signed
// links from files.js (elements marked `data-file-id`).

import { fileIdOf, formatSize, isOwnUrl } from "./files.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function formatTime(ms, { withDate = false } = {}) {
  if (!ms) return "";
  const date = new Date(ms);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay && !withDate) return time;
  const day = date.toLocaleDateString([], { month: "short", day: "numeric" });
  return withDate ? `${day} ${time}` : day;
}

const SYSTEM_TEXT = {
  1201: "accepted the friend request",
  1202: "refused the friend request",
  1203: "sent a friend request",
  1204: "is now a friend",
  1205: "removed a friend",
  1207: "blocked a user",
  1208: "unblocked a user",
  1501: "created the group",
  1502: "changed the group info",
  1503: "asked to join",
  1504: "left the group",
  1505: "accepted a join request",
  1506: "refused a join request",
  1507: "transferred the group",
  1508: "removed members",
  1509: "invited members",
  1510: "joined the group",
  1511: "dismissed the group",
  1512: "muted a member",
  1513: "unmuted a member",
  1514: "muted the group",
  1515: "unmuted the group",
  1516: "changed member info",
  1517: "made an admin",
  1518: "removed an admin",
  1519: "changed the group notice",
  1520: "renamed the group",
};

export function isSystem(msg) {
  return msg.content_type >= 1200 && msg.content_type < 2000;
}

// one line for the conversation list
export function preview(msg, me, nameOf = (id) => id) {
  if (!msg) return "";
  if (msg.status === 5) return msg.send_id === me ? "You revoked a message" : "A message was revoked";
  if (msg.status === 4) return "Message deleted";
  const c = msg.content || {};
  switch (msg.content_type) {
    case 101:
      return c.content || "";
    case 106:
    case 114:
      return c.text || "";
    case 102:
      return "[Picture]";
    case 103:
      return "[Voice]";
    case 104:
      return "[Video]";
    case 105:
      return `[File] ${c.file_name || ""}`.trim();
    case 108:
      return "[Contact card]";
    case 109:
      return "[Location]";
    case 115:
      return "[Sticker]";
    case 2101:
      return "A message was revoked";
    default:
      if (isSystem(msg)) return systemText(msg, nameOf);
      return "[Message]";
  }
}

export function systemText(msg, nameOf = (id) => id) {
  const c = msg.content || {};
  const who = nameOf(c.op_user_id || c.from_user_id || msg.send_id || "");
  let text = `${who} ${SYSTEM_TEXT[msg.content_type] || "made a change"}`.trim();
  if (msg.content_type === 1501 && c.group && c.group.name) text += ` “${c.group.name}”`;
  return text;
}

function mediaUrl(c) {
  return (
    safeUrl(c.url) ||
    safeUrl(c.source_url) ||
    safeUrl(c.source_picture && c.source_picture.url) ||
    safeUrl(c.video_url) ||
    null
  );
}

function thumbUrl(c) {
  return (
    safeUrl(c.thumbnail_url) ||
    safeUrl(c.snapshot_url) ||
    safeUrl(c.snapshot_picture && c.snapshot_picture.url) ||
    safeUrl(c.big_picture && c.big_picture.url) ||
    mediaUrl(c)
  );
}

const MEDIA_WORD = { 102: "Picture", 103: "Voice message", 104: "Video", 105: "File" };

function mediaName(type, c) {
  return c.file_name || c.name || MEDIA_WORD[type];
}

function mediaLabel(type, c) {
  const name = mediaName(type, c);
  const parts = [name === MEDIA_WORD[type] ? name : `${MEDIA_WORD[type]}: ${name}`];
  if (c.duration) parts.push(`${c.duration} s`);
  const size = formatSize(c.size || c.file_size);
  if (size) parts.push(size);
  return parts.join(" · ");
}

// pictures, voice, video and files: this server's files through signed links
// (`data-file-id`, filled in by FileLinks.hydrate), same-origin URLs as they are, and
// URLs elsewhere only as a link that says where it goes
function media(type, c) {
  const url = mediaUrl(c);
  const fileId = fileIdOf(c);
  const label = mediaLabel(type, c);
  if (!url) return el("p", { class: "text", text: label });
  const own = isOwnUrl(url);
  const signed = own && fileId ? { "data-file-id": fileId } : {};
  const direct = own && !fileId ? url : undefined;
  if (!own) {
    const host = new URL(url).host;
    return el("div", { class: "media" },
      el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "file external" }, `${label} (link to ${host})`));
  }
  if (type === 102) {
    const thumb = thumbUrl(c);
    const size = fitBox(c.width, c.height);
    const name = mediaName(type, c);
    return el("div", { class: "media" },
      el("a", { ...signed, href: direct, target: "_blank", rel: "noopener noreferrer", class: "picture",
        "aria-label": `${name === "Picture" ? "Picture" : `Picture ${name}`}: open full size` },
        el("img", { ...signed, src: fileId ? undefined : isOwnUrl(thumb) ? thumb : direct, alt: name === "Picture" ? "Picture" : name,
          width: size ? size.w : undefined, height: size ? size.h : undefined })));
  }
  const box = el("div", { class: "media" });
  if (type === 103) box.append(el("audio", { ...signed, src: direct, controls: true, preload: "none", "aria-label": label }));
  if (type === 104) box.append(el("video", { ...signed, src: direct, controls: true, preload: "metadata", "aria-label": label }));
  box.append(el("a", { ...signed, href: direct, class: "file", download: mediaName(type, c) }, label));
  return box;
}

// a picture's thumbnail size (at most 240 × 240) so the list does not jump when it loads
function fitBox(width, height) {
  const w = Number(width);
  const h = Number(height);
  if (!(w > 0 && h > 0)) return null;
  const scale = Math.min(1, 240 / w, 240 / h);
  return { w: Math.max(1, Math.round(w * scale)), h: Math.max(1, Math.round(h * scale)) };
}

// the body of a bubble
export function body(msg) {
  const c = msg.content || {};
  if (msg.status === 5) return el("p", { class: "revoked", text: "This message was revoked" });
  if (msg.status === 4) return el("p", { class: "revoked", text: "Message deleted" });
  switch (msg.content_type) {
    case 101:
      return el("p", { class: "text", text: c.content || "" });
    case 106:
      return el("p", { class: "text", text: c.text || "" });
    case 114: {
      const quoted = c.quote_message ? preview(c.quote_message) : "";
      return el("div", {}, el("blockquote", { text: quoted }), el("p", { class: "text", text: c.text || "" }));
    }
    case 102:
    case 103:
    case 104:
    case 105:
      return media(msg.content_type, c);
    case 108:
      return el("p", { class: "text", text: `Contact card: ${c.user_id || ""}` });
    case 109:
      return el("p", { class: "text", text: `Location: ${c.latitude}, ${c.longitude}${c.description ? " " + c.description : ""}` });
    case 115:
      return el("p", { class: "text", text: "[Sticker]" });
    default:
      return el("p", { class: "text", text: preview(msg) });
  }
}
