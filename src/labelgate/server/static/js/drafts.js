// Drafts: every change is written to localStorage at once and to the server's annotation (as a
// draft) after a short pause, one save in flight at a time. On reopening a task, edits that never
// reached the server are restored from localStorage; a stale write (409) is reported, never forced.

import * as api from "./api.js";

const PREFIX = "labelgate:draft:";

export class DraftStore {
  constructor({ userId, taskId, annotation, delay = 500, onStatus = () => {} }) {
    this.key = `${PREFIX}${userId}:${taskId}`;
    this.taskId = taskId;
    this.ann = annotation ? { id: annotation.id, version: annotation.version } : null;
    this.delay = delay;
    this.onStatus = onStatus;
    this.timer = 0;
    this.inflight = null;
    this.pending = null;
    this.opened = performance.now();
    this.baseLead = (annotation && annotation.lead_time) || 0;
  }

  leadTime() {
    return Math.round((this.baseLead + (performance.now() - this.opened) / 1000) * 1000) / 1000;
  }

  /** The regions to start from: unsaved local edits if they build on the server's version. */
  restore(serverRegions) {
    let local = null;
    try { local = JSON.parse(localStorage.getItem(this.key) || "null"); } catch { local = null; }
    if (local && local.pending) {
      const sameBase = this.ann ? local.annId === this.ann.id && local.version === this.ann.version : local.annId == null;
      if (sameBase) {
        this.change(local.regions);
        return { regions: local.regions, restored: true };
      }
    }
    return { regions: serverRegions, restored: false };
  }

  change(regions) {
    this.pending = regions;
    this._writeLocal(regions, true);
    this.onStatus("unsaved");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delay);
  }

  _writeLocal(regions, pending) {
    const rec = { regions, pending, annId: this.ann ? this.ann.id : null, version: this.ann ? this.ann.version : null, t: Date.now() };
    try { localStorage.setItem(this.key, JSON.stringify(rec)); } catch (e) { this.onStatus("local storage full: " + e.message); }
  }

  async _save(regions, submit) {
    const lead = this.leadTime();
    const out = this.ann
      ? await api.updateAnnotation(this.ann.id, this.ann.version, regions, submit, lead)
      : await api.createAnnotation(this.taskId, regions, submit, lead);
    this.ann = { id: out.id, version: out.version };
    return out;
  }

  /** Send the latest change to the server (waits for a save already in flight). */
  async flush() {
    clearTimeout(this.timer);
    while (this.inflight) await this.inflight.catch(() => {});
    if (this.pending == null) return;
    const regions = this.pending;
    this.pending = null;
    this.onStatus("saving");
    this.inflight = this._save(regions, false);
    try {
      await this.inflight;
      if (this.pending == null) {
        this._writeLocal(regions, false);
        this.onStatus("saved");
      }
    } catch (e) {
      this.pending = this.pending ?? regions;
      this.onStatus(e.status === 409 ? "conflict: this annotation was saved elsewhere; reload the task" : "not saved: " + e.message);
      throw e;
    } finally {
      this.inflight = null;
    }
  }

  async submit(regions) {
    clearTimeout(this.timer);
    while (this.inflight) await this.inflight.catch(() => {});
    this.pending = null;
    this.onStatus("submitting");
    const out = await this._save(regions, true);
    localStorage.removeItem(this.key);
    this.onStatus("submitted");
    return out;
  }

  dispose() {
    clearTimeout(this.timer);
  }
}
