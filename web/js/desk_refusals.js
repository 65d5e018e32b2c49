// What the desk says of a refused scan beyond the refusal's words. Return (finding D10): a copy coming home, or in
// transit for a hold, is received by the return as by Receive, and the answer (a refusal, as there is no loan)
// says what was done: logged as done, not refused; for a copy on the hold shelf, what to do with it instead.
// Issue (finding D14): a copy that may not be lent is said to be on loan, lost… or on the hold shelf for whom,
// until when, so the librarian swaps it.
import { errorText, formatDeadline, t } from "./i18n.js";
import { patronLabel, takenIn } from "./receiving.js";

const READY = "READY";

/** A log entry for a Return scan whose refusal says the copy was received (coming home, or in transit for a
 * hold: the return did what Receive does), with the refusal's reason; null for another refusal. */
export async function receivedByReturn(barcode, error) {
  const entry = await received(barcode, error);
  return entry && { ...entry, barcode, reason: error.reason };
}

async function received(barcode, error) {
  const { branch = "", pickup_branch: pickup = "", status = "", patron = "" } = error.metadata || {};
  if (error.reason === "COPY_RECEIVED_HOME") return { kind: "ok", barcode, text: t("desk.received_home", { barcode, branch }) };
  const done = takenIn(error, barcode); // as Receive says it: the hold passed over, a copy of an unlisted branch
  if (done) return done;
  if (error.reason !== "COPY_RECEIVED_FOR_HOLD") return null;
  if (error.metadata?.came_home !== "false") {
    if (status === READY) return { kind: "shelf", barcode, text: t("desk.received_for_hold_shelf", { barcode }) };
    return { kind: "transit", barcode, text: t("desk.received_send_on", { barcode, branch: pickup }) };
  }
  const reader = patron ? await patronLabel(patron).catch(() => patron) : "";
  if (status === READY) return { kind: "shelf", barcode, text: t("desk.received_hold_copy_shelf", { barcode, patron: reader }) };
  return { kind: "transit", barcode, text: t("desk.received_hold_copy_send_on", { barcode, branch: pickup, patron: reader }) };
}

/** A Return refusal in words, with what to do with the copy in hand when the refusal says it. */
export function returnRefusalText(error) {
  const { branch = "", status = "" } = error.metadata || {};
  const next = {
    COPY_IN_TRANSIT_HOME: () => t("desk.send_home_next", { branch }),
    COPY_NOT_ON_LOAN: () => (status === "IN_TRANSIT" ? t("desk.not_on_loan_in_transit") : status === "ON_HOLD_SHELF" ? t("desk.not_on_loan_held") : ""),
  }[error.reason];
  const hint = next ? next() : "";
  return hint ? `${errorText(error)} ${hint}` : errorText(error);
}

/** An Issue refusal in words: for COPY_NOT_AVAILABLE, the copy's status, and the hold it is set aside for (whose,
 * where, until when: IssueLoan is staff-only) when it is. */
export async function issueRefusalText(error) {
  const said = error.metadata || {};
  if (error.reason !== "COPY_NOT_AVAILABLE" || !said.status) return errorText(error);
  const key = `copy_status.COPY_STATUS_${said.status}`;
  if (!said.hold) return t("desk.not_lendable", { status: t(key) === key ? said.status : t(key) });
  const patron = said.patron ? await patronLabel(said.patron).catch(() => said.patron) : "";
  const branch = said.pickup_branch || t("hold.any_branch");
  if (said.hold_status === "READY") return t("desk.held_on_shelf", { patron, branch, date: formatDeadline(said.expire_time) });
  return t("desk.held_in_transit", { patron, branch });
}
