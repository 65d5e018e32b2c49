// What staff do for the patron whose page is open: renew their loans, block or unblock the account (with a
// reason), change its category, expiry, phone and home branch, and place a hold on their behalf. Librarians may
// do all of it (users.proto: status, category and expiry are for librarians and admins).
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, formatDeadline, t, tn } from "../i18n.js";
import { DeadlineText, ErrorNotice, Field, LoadError, Notice, useAction, useAsync } from "../components.js";
import { fetchAll } from "../paging.js";
import { RenewResult, useRenewableLoans } from "../renewing.js";
import { PickupBranchField } from "../pickup_branch.js";
import { keepFocus, langOf, titleLangOf } from "../a11y.js";

/** The patron's loans, each with Renew: a patron who phones or stands at the desk is renewed by staff. */
export function PatronLoans({ patron }) {
  const { loans, message, renew, busy } = useRenewableLoans(patron);
  const list = loans.data || [];
  return html`<section aria-labelledby="patron-loans-heading">
    <h2 id="patron-loans-heading">${t("loans.heading")}</h2>
    <${LoadError} of=${loans} title=${t("loans.load_failed_patron")} id="patron-loans" />
    ${loans.data && !list.length && html`<p>${t("patrons.no_loans")}</p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks" data-testid="patron-loans">
      <thead><tr><th scope="col">${t("loans.book")}</th><th scope="col">${t("desk.barcode")}</th><th scope="col">${t("loans.due")}</th>
        <th scope="col">${t("loans.renewals")}</th><th scope="col"><span class="visually-hidden">${t("loans.actions")}</span></th></tr></thead>
      <tbody>${list.map(
        (loan) => html`<tr key=${loan.name} class=${loan.overdue ? "is-overdue" : ""}>
          <td lang=${titleLangOf(loan)}>${loan.book_title}</td><td data-label=${t("desk.barcode")}>${loan.barcode}</td>
          <td class=${loan.overdue ? "overdue" : ""} data-label=${t("loans.due")}><${DeadlineText} iso=${loan.due_time} />
            ${loan.overdue && html` — ${tn("loans.overdue_days", loan.overdue_days)}`}</td>
          <td data-label=${t("loans.renewals")}>${loan.renewal_count} / ${loan.max_renewals}</td>
          <td><button type="button" class="button small quiet" onClick=${() => renew(loan)} aria-disabled=${busy ? "true" : undefined}
            aria-label=${t("loans.renew_named", { title: loan.book_title })}>${t("loans.renew")}</button>
            <${RenewResult} message=${message} loan=${loan} /></td>
        </tr>`,
      )}</tbody>
    </table></div>`}
  </section>`;
}

