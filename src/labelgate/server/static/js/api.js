// The only module that talks to the server: every REST call the UI makes is a function here.
// Errors become ApiError with the server's {"error": {code, message, detail}} body.

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

async function request(method, path, { body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || String(res.status), err.message || res.statusText, err.detail);
  }
  const etag = res.headers.get("ETag");
  if (etag && data && typeof data === "object") Object.defineProperty(data, "etag", { value: etag });
  return data;
}

// --- session -------------------------------------------------------------
export const login = (username, password) => request("POST", "/auth/login", { body: { username, password } });
export const logout = () => request("POST", "/auth/logout");
export const me = () => request("GET", "/auth/me");

// --- projects ------------------------------------------------------------
export const projects = () => request("GET", "/projects");
export const project = (id) => request("GET", `/projects/${id}`);
export const updateProject = (id, patch) => request("PATCH", `/projects/${id}`, { body: patch });
export const members = (id) => request("GET", `/projects/${id}/members`);
export const guideline = (id, version) =>
  request("GET", version == null ? `/projects/${id}/guidelines` : `/projects/${id}/guidelines/${version}`);
export const addGuideline = (id, text) => request("POST", `/projects/${id}/guidelines`, { body: { text } });

// --- tasks and annotations ------------------------------------------------
export const tasks = (projectId, offset = 0, limit = 100) =>
  request("GET", `/projects/${projectId}/tasks?offset=${offset}&limit=${limit}`);
export const nextTask = (projectId) => request("POST", `/projects/${projectId}/next-task`);
export const task = (id) => request("GET", `/tasks/${id}`);
export const taskEvents = (id) => request("GET", `/tasks/${id}/events`);
export const skipTask = (id, reason = "") => request("POST", `/tasks/${id}/skip`, { body: { reason } });
export const mediaUrl = (taskId) => `${BASE}/tasks/${taskId}/media`;

export const createAnnotation = (taskId, regions, submit, leadTime) =>
  request("POST", `/tasks/${taskId}/annotations`, { body: { regions, submit, lead_time: leadTime } });
export const updateAnnotation = (id, version, regions, submit, leadTime) =>
  request("PUT", `/annotations/${id}`, {
    body: { regions, submit, lead_time: leadTime },
    headers: { "If-Match": `"${version}"` },
  });
export const annotation = (id) => request("GET", `/annotations/${id}`);
export const review = (id, version, accept, comment) =>
  request("POST", `/annotations/${id}/review`, { body: { accept, comment }, headers: { "If-Match": `"${version}"` } });

// --- export --------------------------------------------------------------
export const startExport = (projectId, format, filter) =>
  request("POST", `/projects/${projectId}/exports`, { body: { format, filter } });
export const exports = (projectId) => request("GET", `/projects/${projectId}/exports`);
export const job = (id) => request("GET", `/jobs/${id}`);
export const exportDownloadUrl = (id) => `${BASE}/exports/${id}/download`;

// --- quality and workflow (projects with a workflow) --------------------------
export const agreement = (projectId) => request("GET", `/projects/${projectId}/quality/agreement`);
export const scorecards = (projectId) => request("GET", `/projects/${projectId}/quality/annotators`);
export const confused = (projectId, top = 10) => request("GET", `/projects/${projectId}/quality/confused?top=${top}`);
export const qualityGate = (projectId) => request("GET", `/projects/${projectId}/quality/gate`);
export const nextAtStage = (projectId, stage) => request("POST", `/projects/${projectId}/workflow/next?stage=${encodeURIComponent(stage)}`);
export const assignment = (taskId) => request("GET", `/tasks/${taskId}/assignment`);
export const reviewTask = (taskId, accept, comment, regions) =>
  request("POST", `/tasks/${taskId}/review`, { body: { accept, comment, regions } });
export const adjudicate = (taskId, regions, sources, method) =>
  request("POST", `/tasks/${taskId}/adjudicate`, { body: { regions, sources, method } });

// --- uploads (multipart, with upload progress) -------------------------------
function upload(path, form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", BASE + path);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, "network", `upload to ${path} failed: network error`));
    xhr.onload = () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const err = (data && data.error) || {};
        reject(new ApiError(xhr.status, err.code || String(xhr.status), err.message || xhr.statusText, err.detail));
      }
    };
    xhr.send(form);
  });
}

export const uploadMedia = (projectId, file, onProgress) => {
  const form = new FormData();
  form.append("file", file);
  return upload(`/projects/${projectId}/media`, form, onProgress);
};

export const importInBackground = (projectId, file, { format, kind, model, modelVersion } = {}, onProgress) => {
  const form = new FormData();
  form.append("file", file);
  if (format) form.append("format", format);
  if (kind) form.append("kind", kind);
  if (model) form.append("model", model);
  if (modelVersion) form.append("model_version", modelVersion);
  return upload(`/projects/${projectId}/imports/background`, form, onProgress);
};
export const imports = (projectId) => request("GET", `/projects/${projectId}/imports`);
