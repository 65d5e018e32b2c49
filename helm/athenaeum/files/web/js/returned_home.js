// What the desk's Return says of a copy with no loan to end (finding D10): one coming home is received by the
// return as by Receive, and the answer (a refusal, as there is no loan) says what was done; for a copy set
// aside for a hold, what to do with it instead.
import { errorText, t } from "./i18n.js";

const READY = "READY";

/** A log entry for a Return scan whose refusal says the copy coming home was received; null for another one. */
export function receivedByReturn(barcode, error) {
  const { branch = "", pickup_branch: pickup = "", status = "" } = error.metadata || {};
  if (error.reason === "COPY_RECEIVED_HOME") return { kind: "ok", barcode, text: t("desk.received_home", { barcode, branch }) };
  if (error.reason !== "COPY_RECEIVED_FOR_HOLD") return null;
  if (status === READY) return { kind: "shelf", barcode, text: t("desk.received_for_hold_shelf", { barcode }) };
  return { kind: "transit", barcode, text: t("desk.received_send_on", { barcode, branch: pickup }) };
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