/** Block (with the reason the patron is told) or unblock: borrowing, renewing and holds stop while blocked. */
export function PatronBlock({ user, onChanged }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const change = useAction();
  const blocked = user.status === "USER_STATUS_BLOCKED";
  if (!blocked && user.status !== "USER_STATUS_ACTIVE") return null; // closed or expired: nothing to block
  async function submit(event) {
    event.preventDefault();
    setError(null);
    const fields = blocked ? { status: "USER_STATUS_ACTIVE", status_reason: "" } : { status: "USER_STATUS_BLOCKED", status_reason: reason.trim() };
    const body = { ...fields, etag: user.etag };
    try {
      const updated = await change.run({ user: user.name, ...body }, (request_id) =>
        api(`/v1/${user.name}`, { method: "PATCH", body, query: { update_mask: "status,status_reason", request_id } }),
      );
      // The form is redrawn (keyed by the patron's etag): its button (Block ⇄ Unblock) keeps the focus (finding A7).
      if (updated) keepFocus("patron-block-submit");
      if (updated) onChanged(updated, blocked ? t("patron.unblocked") : t("patron.blocked"));
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<form class="card form-narrow" onSubmit=${submit} aria-labelledby="patron-block-heading">
    <h2 id="patron-block-heading">${blocked ? t("patron.unblock_heading") : t("patron.block_heading")}</h2>
    <${ErrorNotice} error=${error} />
    ${blocked
      ? html`<p>${t("patron.blocked_because", { reason: user.status_reason || "—" })}</p>`
      : html`<${Field} id="block-reason" label=${t("patron.block_reason")} hint=${t("patron.block_reason_hint")} value=${reason}
          onInput=${setReason} required error=${fieldText(error, "user.status_reason")} />`}
    <button class="button" type="submit" id="patron-block-submit" aria-disabled=${change.busy ? "true" : undefined}>${blocked ? t("users.unblock") : t("users.block")}</button>
  </form>`;
}

/** The patron categories the circulation rules name (besides "*"): offered, not imposed, as the API takes any. */
export function useCategories() {
  const rules = useAsync(() => fetchAll("/v1/circulationRules", { field: "circulation_rules" }).catch(() => []), []);
  const named = (rules.data || []).map((rule) => rule.patron_category).filter((code) => code && code !== "*");
  return [...new Set(["ADULT", ...named])].sort();
}

/** "YYYY-MM-DD" of an instant in this browser's zone (a date input's value); "" for none. */
function dayOf(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const EDITABLE = ["patron_category", "expire_time", "phone", "home_branch"];

/** The account's category, membership expiry, phone and home branch; only the fields changed are sent. */
export function PatronEdit({ user, onChanged }) {
  const initial = { patron_category: user.patron_category, expire_time: dayOf(user.expire_time), phone: user.phone || "", home_branch: user.home_branch || "" };
  const [form, setForm] = useState(initial);
  const [error, setError] = useState(null);
  const saving = useAction();
  const categories = useCategories();
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  const bad = (field) => fieldText(error, `user.${field}`, field);
  async function save(event) {
    event.preventDefault();
    setError(null);
    const changed = EDITABLE.filter((field) => form[field].trim() !== initial[field]);
    if (!changed.length) return;
    // Noon UTC: the same date in the library's zone wherever it is; the server extends it to that day's end.
    const value = (field) => (field === "expire_time" ? (form.expire_time ? `${form.expire_time}T12:00:00Z` : null) : form[field].trim());
    const body = { ...Object.fromEntries(changed.map((field) => [field, value(field)])), etag: user.etag };
    try {
      const updated = await saving.run({ user: user.name, ...body }, (request_id) =>
        api(`/v1/${user.name}`, { method: "PATCH", body, query: { update_mask: changed.join(","), request_id } }),
      );
      if (updated) keepFocus(document.activeElement?.id || "patron-edit-submit", "patron-edit-submit"); // redrawn, as above
      if (updated) onChanged(updated, t("patron.saved"));
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<form class="card" onSubmit=${save} aria-labelledby="patron-edit-heading">
    <h2 id="patron-edit-heading">${t("patron.edit_heading")}</h2>
    <${ErrorNotice} error=${error} />
    <div class="form-grid">
      <${Field} id="patron-category" label=${t("patrons.category")} value=${form.patron_category} onInput=${set("patron_category")}
        list="patron-categories" autocomplete="off" error=${bad("patron_category")} />
      <datalist id="patron-categories">${categories.map((code) => html`<option value=${code} />`)}</datalist>
      <${Field} id="patron-expiry" label=${t("patron.expiry")} hint=${t("patron.expiry_hint")} type="date" value=${form.expire_time}
        onInput=${set("expire_time")} error=${bad("expire_time")} />
      <${Field} id="patron-phone" label=${t("auth.phone")} hint=${t("auth.phone_hint")} type="tel" value=${form.phone}
        onInput=${set("phone")} error=${bad("phone")} />
      <${Field} id="patron-branch" label=${t("patron.home_branch")} value=${form.home_branch} onInput=${set("home_branch")}
        error=${bad("home_branch")} />
    </div>
    <button class="button" type="submit" id="patron-edit-submit" aria-disabled=${saving.busy ? "true" : undefined}>${t("common.save")}</button>
  </form>`;
}

/** A hold on the patron's behalf: find the book, place it for them (they are told as for their own holds), picked
 * up at the branch chosen (by default their home branch). */
export function HoldForPatron({ user, onPlaced }) {
  const [text, setText] = useState("");
  const [pickup, setPickup] = useState("");
  const [query, setQuery] = useState("");
  const [result, setResult] = useState(null);
  const placing = useAction();
  const books = useAsync(
    () => (query ? api("/v1/books:search", { query: { query, page_size: 5 } }).then((data) => data.results || []) : Promise.resolve(null)),
    [query],
  );
  const who = user.display_name || user.email;
  async function place(book) {
    setResult(null);
    const body = { patron: user.name, book: book.name, pickup_branch: pickup.trim() };
    try {
      const hold = await placing.run(body, (request_id) => api("/v1/holds", { method: "POST", body, query: { request_id } }));
      if (!hold) return;
      const text = hold.status === "HOLD_STATUS_READY"
        ? t("patron.hold_ready", { title: book.title, date: formatDeadline(hold.expire_time) })
        : hold.status === "HOLD_STATUS_IN_TRANSIT"
          ? t("patron.hold_in_transit", { title: book.title })
          : t("patron.hold_queued", { title: book.title, position: hold.queue_position });
      setResult({ text });
      onPlaced();
    } catch (error) {
      setResult({ error });
    }
  }
  return html`<section class="card" aria-labelledby="patron-hold-heading">
    <h2 id="patron-hold-heading">${t("patron.hold_heading", { patron: who })}</h2>
    <form class="search-form" role="search" onSubmit=${(event) => (event.preventDefault(), setQuery(text.trim()))}>
      <label class="visually-hidden" for="patron-hold-query">${t("patron.hold_search")}</label>
      <input id="patron-hold-query" type="search" value=${text} placeholder=${t("patron.hold_search")} autocomplete="off"
        onInput=${(event) => setText(event.currentTarget.value)} />
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    <${PickupBranchField} id="patron-hold-pickup" value=${pickup} onInput=${setPickup} home=${user.home_branch || ""}
      error=${fieldText(result?.error, "hold.pickup_branch", "pickup_branch")} />
    ${result?.text && html`<${Notice}>${result.text}<//>`}
    <${ErrorNotice} error=${result?.error} title=${t("hold.refused")} staff />
    <${ErrorNotice} error=${books.error} />
    ${books.data && !books.data.length && html`<p>${t("catalogue.nothing")}</p>`}
    <ul class="plain-list">
      ${(books.data || []).map(
        ({ book }) => html`<li key=${book.name}>
          <span lang=${langOf(book)}>${book.title}</span>${(book.authors || []).length > 0 && html` <span class="muted">— ${book.authors.join(", ")}</span>`}
          <button type="button" class="button small quiet" aria-disabled=${placing.busy ? "true" : undefined} onClick=${() => place(book)}
            aria-label=${t("patron.hold_for_named", { title: book.title, patron: who })}>${t("hold.place")}</button>
        </li>`,
      )}
    </ul>
  </section>`;
}
