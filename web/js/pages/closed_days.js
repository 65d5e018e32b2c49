// The library's calendar under the rules matrix: the days it is closed, earliest first, from today on. Admins
// close a day (date and reason) and open it again; a loan or pickup deadline that would end on one moves to the
// next open day. Librarians read it.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, formatDate, t } from "../i18n.js";
import { session } from "../session.js";
import { ErrorNotice, Loading, Notice, useListChange, useAsync } from "../components.js";
import { fetchAll } from "../paging.js";
import { keepFocus } from "../a11y.js";

/** Today's date in this browser, as YYYY-MM-DD: the list starts there (past closures change nothing). */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

const openAgainId = (day) => `open-again-${day.date}`;

export function ClosedDays() {
  const days = useAsync(() => fetchAll("/v1/closedDays", { query: { start_date: today() }, field: "closed_days" }), []);
  const [draft, setDraft] = useState({ date: "", reason: "" });
  const change = useListChange(() => days.reload());
  const { act, message, error } = change;
  const editable = session.isAdmin();

  async function add(event) {
    event.preventDefault();
    const body = { date: draft.date, reason: draft.reason.trim() };
    const call = (request_id) => api("/v1/closedDays", { method: "POST", body, query: { request_id } });
    if (await act(body, call, { added: true, date: draft.date })) setDraft({ date: "", reason: "" });
  }

  function remove(day) {
    if (change.busy) return undefined;
    // The day's line goes with its button: the focus goes to the next day's "Open again" (or the one before,
    // or the date field), not to <body> (finding A7).
    const list = days.data || [];
    const at = list.findIndex((item) => item.name === day.name);
    const neighbour = list[at + 1] || list[at - 1];
    keepFocus(undefined, neighbour ? openAgainId(neighbour) : "closed-day-date");
    const call = (request_id) => api(`/v1/${day.name}`, { method: "DELETE", query: { request_id } });
    return act({ remove: day.name }, call, { added: false, date: day.date });
  }

  const dateProblem = fieldText(error, "closed_day.date");
  return html`<section aria-labelledby="closed-days-title">
    <h2 id="closed-days-title">${t("closed_days.title")}</h2>
    <p class="muted">${t("closed_days.intro")}</p>
    ${message && html`<${Notice}>${message.added ? t("closed_days.added", { date: formatDate(message.date) })
      : t("closed_days.deleted", { date: formatDate(message.date) })}<//>`}
    <${ErrorNotice} error=${days.error || error} />
    ${days.loading && !days.data && html`<${Loading} />`}
    ${days.data &&
    (days.data.length
      ? html`<ul class="closed-days" data-testid="closed-days">
          ${days.data.map((day) => html`<li key=${day.name}>
            <strong>${formatDate(day.date)}</strong>${day.reason && html` — ${day.reason}`}
            ${editable && html` <button type="button" id=${openAgainId(day)} class="button small quiet" onClick=${() => remove(day)}
              aria-label=${t("closed_days.delete_named", { date: formatDate(day.date) })}
              aria-disabled=${change.busy ? "true" : undefined}>${t("closed_days.delete")}</button>`}
          </li>`)}
        </ul>`
      : html`<p>${t("closed_days.none")}</p>`)}
    ${editable &&
    html`<form class="card form-narrow" onSubmit=${add}>
      <label for="closed-day-date">${t("closed_days.date")}</label>
      <input id="closed-day-date" type="date" required value=${draft.date} min=${today()}
        onInput=${(event) => setDraft({ ...draft, date: event.currentTarget.value })}
        aria-invalid=${dateProblem ? "true" : undefined} aria-describedby=${dateProblem ? "closed-day-date-error" : undefined} />
      ${dateProblem && html`<span class="error" id="closed-day-date-error">${dateProblem}</span>`}
      <label for="closed-day-reason">${t("closed_days.reason")}</label>
      <input id="closed-day-reason" maxlength="200" value=${draft.reason} placeholder=${t("closed_days.reason_example")}
        onInput=${(event) => setDraft({ ...draft, reason: event.currentTarget.value })} />
      <button type="submit" class="button small" aria-disabled=${change.busy ? "true" : undefined}>${t("closed_days.add")}</button>
    </form>`}
  </section>`;
}
