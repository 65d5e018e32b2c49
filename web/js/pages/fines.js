// Fines for staff: every fine (or one patron's) in a status, a page at a time with how many are shown, each
// outstanding one with pay and waive. Filters: a patron (card number or e-mail) and a status.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { amountForTyping, fieldText, fineText, formatMoney, language, t, typedAmount } from "../i18n.js";
import { navigate } from "../router.js";
import { DateText, ErrorNotice, Loading, Money, TotalOwed, markedTitle, useAction, useAsync, useOverdueLoanTitles, useRouteForm, useTitle } from "../components.js";
import { PagedCount, sumDecimals, usePaged } from "../paging.js";

const OUTSTANDING = "FINE_STATUS_OUTSTANDING";
const STATUSES = [OUTSTANDING, "FINE_STATUS_PAID", "FINE_STATUS_WAIVED", ""];

export function FinesPage({ route }) {
  const who = route.query.get("patron") || "";
  const status = route.query.has("status") ? route.query.get("status") : OUTSTANDING;
  const [form, setForm] = useRouteForm({ who, status }, `${who}\n${status}`); // Back and Forward: the form says what is shown
  useTitle(t("fines.staff_title"));
  const patron = useAsync(() => (who ? findPatron(who) : Promise.resolve(null)), [who]);
  function submit(event) {
    event.preventDefault();
    navigate("/fines", { patron: form.who.trim(), status: form.status || "any" });
  }
  return html`<h1 tabindex="-1">${t("fines.staff_title")}</h1>
    <form class="card filters-form" onSubmit=${submit} aria-label=${t("fines.filters")}>
      <div class="form-grid">
        <div class="field"><label for="fines-patron">${t("fines.filter_patron")}</label>
          <input id="fines-patron" value=${form.who} autocomplete="off" onInput=${(event) => setForm({ ...form, who: event.currentTarget.value })} /></div>
        <div class="field"><label for="fines-status">${t("fines.status")}</label>
          <select id="fines-status" value=${form.status === "any" ? "" : form.status} onChange=${(event) => setForm({ ...form, status: event.currentTarget.value })}>
            ${STATUSES.map((code) => html`<option value=${code}>${t(code ? `fines.status_filter.${code}` : "fines.status_filter.any")}</option>`)}
          </select></div>
      </div>
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    <${ErrorNotice} error=${patron.error} />
    ${who && patron.loading && html`<${Loading} />`}
    ${who && patron.data && !patron.data.user && html`<p class="notice" role="status">${patron.data.count ? t("fines.patron_ambiguous", { who }) : t("fines.patron_unknown", { who })}</p>`}
    ${who && patron.data?.user &&
    html`<p>${t("fines.of_patron")} <a href=${`#/patrons/${idOf(patron.data.user.name)}`}>${patron.data.user.display_name || patron.data.user.email}</a></p>`}
    ${(!who || patron.data?.user) && html`<${FinesTable} key=${patron.data?.user?.name || ""} patron=${patron.data?.user?.name} status=${status === "any" ? "" : status} />`}`;
}

/** The one patron a card number or e-mail names: an exact match first, else the only one found. */
async function findPatron(text) {
  const data = await api("/v1/users", { query: { query: text, page_size: 10 } });
  const users = data.users || [];
  const wanted = text.toLowerCase();
  const exact = users.filter((user) => user.card_number === text || (user.email || "").toLowerCase() === wanted);
  if (exact.length === 1) return { user: exact[0] };
  return users.length === 1 ? { user: users[0] } : { user: null, count: users.length };
}

/** Fines (of `patron` when given) in `status` with what is owed; staff can settle the outstanding ones. */
export function FinesTable({ patron, status = OUTSTANDING }) {
  const path = patron ? `/v1/${patron}/fines` : "/v1/fines";
  const fines = usePaged(
    (page_token) =>
      api(path, { query: { status, page_size: 100, page_token } }).then((data) => ({
        items: data.fines || [],
        next: data.next_page_token,
        total: data.total_size,
        outstanding_total: data.outstanding_total,
      })),
    [path, status],
  );
  const [message, setMessage] = useState(null);
  const list = fines.items;
  const names = usePatronNames(patron ? [] : list);
  const loanTitles = useOverdueLoanTitles(list);
  const currency = list[0]?.currency_code;
  const notice = useRef(null);
  // The paid or waived row is drawn anew (or leaves the list): the focus goes to what was done, not to <body>.
  useLayoutEffect(() => {
    if (message) notice.current?.focus();
  }, [message]);
  const done = (text) => {
    setMessage({ text });
    fines.reload();
  };
  return html`<section aria-labelledby="staff-fines-heading">
    <h2 id="staff-fines-heading">${status === OUTSTANDING ? t("fines.outstanding_heading") : t(status ? `fines.status_filter.${status}` : "fines.heading")}</h2>
    ${message && html`<div class="notice ok" role="status" tabindex="-1" ref=${notice} data-testid="fines-done">${message.text}</div>`}
    <${ErrorNotice} error=${fines.error} />
    ${fines.loading && !fines.loaded && html`<${Loading} />`}
    ${fines.loaded && html`<p data-testid="fines-total"><${TotalOwed} total=${fines.last?.outstanding_total} currency=${currency} /></p>`}
    ${fines.next && html`<p class="notice" data-testid="fines-shown-sum">
      ${t("fines.shown_sum", { amount: formatMoney(sumDecimals(list.map((fine) => fine.outstanding_amount)), currency) })}</p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks">
      <thead><tr>
        ${!patron && html`<th scope="col">${t("fines.patron")}</th>`}
        <th scope="col">${t("fines.what")}</th><th scope="col">${t("fines.date")}</th>
        <th scope="col" class="num">${t("fines.outstanding")}</th><th scope="col">${t("fines.settle")}</th>
      </tr></thead>
      <tbody>${list.map((fine) => html`<${FineRow} key=${`${fine.name}@${fine.outstanding_amount}`} fine=${fine} showPatron=${!patron} patronName=${names[fine.patron]} loanTitle=${loanTitles[fine.loan]} onDone=${done} />`)}</tbody>
    </table></div>`}
    <${PagedCount} list=${fines} />
  </section>`;
}

