// A patron's active loans and their renewal, for the reader's own account page and the staff patron page.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./html.js";
import { announce } from "./a11y.js";
import { errorText, formatDeadline, t } from "./i18n.js";
import { useAction, useAsync } from "./components.js";
import { fetchAll } from "./paging.js";

// How long Renew stays busy, at least, after the answer is shown on the card: a second tap that comes just
// after it (~0.5 s apart, on a phone) is the same intent, not a second renewal (finding P8: 0/2 became 2/2).
const SETTLE_MS = 1000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The patron's active loans (every page of them), `renew(loan)`, whether a renewal is under way, and what the
 * last one said, about which loan: { loan, ok: true, text } or { loan, ok: false, error }. */
export function useRenewableLoans(patron) {
  const loans = useAsync(
    () => fetchAll(`/v1/${patron}/loans`, { query: { status: "LOAN_STATUS_ACTIVE" }, field: "loans" }),
    [patron],
  );
  const [message, setMessage] = useState(null);
  const renewal = useAction();
  async function renew(loan) {
    if (renewal.busy) return;
    setMessage(null);
    try {
      await renewal.run({ renew: loan.name }, async (request_id) => {
        const renewed = await api(`/v1/${loan.name}:renew`, { method: "POST", body: { request_id } });
        // The card tapped shows the renewed loan (new due time, count) at once, not after the list's reload; the
        // button stays busy until that reload is in and a moment more.
        loans.update((list) => (list || []).map((shown) => (shown.name === renewed.name ? renewed : shown)));
        const text = t("loans.renewed", { title: renewed.book_title, date: formatDeadline(renewed.due_time) });
        setMessage({ loan: loan.name, ok: true, text });
        announce(text);
        await Promise.all([loans.reload(), pause(SETTLE_MS)]);
        return renewed;
      });
    } catch (error) {
      setMessage({ loan: loan.name, ok: false, error });
      announce(`${t("loans.renew_refused")} ${errorText(error)}`, { alert: true });
    }
  }
  return { loans, message, renew, busy: renewal.busy };
}

/** What the last renewal said, under the Renew button of the loan it is about: on a phone the loans are a column
 * of cards and a message above the list was off the screen (finding P8). Said through the app's live lines
 * (renew()), so it has no role of its own. */
export function RenewResult({ message, loan }) {
  if (message?.loan !== loan.name) return null;
  if (message.ok) return html`<p class="notice ok renew-result" data-testid="renew-result">${message.text}</p>`;
  return html`<div class="notice error renew-result" data-testid="renew-result">
    <strong>${t("loans.renew_refused")}</strong>${errorText(message.error)}
  </div>`;
}
