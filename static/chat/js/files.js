// Uploads (POST /api/v1/files) and the links that show files held by this server.
//
// A file URL in a message (/api/v1/files/<id>/content) needs `Authorization: Bearer`, which an
// <img src> or a plain link cannot send. So each file shown gets a signed link
// (GET /api/v1/files/<id> → signed_url, `?sig=…`), good for IM_FILE_URL_TTL_SECONDS; the same
// `sig` opens the thumbnail. Links are cached per file and fetched again before they expire.

import { ApiError } from "./api.js";

const cfg = document.body.dataset;
const TTL_MS = Math.max(10, Number(cfg.fileLinkTtl) || 3600) * 1000;
const FRESH_MS = TTL_MS * 0.75; // renew a link when a quarter of its life is left
const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

// media content types for an uploaded file's kind
export const CONTENT_TYPE_OF_KIND = { picture: 102, voice: 103, video: 104, file: 105 };

export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// this server's own file URLs (same origin, or the configured file URL base)
export function isOwnUrl(href) {
  try {
    const origin = new URL(href, location.href).origin;
    return origin === location.origin || (!!cfg.filesOrigin && origin === cfg.filesOrigin);
  } catch {
    return false;
  }
}

export function fileIdOf(content) {
  const id = content && content.file_id;
  return typeof id === "string" && FILE_ID.test(id) ? id : null;
}

function withSig(url, sig) {
  const u = new URL(url, location.href);
  u.searchParams.set("sig", sig);
  return u.href;
}

// what a file's description gives: the signed content and thumbnail links
function linksFrom(desc, at) {
  const signed = new URL(desc.signed_url, location.href);
  const sig = signed.searchParams.get("sig") || "";
  return {
    content: signed.href,
    thumbnail: desc.thumbnail_url ? withSig(desc.thumbnail_url, sig) : null,
    at,
  };
}

export class FileLinks {
  constructor(api) {
    this.api = api;
    this.cache = new Map(); // file_id -> {content, thumbnail, at} or a Promise of it
  }

  // the upload answer already holds a signed link: no need to ask for one
  seed(desc) {
    if (desc && desc.file_id && desc.signed_url) this.cache.set(desc.file_id, linksFrom(desc, Date.now()));
  }

  async get(fileId, { fresh = false } = {}) {
    const hit = this.cache.get(fileId);
    if (hit instanceof Promise) return hit;
    if (hit && !fresh && Date.now() - hit.at < FRESH_MS) return hit;
    const asked = Date.now();
    const job = this.api
      .get(`files/${encodeURIComponent(fileId)}`)
      .then((desc) => {
        const links = linksFrom(desc, asked);
        this.cache.set(fileId, links);
        return links;
      })
      .catch((err) => {
        this.cache.delete(fileId);
        throw err;
      });
    this.cache.set(fileId, job);
    return job;
  }

  // give every file element under `root` its signed link (img → thumbnail, a → the file)
  hydrate(root) {
    for (const node of root.querySelectorAll("[data-file-id]")) this.fill(node);
  }

  // after a reconnect: try again the files that could not be loaded for want of a connection
  retryFailed(root) {
    for (const box of root.querySelectorAll(".media.media-retry")) {
      box.classList.remove("media-retry");
      box.querySelector(".media-error")?.remove();
      this.hydrate(box);
    }
  }

  async fill(node) {
    const fileId = node.dataset.fileId;
    try {
      const links = await this.get(fileId);
      if (node.tagName === "IMG") {
        node.src = links.thumbnail || links.content;
      } else if (node.tagName === "A") {
        node.href = links.content;
        node.dataset.linkAt = String(links.at);
        if (!node.dataset.renews) {
          node.dataset.renews = "1";
          node.addEventListener("click", (ev) => this.renewOnClick(ev, node));
        }
      } else if (node.tagName === "AUDIO" || node.tagName === "VIDEO") {
        node.src = links.content;
      }
    } catch (err) {
      const box = node.closest(".media");
      if (box && !box.querySelector(".media-error")) {
        const gone = err instanceof ApiError && err.status === 404;
        box.classList.add(gone ? "media-gone" : "media-retry");
        const text = gone ? "This file is no longer available." : `Cannot load the file: ${err.message}`;
        const p = document.createElement("p");
        p.className = "media-error";
        p.textContent = text;
        box.append(p);
      }
    }
  }

  // a link older than its freshness gets renewed before it is followed
  async renewOnClick(ev, node) {
    if (Date.now() - Number(node.dataset.linkAt || 0) < FRESH_MS) return;
    ev.preventDefault();
    try {
      const links = await this.get(node.dataset.fileId, { fresh: true });
      node.href = links.content;
      node.dataset.linkAt = String(links.at);
      node.click();
    } catch (err) {
      console.warn("could not renew the file link:", err.message);
    }
    for (const img of node.querySelectorAll("img[data-file-id]")) this.fill(img);
  }
}

// POST /api/v1/files with upload progress (fetch cannot report it); resolves to the
// description, rejects with an ApiError carrying the server's {code, msg}
export function uploadFile(api, file, { onProgress = () => {}, kind } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${api.base}files`);
    xhr.setRequestHeader("Accept", "application/json");
    if (api.token) xhr.setRequestHeader("Authorization", `Bearer ${api.token}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status === 201 && data && data.file_id) {
        resolve(data);
        return;
      }
      const code = data && typeof data.code === "number" ? data.code : xhr.status;
      const msg = data && data.msg ? data.msg : `HTTP ${xhr.status}`;
      reject(new ApiError(code, msg, xhr.status));
    });
    xhr.addEventListener("error", () => reject(new ApiError(-1, "the upload was cut off (no connection to the server, or the file is too large)", 0)));
    xhr.addEventListener("abort", () => reject(new ApiError(-2, "the upload was cancelled", 0)));
    const form = new FormData();
    form.append("file", file, file.name || "pasted-file");
    if (kind) form.append("kind", kind);
    xhr.send(form);
  });
}