/** What was paid of a charge withdrawn (a lost book found) and is owed back to the patron: the fine's
 * `refund_amount`, handed back at the desk when the book came in. Empty when nothing is owed back. */
function refundText(fine) {
  if (!(Number(fine.refund_amount || "0") > 0)) return "";
  return ` · ${t("fines.refund_due", { amount: formatMoney(fine.refund_amount, fine.currency_code) })}`;
}

/** The names of the patrons who owe `fines` (a fine names only its patron's resource). */
function usePatronNames(fines) {
  const patrons = [...new Set(fines.map((fine) => fine.patron))].sort();
  const names = useAsync(async () => {
    const users = await Promise.all(patrons.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(users.filter(Boolean).map((user) => [user.name, user.display_name || user.email]));
  }, [patrons.join(",")]);
  return names.data || {};
}

// Keyed by what is still owed: after a part payment the row starts again from the new amount.
function FineRow({ fine, showPatron, patronName, loanTitle, onDone }) {
  // The amount is prefilled in the page's notation ("12,50" in ru, as the row says), again after a switch of
  // language; once typed, it is the user's and stays across the switch, read in the notation it was typed in.
  const [typed, setTyped] = useState(null); // { text, lang }
  const amount = typed ? typed.text : amountForTyping(fine.outstanding_amount);
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
  // Forms: Enter in the amount pays, in the reason waives, as everywhere else in the client.
  const pay = (event) => {
    event.preventDefault();
    act("pay", { amount: typedAmount(amount, typed?.lang), payment_method: "desk" }, t("fines.paid"));
  };
  const waive = (event) => {
    event.preventDefault();
    act("waive", { reason }, t("fines.waived"));
  };
  // A refused amount or reason is said in words, in the alert and tied to its field (finding A11: only the
  // generic "Some of the details are not valid." was said, the reason a loose span beside it).
  const amountProblem = fieldText(error, "amount");
  const problem = amountProblem || fieldText(error, "reason");
  const problemId = `${amountProblem ? "pay" : "waive"}-${id}-error`;
  const tie = (which) => (problem && problemId.startsWith(which) ? { "aria-invalid": "true", "aria-describedby": problemId } : {});
  return html`<tr>
    ${showPatron && html`<td><a href=${`#/patrons/${idOf(fine.patron)}`}>${patronName || t("fines.open_patron")}</a></td>`}
    <td data-label=${showPatron ? t("fines.what") : undefined}>${fineText(fine, loanTitle, markedTitle(fine))}</td>
    <td data-label=${t("fines.date")}><${DateText} iso=${fine.create_time} /></td>
    <td class="num" data-label=${t("fines.outstanding")}><${Money} amount=${fine.outstanding_amount} currency=${fine.currency_code} /></td>
    <td data-label=${t("fines.settle")}>
      ${fine.status !== OUTSTANDING ? html`${t(`fine_status.${fine.status}`)}${refundText(fine)}` : html`<form class="actions" onSubmit=${pay}>
        <label class="visually-hidden" for=${`pay-${id}`}>${t("fines.pay_amount")}</label>
        <input id=${`pay-${id}`} class="wide" inputmode="decimal" value=${amount} onInput=${(event) => setTyped({ text: event.currentTarget.value, lang: language() })} ...${tie("pay")} />
        <button type="submit" class="button small" aria-disabled=${settle.busy ? "true" : undefined}>${t("fines.pay")}</button>
      </form>
      <form class="actions" onSubmit=${waive}>
        <label class="visually-hidden" for=${`waive-${id}`}>${t("fines.waive_reason")}</label>
        <input id=${`waive-${id}`} class="wide" placeholder=${t("fines.waive_reason")} value=${reason}
          onInput=${(event) => setReason(event.currentTarget.value)} ...${tie("waive")} />
        <button type="submit" class="button small quiet" aria-disabled=${settle.busy ? "true" : undefined}>${t("fines.waive")}</button>
      </form>
      ${problem ? html`<span class="error" role="alert" id=${problemId}>${problem}</span>` : html`<${ErrorNotice} error=${error} />`}`}
    </td>
  </tr>`;
}
