// A small activity dashboard for admins: loans per day over the last two weeks and the most borrowed books,
// from the events service's audit of "athenaeum.loans.loan_issued" (its AggregateEvents RPC). Should the events
// service answer 501 / UNIMPLEMENTED (an older mesh), the page says so instead of showing empty charts.
// AUDIT only: the mesh records its own events so, and a reader never could; an ACTIVITY event of this type in an
// older log was a client's forgery (clients may no longer record the mesh's types at all).
import { api } from "../api.js";
import { html } from "../html.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { ErrorNotice, Loading, NotYetAvailable, useAsync, useTitle } from "../components.js";

const DAYS = 14;
const TOP = 10;
const LOANS = 'type = "athenaeum.loans.loan_issued" AND category = AUDIT';

/** Loans per UTC day over the last two weeks (oldest first, empty days included) and the most borrowed
 * books, counted by the events service (AggregateEvents), not in the browser. */
async function loanActivity() {
  const start = new Date(Date.now() - (DAYS - 1) * 86_400_000); // today and the 13 days before it
  start.setUTCHours(0, 0, 0, 0);
  const range = { start_time: start.toISOString(), end_time: new Date(Date.now() + 60_000).toISOString(), filter: LOANS };
  const [days, books] = await Promise.all([
    api("/v1/events:aggregate", { query: { ...range, interval: "AGGREGATION_INTERVAL_DAY" } }),
    api("/v1/events:aggregate", { query: { ...range, group_by: "attributes.loan.book_title", top: TOP } }),
  ]);
  return { perDay: perDay(days.counts || [], start), top: (books.counts || []).map((c) => [c.key || "?", Number(c.count)]) };
}

/** Every day of the range with its count (days without loans count 0). */
export function perDay(counts, start) {
  const days = new Map();
  for (let day = 0; day < DAYS; day += 1) days.set(new Date(start.getTime() + day * 86_400_000).toISOString().slice(0, 10), 0);
  for (const count of counts) {
    const day = (count.start_time || "").slice(0, 10);
    if (days.has(day)) days.set(day, Number(count.count));
  }
  return [...days];
}

export function DashboardPage() {
  const data = useAsync(loanActivity, []);
  useTitle(t("dashboard.title"));
  let body;
  if (data.loading && !data.data) body = html`<${Loading} />`;
  else if (data.error?.unimplemented) body = html`<${NotYetAvailable} what=${t("dashboard.not_available")} />`;
  else if (data.error) body = html`<${ErrorNotice} error=${data.error} />`;
  else body = html`<${Charts} ...${data.data} />`;
  return html`<h1 tabindex="-1">${t("dashboard.title")}</h1>${body}`;
}

function Charts({ perDay, top }) {
  const highest = Math.max(1, ...perDay.map(([, count]) => count));
  return html`<section class="card" aria-labelledby="per-day-heading">
      <h2 id="per-day-heading">${t("dashboard.loans_per_day")}</h2>
      <div class="bars" aria-hidden="true">
        ${perDay.map(([day, count]) => html`<div class="bar" style=${{ height: `${(count / highest) * 100}%` }} title=${`${day}: ${count}`}></div>`)}
      </div>
      <table>
        <caption class="visually-hidden">${t("dashboard.loans_per_day")}</caption>
        <thead><tr><th scope="col">${t("dashboard.day")}</th><th scope="col" class="num">${t("dashboard.loans")}</th></tr></thead>
        <tbody>${perDay.map(([day, count]) => html`<tr key=${day}><td>${formatDate(day)}</td><td class="num">${formatNumber(count)}</td></tr>`)}</tbody>
      </table>
    </section>
    <section class="card" aria-labelledby="top-heading">
      <h2 id="top-heading">${t("dashboard.top_books")}</h2>
      ${top.length
        ? html`<ol>${top.map(([book, count]) => html`<li key=${book}>${book} — ${formatNumber(count)}</li>`)}</ol>`
        : html`<p>${t("dashboard.no_loans")}</p>`}
    </section>`;
}
