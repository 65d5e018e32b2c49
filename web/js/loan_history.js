// A reader's returned loans, a page at a time: their own account page and the staff's view of a patron.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./html.js";
import { titleLangOf } from "./a11y.js";
import { t } from "./i18n.js";
import { DateText, LoadError, useAsync } from "./components.js";

const HISTORY_PAGE = 20;

export function History({ patron }) {
  const [pages, setPages] = useState([""]);
  const history = useAsync(async () => {
    const loaded = [];
    let next = "";
    for (const token of pages) {
      const data = await api(`/v1/${patron}/loans`, { query: { status: "LOAN_STATUS_RETURNED", page_size: HISTORY_PAGE, page_token: token } });
      loaded.push(...(data.loans || []));
      next = data.next_page_token || "";
    }
    return { loans: loaded, next };
  }, [patron, pages.join(",")]);
  return html`<section aria-labelledby="history-heading">
    <h2 id="history-heading">${t("history.heading")}</h2>
    <${LoadError} of=${history} title=${t("history.load_failed")} id="history" />
    ${history.data && !history.data.loans.length && html`<p>${t("history.none")}</p>`}
    ${history.data?.loans.length > 0 &&
    html`<div class="table-wrap"><table class="stacks" data-testid="history">
      <thead><tr><th scope="col">${t("loans.book")}</th><th scope="col">${t("history.borrowed")}</th><th scope="col">${t("history.returned")}</th></tr></thead>
      <tbody>${history.data.loans.map(
        (loan) => html`<tr key=${loan.name}><td lang=${titleLangOf(loan)}>${loan.book_title}</td>
          <td data-label=${t("history.borrowed")}><${DateText} iso=${loan.issue_time} /></td>
          <td data-label=${t("history.returned")}><${DateText} iso=${loan.return_time} /></td></tr>`,
      )}</tbody>
    </table></div>`}
    ${history.data?.next &&
    html`<button type="button" class="button quiet" onClick=${() => setPages([...pages, history.data.next])}>${t("common.more")}</button>`}
  </section>`;
}
