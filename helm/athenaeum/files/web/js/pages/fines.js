// Fines for staff: every outstanding fine (or one patron's), each with pay and waive.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { fieldText, fineText, t, typedAmount } from "../i18n.js";
import { DateText, ErrorNotice, Loading, Money, Notice, TotalOwed, useAction, useAsync, useOverdueLoanTitles, useTitle } from "../components.js";

export function FinesPage() {
  useTitle(t("fines.staff_title"));
  return html`<h1 tabindex="-1">${t("fines.staff_title")}</h1><${FinesTable} />`;
}

/** Outstanding fines (of `patron` when given) with what was paid and what is owed; staff can settle them. */
export function FinesTable({ patron }) {
  const path = patron ? `/v1/${patron}/fines` : "/v1/fines";
  const fines = useAsync(() => api(path, { query: { status: "FINE_STATUS_OUTSTANDING", page_size: 100 } }), [path]);
  const [message, setMessage] = useState(null);
  const list = fines.data?.fines || [];
  const names = usePatronNames(patron ? [] : list);
  const loanTitles = useOverdueLoanTitles(list);
  const done = (text) => {
    setMessage({ text });
    fines.reload();
  };
  return html`<section aria-labelledby="staff-fines-heading">
    <h2 id="staff-fines-heading">${t("fines.outstanding_heading")}</h2>
    ${message && html`<${Notice}>${message.text}<//>`}
    <${ErrorNotice} error=${fines.error} />
    ${fines.loading && !fines.data && html`<${Loading} />`}
    ${fines.data &&
    html`<p><${TotalOwed} total=${fines.data.outstanding_total} currency=${list[0]?.currency_code} /></p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks">
      <thead><tr>
        ${!patron && html`<th scope="col">${t("fines.patron")}</th>`}
        <th scope="col">${t("fines.what")}</th><th scope="col">${t("fines.date")}</th>
        <th scope="col" class="num">${t("fines.outstanding")}</th><th scope="col">${t("fines.settle")}</th>
      </tr></thead>
      <tbody>${list.map((fine) => html`<${FineRow} key=${`${fine.name}@${fine.outstanding_amount}`} fine=${fine} showPatron=${!patron} patronName=${names[fine.patron]} loanTitle=${loanTitles[fine.loan]} onDone=${done} />`)}</tbody>
    </table></div>`}
  </section>`;
}

// Keyed by what is still owed: after a part payment the row starts again from the new amount.
/** The names of the patrons who owe `fines` (a fine names only its patron's resource). */
function usePatronNames(fines) {
  const patrons = [...new Set(fines.map((fine) => fine.patron))].sort();
  const names = useAsync(async () => {
    const users = await Promise.all(patrons.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(users.filter(Boolean).map((user) => [user.name, user.display_name || user.email]));
  }, [patrons.join(",")]);
  return names.data || {};
}

function FineRow({ fine, showPatron, patronName, loanTitle, onDone }) {
  const [amount, setAmount] = useState(fine.outstanding_amount);
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const settle = useAction();
  const id = idOf(fine.name);
  async function act(verb, body, text) {
    setError(null);
    try {
      const intent = { fine: fine.name, verb, ...body };
      const done = await settle.run(intent, (request_id) => api(`/v1/${fine.name}:${verb}`, { method: "POST", body: { ...body, request_id } }));
      if (done) onDone(text);
    } catch (failure) {
      setError(failure);
    }
  }
  const pay = () => act("pay", { amount: typedAmount(amount), payment_method: "desk" }, t("fines.paid"));
  const waive = () => act("waive", { reason }, t("fines.waived"));
  return html`<tr>
    ${showPatron && html`<td><a href=${`#/patrons/${idOf(fine.patron)}`}>${patronName || t("fines.open_patron")}</a></td>`}
    <td data-label=${showPatron ? t("fines.what") : undefined}>${fineText(fine, loanTitle)}</td>
    <td data-label=${t("fines.date")}><${DateText} iso=${fine.create_time} /></td>
    <td class="num" data-label=${t("fines.outstanding")}><${Money} amount=${fine.outstanding_amount} currency=${fine.currency_code} /></td>
    <td data-label=${t("fines.settle")}>
      <div class="actions">
        <label class="visually-hidden" for=${`pay-${id}`}>${t("fines.pay_amount")}</label>
        <input id=${`pay-${id}`} class="wide" inputmode="decimal" value=${amount} onInput=${(event) => setAmount(event.currentTarget.value)} />
        <button type="button" class="button small" onClick=${pay} disabled=${settle.busy}>${t("fines.pay")}</button>
      </div>
      <div class="actions">
        <label class="visually-hidden" for=${`waive-${id}`}>${t("fines.waive_reason")}</label>
        <input id=${`waive-${id}`} class="wide" placeholder=${t("fines.waive_reason")} value=${reason}
          onInput=${(event) => setReason(event.currentTarget.value)} />
        <button type="button" class="button small quiet" onClick=${waive} disabled=${settle.busy}>${t("fines.waive")}</button>
      </div>
      <${ErrorNotice} error=${error} />
      ${fieldText(error, "amount", "reason") && html`<span class="error">${fieldText(error, "amount", "reason")}</span>`}
    </td>
  </tr>`;
}
