// The desk's loans calls for a scan, with the request_id kept for an immediate retry of a scan whose answer was
// lost (desk_state.js), and what is true now when the server answered a retry with what it answered then.
import { api } from "./api.js";
import { deskState } from "./desk_state.js";
import { formatDateTime, t } from "./i18n.js";

/** Calls the loans API for a scan with the request_id of its intent (kept a short while when the answer is
 * lost). The loan, and `retryOf`: when the scan whose id it reused was, if it did (the server then answers
 * what it answered that scan, not what is true now). */
export async function scanCall(intent, copy, path, body) {
  const { requestId, retryOf } = deskState.request(intent, copy.barcode);
  try {
    const loan = await api(path, { method: "POST", body: { ...body, request_id: requestId } });
    deskState.answered(intent, copy, requestId, true);
    return { loan, retryOf };
  } catch (error) {
    deskState.answered(intent, copy, requestId, !error.retryable);
    throw error;
  }
}

/** The words for an answer the server kept for an earlier scan (its answer lost): said as that scan's. */
export function saidEarlier(retryOf) {
  return retryOf ? ` ${t("desk.earlier_answer", { time: formatDateTime(new Date(retryOf).toISOString()) })}` : "";
}

/** After an issue answered for an earlier scan: the loan it made, as it is now. Said "Issued" only if it is
 * still out to this patron; else a log entry saying nothing was issued now (null: it is still out). */
export async function issuedEarlierGone(loan, code, retryOf, atDesk) {
  const now = await api(`/v1/${loan.name}`).catch(() => loan);
  if (now.status === "LOAN_STATUS_ACTIVE" && now.patron === atDesk.name) return null;
  const time = formatDateTime(new Date(retryOf).toISOString());
  return { kind: "refused", barcode: code, text: t("desk.earlier_issue_gone", { barcode: code, time }) };
}

/** After a return answered for an earlier scan: a log entry if the copy has been lent again since (that loan
 * is still out: nothing was returned now), else null. */
export async function returnedEarlierOutAgain(loan, code, retryOf) {
  const copy = await api("/v1/copies:lookup", { query: { barcode: code } }).catch(() => null);
  if (!copy?.current_loan || copy.current_loan === loan.name) return null;
  const time = formatDateTime(new Date(retryOf).toISOString());
  return { kind: "refused", barcode: code, text: t("desk.earlier_return_out_again", { barcode: code, time }) };
}
