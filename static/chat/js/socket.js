// One websocket to imserver (docs/protocol.md): requests matched to replies by id, pushes
// handed out as events, a heartbeat, and reconnection with backoff. The connection itself
// holds no chat state: after every (re)connect the app catches up by seq.

export class ProtocolError extends Error {
  constructor(code, msg, data = {}) {
    super(msg || `error ${code}`);
    this.code = code;
    this.data = data;
  }
}

// close codes after which reconnecting with the same token cannot work
const FATAL_CLOSE = new Set([4001, 4002, 4003, 4004]);
const PING_EVERY_MS = 25000;
const REPLY_TIMEOUT_MS = 15000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;

export class Connection extends EventTarget {
  constructor({ path, token, platformId = 5 }) {
    super();
    this.path = path;
    this.token = token;
    this.platformId = platformId;
    this.ws = null;
    this.state = "idle"; // idle | connecting | open | waiting | offline | closed
    this.nextId = 1;
    this.waiting = new Map(); // id -> {resolve, reject, timer}
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.retryAt = 0;
    this.stopped = false;
    this.lastError = null;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropForOffline();
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}${this.path}`;
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...extra } }));
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    if (this.ws) this.ws.close(1000, "bye");
    this.failWaiting("signed out");
    this.setState("closed");
  }

  open() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.setState("connecting", { attempt: this.attempt });
    // the token travels as a subprotocol, not in the URL (URLs end up in proxy logs)
    const protocols = ["imserver.v1", "imtoken." + this.token.replaceAll(":", "."), `implatform.${this.platformId}`];
    let ws;
    try {
      ws = new WebSocket(this.url(), protocols);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.lastError = null;
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev);
    ws.onerror = () => {}; // onclose follows and decides
  }

  onFrame(ws, raw) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (frame.op === "connected") {
      this.attempt = 0;
      this.setState("open");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.heartbeat(), PING_EVERY_MS);
      this.dispatchEvent(new CustomEvent("open", { detail: frame.data }));
      return;
    }
    if (frame.op === "connect" || frame.op === "kicked") {
      // refused at connect time, or this session was ended: the close that follows is fatal
      this.lastError = { code: frame.code, msg: frame.msg, op: frame.op, data: frame.data || {} };
      return;
    }
    if (frame.id !== undefined && frame.id !== null && this.waiting.has(String(frame.id))) {
      const entry = this.waiting.get(String(frame.id));
      this.waiting.delete(String(frame.id));
      clearTimeout(entry.timer);
      if (frame.code === 0) entry.resolve(frame.data || {});
      else entry.reject(new ProtocolError(frame.code, frame.msg, frame.data || {}));
      return;
    }
    if (frame.op && frame.op.startsWith("push.")) {
      this.dispatchEvent(new CustomEvent("push", { detail: frame }));
    }
  }

  onClose(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearInterval(this.pingTimer);
    this.failWaiting("connection lost");
    if (this.stopped) return;
    if (FATAL_CLOSE.has(ev.code) || (this.lastError && this.lastError.op === "kicked")) {
      const err = this.lastError || { code: 0, msg: `connection closed (${ev.code})` };
      this.stopped = true;
      this.setState("closed");
      this.dispatchEvent(new CustomEvent("fatal", { detail: { ...err, closeCode: ev.code } }));
      return;
    }
    if (navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (this.stopped) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.retryAt = Date.now() + delay;
    this.setState("waiting", { retryAt: this.retryAt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.state === "open" || this.state === "connecting") return;
    this.attempt = 0;
    this.open();
  }

  dropForOffline() {
    // the browser says the network is gone: stop using the socket and wait for "online"
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "offline");
    this.failWaiting("network offline");
    this.setState("offline");
  }

  failWaiting(reason) {
    for (const [, entry] of this.waiting) {
      clearTimeout(entry.timer);
      entry.reject(new ProtocolError(-1, reason));
    }
    this.waiting.clear();
  }

  heartbeat() {
    const ws = this.ws;
    this.request("ping", {}, { timeout: 10000 }).catch((err) => {
      // no answer to a ping: the socket is dead even if the browser has not noticed
      if (err.code === -1 && ws && ws === this.ws) {
        this.ws = null;
        ws.close();
        this.failWaiting("no answer from the server");
        this.scheduleRetry();
      }
    });
  }

  request(op, data = {}, { timeout = REPLY_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.state !== "open") {
        reject(new ProtocolError(-1, "not connected"));
        return;
      }
      const id = String(this.nextId++);
      const timer = setTimeout(() => {
        if (this.waiting.delete(id)) reject(new ProtocolError(-1, "no reply in time"));
      }, timeout);
      this.waiting.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, op, data }));
    });
  }
}
