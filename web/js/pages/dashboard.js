// A small activity dashboard for admins: loans per day over the last two weeks and the most borrowed books,
// from the events service's record of "athenaeum.loans.loan_issued". Until the events service answers
// (it replies 501 / UNIMPLEMENTED today) the page says so instead of showing empty charts.
import { api } from "../api.js";
import { html } from "../html.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { ErrorNotice, Loading, NotYetAvailable, useAsync, useTitle } from "../components.js";

const DAYS = 14;
const MAX_PAGES = 10;
const TOP = 10;
const LOAN_ISSUED = "athenaeum.loans.loan_issued";

async function loanEvents() {
  const start = new Date(Date.now() - DAYS * 86_400_000);
  start.setUTCHours(0, 0, 0, 0);
  const events = [];
  let token = "";
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const data = await api("/v1/events", { query: { type: LOAN_ISSUED, start_time: start.toISOString(), page_size: 100, page_token: token } });
    events.push(...(data.events || []));
    token = data.next_page_token || "";
    if (!token) break;
  }
  return { events, start };
}

/** Counts per UTC day (oldest first, empty days included) and the most frequent books. */
export function aggregate(events, start) {
  const perDay = new Map();
  for (let day = 0; day <= DAYS; day += 1) perDay.set(new Date(start.getTime() + day * 86_400_000).toISOString().slice(0, 10), 0);
  const books = new Map();
  for (const event of events) {
    const day = (event.occur_time || "").slice(0, 10);
    if (perDay.has(day)) perDay.set(day, perDay.get(day) + 1);
    const attributes = event.attributes || {};
    const book = attributes.book_title || attributes.book || event.subject || "?";
    books.set(book, (books.get(book) || 0) + 1);
  }
  const top = [...books].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { perDay: [...perDay], top };
}

export function DashboardPage() {
  const data = useAsync(loanEvents, []);
  useTitle(t("dashboard.title"));
  let body;
  if (data.loading && !data.data) body = html`<${Loading} />`;
  else if (data.error?.unimplemented) body = html`<${NotYetAvailable} what=${t("dashboard.not_available")} />`;
  else if (data.error) body = html`<${ErrorNotice} error=${data.error} />`;
  else body = html`<${Charts} ...${aggregate(data.data.events, data.data.start)} />`;
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
