// What the circulation desk keeps across a session end, a re-sign-in and a visit to another page (in this
// tab's sessionStorage): the scan log, the patron at the desk, the mode, and the request_id of each scan
// that got no answer, so that scanning it again is the same intent and gets the first call's answer
// (AIP-155) rather than a second, refused one.
import { newRequestId } from "./api.js";

const KEY = "athenaeum.desk";
const LOG_LENGTH = 20;
const listeners = new Set();
const EMPTY = { owner: "", mode: "issue", patron: null, log: [], pending: {} };

function read() {
  try {
    return { ...EMPTY, ...JSON.parse(sessionStorage.getItem(KEY) || "{}") };
  } catch {
    return { ...EMPTY };
  }
}

// A "sent…" row left by a page that was closed or reloaded before its answer: nobody will settle it now, so
// it says the result is not known (its words are chosen when shown: the language is not loaded yet here).
let desk = read();
desk.log = desk.log.map((entry) => (entry.kind === "sent" ? { ...entry, kind: "unknown", text: null } : entry));

function save(changes) {
  desk = { ...desk, ...changes };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(desk));
  } catch {
    // storage full or refused: the desk still works, it only forgets on a reload
  }
  listeners.forEach((listener) => listener(desk));
}

export const deskState = {
  get current() {
    return desk;
  },
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** The desk of `owner` ("users/…"): another staff member signing in on this tab starts with an empty one. */
  claim(owner) {
    if (desk.owner !== owner) save({ ...EMPTY, owner });
  },
  clear() {
    save({ ...EMPTY });
  },
  setMode(mode) {
    save({ mode });
  },
  setPatron(patron) {
    save({ patron });
  },
  /** Adds a row at the top of the log; its id, to settle it later. */
  record(entry) {
    const id = newRequestId();
    save({ log: [{ id, ...entry }, ...desk.log].slice(0, LOG_LENGTH) });
    return id;
  },
  /** Puts `entry` in place of the row `id` (a "sent…" row answered); on top if that row is gone. */
  settle(id, entry) {
    if (!desk.log.some((row) => row.id === id)) return deskState.record(entry);
    save({ log: desk.log.map((row) => (row.id === id ? { id, ...entry } : row)) });
    return id;
  },
  remove(id) {
    save({ log: desk.log.filter((row) => row.id !== id) });
  },
  /** The request_id for this scan: the one a scan of the same intent that got no answer used, or a new one. */
  requestId(intent) {
    return desk.pending[intent] || newRequestId();
  },
  /** After an answer: keep the id for a retry when it said nothing final, else forget it. */
  answered(intent, requestId, final) {
    const pending = { ...desk.pending };
    if (final) delete pending[intent];
    else pending[intent] = requestId;
    save({ pending });
  },
};
