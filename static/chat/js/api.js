// The REST API (/api/v1/...): Bearer token, JSON in and out, errors as {code, msg}.

export class ApiError extends Error {
  constructor(code, msg, status = 0) {
    super(msg || `error ${code}`);
    this.code = code;
    this.status = status;
  }
}

export class Api {
  constructor(base, token) {
    this.base = base;
    this.token = token;
  }

  async call(method, path, { params, body, auth = true } = {}) {
    let url = this.base + path;
    if (params) url += "?" + new URLSearchParams(params).toString();
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    let resp;
    try {
      resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(-1, "cannot reach the server", 0);
    }
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
    if (!resp.ok) {
      const code = data && typeof data.code === "number" ? data.code : resp.status;
      const msg = data && data.msg ? data.msg : `HTTP ${resp.status}`;
      throw new ApiError(code, msg, resp.status);
    }
    return data;
  }

  get(path, params) {
    return this.call("GET", path, { params });
  }

  post(path, body) {
    return this.call("POST", path, { body });
  }

  // every page of a list endpoint (the lists have no incremental sync yet)
  async all(path, params = {}, most = 2000) {
    const limit = 200;
    const out = [];
    for (let offset = 0; offset < most; offset += limit) {
      const page = await this.get(path, { ...params, limit, offset });
      const rows = page.results || [];
      out.push(...rows);
      if (rows.length < limit || !page.next) break;
    }
    return out;
  }
}
