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

/** Loans per day of this browser's time zone over the last two weeks (oldest first, empty days included) and
 * the most borrowed books, counted by the events service (AggregateEvents), not in the browser: it is asked
 * for days of that zone, so a day shown is the day the loans were made here. */
async function loanActivity() {
  const now = new Date();
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (DAYS - 1)); // local midnight
  const range = { start_time: start.toISOString(), end_time: new Date(Date.now() + 60_000).toISOString(), filter: LOANS };
  const [days, books] = await Promise.all([
    api("/v1/events:aggregate", { query: { ...range, interval: "AGGREGATION_INTERVAL_DAY", time_zone: browserZone() } }),
    api("/v1/events:aggregate", { query: { ...range, group_by: "attributes.loan.book_title", top: TOP } }),
  ]);
  return { perDay: perDay(days.counts || [], start), top: (books.counts || []).map((c) => [c.key || "?", Number(c.count)]) };
}

/** The IANA zone this browser keeps its clock in (the one Date's local methods use). */
function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** A moment's local date as "YYYY-MM-DD" (formatDate shows such a day as that day everywhere). */
function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Every day of the range with its count (days without loans count 0). A bucket starts when its local day
 * begins (a day across a clock change lasts 23 or 25 hours): its local date names it. */
export function perDay(counts, start) {
  const days = new Map();
  for (let day = 0; day < DAYS; day += 1) {
    days.set(localDay(new Date(start.getFullYear(), start.getMonth(), start.getDate() + day)), 0);
  }
  for (const count of counts) {
    const day = count.start_time ? localDay(new Date(count.start_time)) : "";
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
