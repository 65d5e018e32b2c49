// What the circulation desk keeps across a session end, a re-sign-in and a visit to another page (in this
// tab's sessionStorage): the scan log, the patron at the desk, the mode, and the request_id of each scan
// that got no answer, so that scanning it again is the same intent and gets the first call's answer
// (AIP-155) rather than a second, refused one. Such an id stands only for the immediate retry: the server
// answers a reused id with what it answered then, so an id kept until a later, new issue or return of the
// copy made the desk say "Issued"/"Returned" while nothing was done. It is dropped after RETRY_WINDOW_MS,
// at any other scan or answer about the copy, and (an issue's) when the patron at the desk changes.
import { newRequestId } from "./api.js";

const KEY = "athenaeum.desk";
const LOG_LENGTH = 20;
export const RETRY_WINDOW_MS = 2 * 60_000;
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

/** The kept ids still good for a retry ({id, at, barcode, patron}; an id kept by an older page is dropped). */
function fresh(pending, now = Date.now()) {
  const kept = Object.entries(pending || {}).filter(([, entry]) => entry?.id && now - entry.at < RETRY_WINDOW_MS);
  return Object.fromEntries(kept);
}

function save(changes) {
  desk = { ...desk, ...changes };
  desk.pending = fresh(desk.pending);
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
  /** Another patron at the desk: the ids kept for issues to anyone else are not theirs to retry. */
  setPatron(patron) {
    const kept = Object.entries(desk.pending).filter(([, entry]) => !entry.patron || entry.patron === patron?.name);
    save({ patron, pending: Object.fromEntries(kept) });
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
  /** The request for a scan of `intent` about `barcode`: the id a scan of the same intent used when its answer
   * was lost within RETRY_WINDOW_MS (`retryOf` says when that scan was: a retry), or a new one. A scan of the
   * copy with another intent is a new step, after which the ids kept for the copy can only mislead. */
  request(intent, barcode) {
    const kept = fresh(desk.pending)[intent];
    deskState.forgetCopy(barcode, intent);
    return kept ? { requestId: kept.id, retryOf: kept.at } : { requestId: newRequestId(), retryOf: null };
  },
  /** After an answer: keep the id for an immediate retry when it said nothing final, else forget every id kept
   * for the copy (the answer is the latest word about it). */
  answered(intent, { barcode, patron = "" }, requestId, final) {
    if (final) return deskState.forgetCopy(barcode);
    save({ pending: { ...desk.pending, [intent]: { id: requestId, at: Date.now(), barcode, patron } } });
  },
  /** Drops the ids kept for scans of `barcode` (but the one of intent `except`). */
  forgetCopy(barcode, except = null) {
    const kept = Object.entries(desk.pending).filter(([intent, entry]) => intent === except || entry.barcode !== barcode);
    if (kept.length !== Object.keys(desk.pending).length) save({ pending: Object.fromEntries(kept) });
  },
};
