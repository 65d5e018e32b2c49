// A patron's active loans and their renewal, for the reader's own account page and the staff patron page.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { formatDeadline, t } from "./i18n.js";
import { useAction, useAsync } from "./components.js";
import { fetchAll } from "./paging.js";

/** The patron's active loans (every page of them), `renew(loan)`, whether a renewal is under way, and what the
 * last one said: { ok: true, text } or { ok: false, error }. */
export function useRenewableLoans(patron) {
  const loans = useAsync(
    () => fetchAll(`/v1/${patron}/loans`, { query: { status: "LOAN_STATUS_ACTIVE" }, field: "loans" }),
    [patron],
  );
  const [message, setMessage] = useState(null);
  const renewal = useAction();
  async function renew(loan) {
    setMessage(null);
    try {
      const renewed = await renewal.run({ renew: loan.name }, (request_id) =>
        api(`/v1/${loan.name}:renew`, { method: "POST", body: { request_id } }),
      );
      if (!renewed) return;
      setMessage({ ok: true, text: t("loans.renewed", { title: renewed.book_title, date: formatDeadline(renewed.due_time) }) });
      loans.reload();
    } catch (error) {
      setMessage({ ok: false, error });
    }
  }
  return { loans, message, renew, busy: renewal.busy };
}
