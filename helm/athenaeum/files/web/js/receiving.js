// Receiving a copy set aside for a hold (ReceiveHoldCopy): scanned at the desk of the librarian's home branch,
// it goes on the hold shelf there when that is the hold's pickup branch (the reader is told it is ready), or is
// to be sent on to the pickup branch. Shared by the desk's Receive mode and the pull list's scan field.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, newRequestId } from "./api.js";
import { html } from "./html.js";
import { errorText, formatDeadline, t } from "./i18n.js";
import { session } from "./session.js";
import { deskState } from "./desk_state.js";
import { saidEarlier } from "./desk_calls.js";

export const READY = "HOLD_STATUS_READY";
export const IN_TRANSIT = "HOLD_STATUS_IN_TRANSIT";
const LOG_LENGTH = 20;
// What the librarian does next about a refusal, beside the refusal itself.
const NEXT_STEP = {
  COPY_NOT_HELD: () => t("receive.not_held_next"),
  BARCODE_NOT_FOUND: () => t("receive.not_found_next"),
  COPY_IN_TRANSIT_HOME: (error) =>
    error.metadata?.branch ? t("receive.send_home_to", { branch: error.metadata.branch }) : t("receive.send_home_next"),
};

/** The branch the signed-in librarian works at (their account's home branch); "" when the account has none. */
export function deskBranch() {
  return (session.user?.home_branch || "").trim();
}

/** "Name (card)" of a patron, for a label on the copy; the resource name when it cannot be read. */
export async function patronLabel(name) {
  const patron = await api(`/v1/${name}`).catch(() => null);
  return patron ? `${patron.display_name || patron.email} (${patron.card_number})` : name;
}

// Answers that say the copy was taken in, the desk's next step done by the server (finding D3): signalled as a
// FailedPrecondition since no hold has the copy, but the scan succeeded (ReceiveHoldCopy's API reference lists
// them as done); logged as done, not refused.
const TAKEN_IN = {
  COPY_RECEIVED_HOME: (error, barcode) => t("receive.back_home", { barcode, branch: error.metadata?.branch || deskBranch() }),
  COPY_BRANCH_NOT_LISTED: (error, barcode) =>
    t("receive.branch_not_listed", { barcode, branch: error.metadata?.branch || "", desk: deskBranch() }),
  HOLD_PATRON_MAY_NOT_BORROW: (error, barcode) =>
    error.metadata?.home
      ? t("receive.passed_over_home", { barcode, branch: error.metadata.home })
      : t("receive.passed_over_shelf", { barcode }),
};

/** The log entry of a refusal that says the copy was taken in (the scan was done), as Receive and Return say it;
 * null for another refusal. */
export function takenIn(error, barcode) {
  const said = TAKEN_IN[error.reason];
  return said ? { kind: "ok", text: said(error, barcode), reason: error.reason } : null;
}

/** The log entry of a receipt that got no hold back: taken in, refused, or not known (its answer lost: the
 * request_id is kept for a rescan within two minutes, as the desk's Issue and Return do, finding D11). */
function notReceived(error, barcode) {
  const done = takenIn(error, barcode);
  if (done) return done;
  if (error.retryable) {
    const text = `${t("receive.not_known", { barcode })} ${errorText(error)} ${t("desk.scan_again")}`;
    return { kind: "unknown", text, barcode };
  }
  const next = NEXT_STEP[error.reason];
  const text = `${t("desk.refused", { barcode })} ${errorText(error)}${next ? ` ${next(error)}` : ""}`;
  return { kind: "refused", text, reason: error.reason };
}

/** Receives the copy scanned as `barcode` at the librarian's branch; a scan-log entry {kind, text, reason}. */
export async function receiveCopy(barcode) {
  const intent = `receive ${barcode}`;
  const { requestId, retryOf } = deskState.request(intent, barcode);
  let hold;
  try {
    const body = { barcode, branch: deskBranch(), request_id: requestId };
    hold = await api("/v1/holds:receive", { method: "POST", body });
    deskState.answered(intent, { barcode }, requestId, true);
  } catch (error) {
    deskState.answered(intent, { barcode }, requestId, !error.retryable);
    return notReceived(error, barcode);
  }
  const [patron, book] = await Promise.all([
    patronLabel(hold.patron),
    api(`/v1/${hold.book}`, { auth: false }).catch(() => null),
  ]);
  const title = book?.title || barcode;
  if (hold.status === READY) {
    const text = t("receive.to_hold_shelf", { title, barcode, patron, date: formatDeadline(hold.expire_time) });
    return { kind: "shelf", text: text + saidEarlier(retryOf) };
  }
  return { kind: "transit", text: t("receive.send_to", { title, barcode, patron, branch: hold.pickup_branch }) + saidEarlier(retryOf) };
}

/** A scan field and its log: each scan received in turn (a scanner may send the next code before the last
 * one is answered), the focus kept in the field. `onReceived` after each answer (the list shown changed). */
export function ReceiveScanner({ onReceived }) {
  const [barcode, setBarcode] = useState("");
  const [log, setLog] = useState([]);
  const queue = useRef(Promise.resolve());
  const field = useRef(null);
  useLayoutEffect(() => field.current?.focus(), []);

  function scan(event) {
    event.preventDefault();
    const code = barcode.trim();
    setBarcode(""); // at once: a second Enter finds the field empty and sends nothing
    if (!code) return;
    queue.current = queue.current.then(async () => {
      const entry = await receiveCopy(code);
      setLog((previous) => [{ id: newRequestId(), ...entry }, ...previous].slice(0, LOG_LENGTH));
      onReceived?.();
      field.current?.focus();
    });
  }

  const branch = deskBranch();
  return html`<div class="desk">
    <form class="card scan" onSubmit=${scan}>
      <label for="receive-barcode">${t("receive.scan")}</label>
      <input id="receive-barcode" ref=${field} value=${barcode} autocomplete="off"
        onInput=${(event) => setBarcode(event.currentTarget.value)} aria-describedby="receive-barcode-hint" />
      <span class="hint muted" id="receive-barcode-hint">${branch ? t("receive.at_branch", { branch }) : t("receive.no_branch")}</span>
    </form>
    <section aria-labelledby="receive-log-heading">
      <h2 id="receive-log-heading">${t("desk.log")}</h2>
      <ol class="scan-log" aria-live="polite" data-testid="receive-log">
        ${log.map(
          (entry) => html`<li key=${entry.id} class=${entry.kind} data-reason=${entry.reason || undefined}
            role=${entry.kind === "refused" ? "alert" : undefined}>${entry.text}</li>`,
        )}
      </ol>
      ${!log.length && html`<p class="muted">${t("desk.log_empty")}</p>`}
    </section>
  </div>`;
}
