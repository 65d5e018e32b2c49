// Patron look-up for staff (by name, email, phone or card number) and one patron's loans, holds and fines.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { t, tn } from "../i18n.js";
import { href, navigate } from "../router.js";
import { DateText, DeadlineText, ErrorNotice, Loading, NotFound, Notice, namesNothing, useAsync, useRouteForm, useTitle } from "../components.js";
import { useBookHeadings } from "../book_headings.js";
import { History } from "../loan_history.js";
import { FinesTable } from "./fines.js";
import { HoldForPatron, PatronBlock, PatronEdit, PatronLoans } from "./patron_tools.js";
import { HoldPickupChange } from "../hold_pickup.js";
import { SetPatronPassword } from "./patron_password.js";
import { PagedCount, fetchActiveHolds, usePaged } from "../paging.js";
import { useHeadingFocusWhenReady } from "../a11y.js";

export function PatronsPage({ route }) {
  const query = route.query.get("q") || "";
  const [text, setText] = useRouteForm(query, query); // Back and Forward: the box says what the results are for
  useTitle(t("patrons.title"));
  const users = usePaged(
    (page_token) =>
      query
        ? api("/v1/users", { query: { query, page_size: 50, page_token } }).then((data) => ({
            items: data.users || [],
            next: data.next_page_token,
            total: data.total_size,
          }))
        : Promise.resolve({ items: [], next: "", total: 0 }),
    [query],
  );
  function submit(event) {
    event.preventDefault();
    navigate("/patrons", { q: text.trim() });
  }
  const list = users.items;
  return html`<h1 tabindex="-1">${t("patrons.title")}</h1>
    <p><a class="button quiet" href="#/patrons-new">${t("newreader.title")}</a></p>
    <form class="search-form" role="search" onSubmit=${submit}>
      <label class="visually-hidden" for="patron-query">${t("patrons.search_label")}</label>
      <input id="patron-query" type="search" value=${text} placeholder=${t("patrons.search_label")}
        onInput=${(event) => setText(event.currentTarget.value)} autocomplete="off" />
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    <${ErrorNotice} error=${users.error} />
    ${users.loading && query && html`<${Loading} />`}
    ${query && users.loaded && html`<p role="status">${tn("patrons.found", users.total || list.length)}</p>`}
    ${users.next && html`<p class="notice">${t("patrons.first_only", { shown: list.length })}</p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">${t("patrons.name")}</th><th scope="col">${t("account.card_number")}</th>
        <th scope="col">${t("auth.email")}</th><th scope="col">${t("patrons.status")}</th></tr></thead>
      <tbody>${list.map(
        (user) => html`<tr key=${user.name}>
          <td><a href=${`#/patrons/${idOf(user.name)}`}>${user.display_name || user.email}</a></td>
          <td>${user.card_number}</td><td>${user.email}</td><td>${t(`user_status.${user.status}`)}</td>
        </tr>`,
      )}</tbody>
    </table></div>`}
    ${query && list.length > 0 && html`<${PagedCount} list=${users} />`}`;
}

/** After a hold's status: the pickup deadline, where the copy set aside goes, or the place in the queue. */
function holdDetail(hold) {
  if (hold.status === "HOLD_STATUS_READY") return html` (${t("patrons.until")} <${DeadlineText} iso=${hold.expire_time} />)`;
  if (hold.status !== "HOLD_STATUS_IN_TRANSIT") return ` #${hold.queue_position}`;
  return ` (${hold.pickup_branch ? t("patrons.on_its_way_to", { branch: hold.pickup_branch }) : t("patrons.on_its_way")})`;
}

export function PatronPage({ params, route }) {
  const name = `users/${params.id}`;
  const user = useAsync(() => api(`/v1/${name}`), [name]);
  const holds = useAsync(() => fetchActiveHolds(name), [name]);
  const [message, setMessage] = useState(route?.query.get("created") ? t("newreader.created") : null);
  useTitle(user.data?.display_name || t("patrons.title"));
  useHeadingFocusWhenReady(Boolean(user.data || user.error)); // the heading comes with the patron
  const activeHolds = holds.data || [];
  const { titles, langs } = useBookHeadings(activeHolds); // the librarian fetches the book from the hold shelf by its title
  if (user.loading && !user.data) return html`<${Loading} />`;
  if (namesNothing(user.error)) return html`<${NotFound} />`;
  if (user.error) return html`<h1 tabindex="-1">${t("patrons.title")}</h1><${ErrorNotice} error=${user.error} />`;
  const patron = user.data;
  const changed = (_, text) => {
    setMessage(text);
    user.reload();
  };
  return html`<h1 tabindex="-1">${patron.display_name || patron.email}</h1>
    ${message && html`<${Notice}>${message}<//>`}
    <div class="card">
      <dl class="facts">
        <dt>${t("account.card_number")}</dt><dd>${patron.card_number}</dd>
        <dt>${t("auth.email")}</dt><dd>${patron.email}</dd>
        <dt>${t("auth.phone")}</dt><dd>${patron.phone || "—"}</dd>
        <dt>${t("patrons.category")}</dt><dd>${patron.patron_category}</dd>
        <dt>${t("patron.home_branch")}</dt><dd>${patron.home_branch || "—"}</dd>
        <dt>${t("patron.expiry")}</dt><dd>${patron.expire_time ? html`<${DateText} iso=${patron.expire_time} />` : t("patron.no_expiry")}</dd>
        <dt>${t("patrons.status")}</dt><dd data-testid="patron-status">${t(`user_status.${patron.status}`)} ${patron.status_reason}</dd>
      </dl>
      <p><a href=${href("/audit", { resource: name })}>${t("audit.of_patron")}</a></p>
      <${SetPatronPassword} patron=${patron} />
    </div>
    <${PatronLoans} patron=${name} />
    <h2>${t("holds.heading")}</h2>
    <${ErrorNotice} error=${holds.error} />
    ${holds.data && !activeHolds.length && html`<p>${t("patrons.no_holds")}</p>`}
    <ul>
      ${activeHolds.map(
        (hold) => html`<li key=${hold.name}>
          <a href=${`#/books/${idOf(hold.book)}`} lang=${langs[hold.book]}>${titles[hold.book] || t("patrons.held_book")}</a> — ${t(`hold_status.${hold.status}`)}
          ${holdDetail(hold)}
          <${HoldPickupChange} hold=${hold} title=${titles[hold.book] || t("patrons.held_book")} onChanged=${holds.reload} />
        </li>`,
      )}
    </ul>
    <${HoldForPatron} user=${patron} onPlaced=${holds.reload} />
    <${FinesTable} patron=${name} />
    <${History} patron=${name} />
    <${PatronBlock} key=${`block-${patron.etag}`} user=${patron} onChanged=${changed} />
    <${PatronEdit} key=${`edit-${patron.etag}`} user=${patron} onChanged=${changed} />`;
}
