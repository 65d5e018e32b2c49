// "My account": loans (overdue in red, renew), holds (queue position, ready for pickup, pickup branch, cancel), fines with
// the total owed, loan history, notifications received, the authors followed, notification preferences and the
// password.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { announce, focusLater, titleLangOf } from "../a11y.js";
import { LANGUAGES, fieldText, fineText, formatMoney, language, languageName, t, tn } from "../i18n.js";
import { session } from "../session.js";
import { DateText, DeadlineText, ErrorNotice, LoadError, Loading, Money, NotYetAvailable, Notice, TotalOwed, markedTitle, useAction, useAsync, useOverdueLoanTitles, useTitle } from "../components.js";
import { HoldStatus } from "./book.js";
import { fetchActiveHolds, fetchAll, sumOwed } from "../paging.js";
import { RenewResult, useRenewableLoans } from "../renewing.js";
import { FollowedAuthors } from "../following.js";
import { HoldPickupChange } from "../hold_pickup.js";
import { useBookHeadings } from "../book_headings.js";
import { History } from "../loan_history.js";
import { ChangePassword } from "../password_change.js";

export function AccountPage() {
  const user = session.user;
  useTitle(t("account.title"));
  return html`<h1 tabindex="-1">${t("account.title")}</h1>
    <${Restriction} user=${user} />
    <div class="card">
      <p><strong>${user.display_name || user.email}</strong></p>
      <p>${t("account.card_number")}: <strong data-testid="card-number">${user.card_number}</strong></p>
      <p class="muted">${user.email}</p>
    </div>
    <${Loans} patron=${user.name} />
    <${Holds} patron=${user.name} />
    <${Fines} patron=${user.name} />
    <${History} patron=${user.name} />
    <${Notifications} patron=${user.name} />
    <${FollowedAuthors} patron=${user.name} />
    <${Preferences} />
    <${ChangePassword} />`;
}

/** A blocked or expired account signs in to see why, and what it has out and owes: the status and the
 * staff's reason (as they typed it), and what it may not do until the library lifts it. */
function Restriction({ user }) {
  if (!session.isRestricted()) return null;
  return html`<div class="notice error" role="alert" data-testid="account-restricted">
    <strong>${t(`account.restricted.${user.status}`)}</strong>
    ${user.status_reason && html`<p>${t("account.status_reason")}: <q data-testid="status-reason">${user.status_reason}</q></p>`}
    <p>${t("account.restricted_help")}</p>
  </div>`;
}

function Loans({ patron }) {
  const { loans, message, renew, busy } = useRenewableLoans(patron);
  // Loans that could not be loaded are said so, never "You have no books on loan" (finding P7).
  return html`<section aria-labelledby="loans-heading">
    <h2 id="loans-heading">${t("loans.heading")}</h2>
    <${LoadError} of=${loans} title=${t("loans.load_failed")} id="loans" />
    ${loans.loading && !loans.data && html`<${Loading} />`}
    ${loans.data && html`<${LoanTable} loans=${loans.data} onRenew=${renew} busy=${busy} message=${message} />`}
  </section>`;
}

function LoanTable({ loans, onRenew, busy, message }) {
  if (!loans.length) return html`<p>${t("loans.none")}</p>`;
  return html`<div class="table-wrap"><table class="stacks" data-testid="loans">
    <thead><tr>
      <th scope="col">${t("loans.book")}</th><th scope="col">${t("loans.due")}</th>
      <th scope="col">${t("loans.renewals")}</th><th scope="col"><span class="visually-hidden">${t("loans.actions")}</span></th>
    </tr></thead>
    <tbody>
      ${loans.map(
        (loan) => html`<tr key=${loan.name} class=${loan.overdue ? "is-overdue" : ""}>
          <td><a href=${`#/books/${idOf(loan.book)}`} lang=${titleLangOf(loan)}>${loan.book_title}</a> <span class="muted">${loan.barcode}</span></td>
          <td class=${loan.overdue ? "overdue" : ""} data-label=${t("loans.due")}>
            <${DeadlineText} iso=${loan.due_time} />
            ${loan.overdue && html` — ${tn("loans.overdue_days", loan.overdue_days)}`}
          </td>
          <td data-label=${t("loans.renewals")}>${loan.renewal_count} / ${loan.max_renewals}</td>
          <td>${!session.isRestricted() && html`<button type="button" class="button small quiet" onClick=${() => onRenew(loan)}
            aria-disabled=${busy ? "true" : undefined} aria-label=${t("loans.renew_named", { title: loan.book_title })}>${t("loans.renew")}</button>`}
            <${RenewResult} message=${message} loan=${loan} /></td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

function Holds({ patron }) {
  const holds = useAsync(
    () => fetchActiveHolds(patron),
    [patron],
  );
  const { titles, langs } = useBookHeadings(holds.data, { askAll: true });
  const [error, setError] = useState(null);
  const cancelling = useAction();
  const asking = useRef(false); // a double tap asks once (the second click comes when the dialog closes)
  async function cancel(hold) {
    if (cancelling.busy || asking.current) return;
    // A slip of the thumb lost a ready copy or a place in the queue for good (finding D12): ask, naming the book.
    const title = titles[hold.book] || t("patrons.held_book");
    asking.current = true;
    const ready = hold.status === "HOLD_STATUS_READY";
    const sure = window.confirm(ready ? t("holds.cancel_ready_confirm", { title }) : t("holds.cancel_confirm", { title }));
    setTimeout(() => (asking.current = false)); // after the clicks queued behind the dialog
    if (!sure) return;
    setError(null);
    try {
      const body = { reason: "cancelled by the patron" };
      const done = await cancelling.run({ cancel: hold.name }, (request_id) =>
        api(`/v1/${hold.name}:cancel`, { method: "POST", body: { ...body, request_id } }),
      );
      if (!done) return;
      holds.reload();
      // The hold's item (with the button pressed) leaves the list: say so, and keep the focus in the section.
      announce(t("holds.cancelled", { title }));
      focusLater("holds-heading");
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<section aria-labelledby="holds-heading">
    <h2 id="holds-heading">${t("holds.heading")}</h2>
    <${ErrorNotice} error=${error} />
    <${LoadError} of=${holds} title=${t("holds.load_failed")} id="holds" />
    ${holds.loading && !holds.data && html`<${Loading} />`}
    ${holds.data && !holds.data.length && html`<p>${t("holds.none")}</p>`}
    <ul class="results" data-testid="holds">
      ${(holds.data || []).map(
        (hold) => html`<li class="result" key=${hold.name} data-status=${hold.status}>
          <h3 lang=${langs[hold.book]}><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("common.loading")}</a></h3>
          <${HoldStatus} hold=${hold} />
          ${!session.isRestricted() && html`<${HoldPickupChange} hold=${hold} title=${titles[hold.book] || t("patrons.held_book")} onChanged=${holds.reload} />`}
          <button type="button" class="button small quiet" onClick=${() => cancel(hold)} aria-disabled=${cancelling.busy ? "true" : undefined}
            aria-label=${t("holds.cancel_named", { title: titles[hold.book] || t("patrons.held_book") })}>${t("holds.cancel")}</button>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Fines({ patron }) {
  const fines = useAsync(
    () => fetchAll(`/v1/${patron}/fines`, { field: "fines" }).then((fines) => ({ fines, outstanding_total: sumOwed(fines) })),
    [patron],
  );
  const list = fines.data?.fines || [];
  const loanTitles = useOverdueLoanTitles(list);
  return html`<section aria-labelledby="fines-heading">
    <h2 id="fines-heading">${t("fines.heading")}</h2>
    <${LoadError} of=${fines} title=${t("fines.load_failed")} id="fines" />
    ${fines.loading && !fines.data && html`<${Loading} />`}
    ${fines.data &&
    html`<p data-testid="fines-total"><${TotalOwed} total=${fines.data.outstanding_total} currency=${list[0]?.currency_code} /></p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks" data-testid="fines">
      <thead><tr><th scope="col">${t("fines.what")}</th><th scope="col">${t("fines.date")}</th>
        <th scope="col" class="num">${t("fines.amount")}</th><th scope="col" class="num">${t("fines.outstanding")}</th>
        <th scope="col">${t("fines.status")}</th></tr></thead>
      <tbody>${list.map(
        (fine) => html`<tr key=${fine.name}>
          <td>${fineText(fine, loanTitles[fine.loan], markedTitle(fine))}</td>
          <td data-label=${t("fines.date")}><${DateText} iso=${fine.create_time} /></td>
          <td class="num" data-label=${t("fines.amount")}><${Money} amount=${fine.amount} currency=${fine.currency_code} /></td>
          <td class="num" data-label=${t("fines.outstanding")}><${Money} amount=${fine.outstanding_amount} currency=${fine.currency_code} /></td>
          <td data-label=${t("fines.status")}>${t(`fine_status.${fine.status}`)}${Number(fine.refund_amount || "0") > 0 &&
            ` · ${t("account.fine_refund_due", { amount: formatMoney(fine.refund_amount, fine.currency_code) })}`}</td>
        </tr>`,
      )}</tbody>
    </table></div>`}
  </section>`;
}

function Notifications({ patron }) {
  const notifications = useAsync(
    () => api(`/v1/${patron}/notifications`, { query: { page_size: 20 } }).then((data) => data.notifications || []),
    [patron],
  );
  return html`<section aria-labelledby="notifications-heading" data-testid="notifications">
    <h2 id="notifications-heading">${t("notifications.heading")}</h2>
    ${notifications.error?.unimplemented
      ? html`<${NotYetAvailable} what=${t("notifications.not_available")} />`
      : html`<${LoadError} of=${notifications} title=${t("notifications.load_failed")} id="notifications" />`}
    ${notifications.data && !notifications.data.length && html`<p>${t("notifications.none")}</p>`}
    <ul class="results">
      ${(notifications.data || []).map(
        (item) => html`<li class="result" key=${item.name}>
          <h3>${item.subject || t(`channel.${item.channel}`)}</h3>
          <p class="meta"><${DateText} iso=${item.send_time || item.create_time} /> · ${t(`channel.${item.channel}`)} · ${item.address}</p>
          <p>${item.body}</p>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Preferences() {
  const user = session.user;
  const [form, setForm] = useState({
    email: user.notification_preferences?.email_opt_in ?? false,
    sms: user.notification_preferences?.sms_opt_in ?? false,
    phone: user.phone || "",
    locale: (user.locale || language()).slice(0, 2),
  });
  const [result, setResult] = useState(null);
  const saving = useAction();
  const phoneField = useRef(null);
  // A phone number refused (or missing for SMS): the focus goes to the field, whose error it describes, so a
  // screen reader says it and the save is known not to have happened.
  useLayoutEffect(() => {
    if (result?.phone) phoneField.current?.focus();
  }, [result]);
  async function save(event) {
    event.preventDefault();
    setResult(null);
    // No number, no text message can ever be sent: the notice would be dropped for want of an address.
    if (form.sms && !form.phone.trim()) return setResult({ phone: t("preferences.sms_needs_phone") });
    try {
      const notification_preferences = { email_opt_in: form.email, sms_opt_in: form.sms };
      const body = { phone: form.phone.trim(), locale: form.locale, notification_preferences, etag: user.etag };
      const update_mask = "notification_preferences.email_opt_in,notification_preferences.sms_opt_in,phone,locale";
      const updated = await saving.run(body, (request_id) =>
        api(`/v1/${user.name}`, { method: "PATCH", query: { update_mask, request_id }, body }),
      );
      if (!updated) return;
      session.updateUser(updated);
      setForm((shown) => ({ ...shown, phone: updated.phone || "" })); // as stored: "+7 (999) 123-45-67" → +79991234567
      setResult({ ok: true });
    } catch (error) {
      setResult({ error, phone: fieldText(error, "user.phone", "phone") });
    }
  }
  const phoneError = result?.phone;
  const described = ["pref-phone-hint", phoneError && "pref-phone-error"].filter(Boolean).join(" ");
  return html`<section aria-labelledby="preferences-heading">
    <h2 id="preferences-heading">${t("preferences.heading")}</h2>
    <form class="card form-narrow" onSubmit=${save}>
      <label class="check"><input type="checkbox" checked=${form.email} onChange=${(event) => setForm({ ...form, email: event.currentTarget.checked })} />
        ${t("preferences.email")}</label>
      <label class="check"><input type="checkbox" checked=${form.sms} onChange=${(event) => setForm({ ...form, sms: event.currentTarget.checked })} />
        ${t("preferences.sms")}</label>
      <div class="field">
        <label for="pref-phone">${t("auth.phone")}</label>
        <span class="hint" id="pref-phone-hint">${t("auth.phone_hint")}</span>
        <input id="pref-phone" ref=${phoneField} type="tel" autocomplete="tel" value=${form.phone} aria-describedby=${described}
          aria-invalid=${phoneError ? "true" : undefined} onInput=${(event) => setForm({ ...form, phone: event.currentTarget.value })} />
        ${phoneError && html`<span class="error" id="pref-phone-error">${phoneError}</span>`}
      </div>
      <div class="field">
        <label for="pref-locale">${t("preferences.language")}</label>
        <select id="pref-locale" value=${form.locale} onChange=${(event) => setForm({ ...form, locale: event.currentTarget.value })}>
          ${LANGUAGES.map((code) => html`<option value=${code}>${languageName(code)}</option>`)}
        </select>
      </div>
      ${result?.ok && html`<${Notice}>${t("preferences.saved")}<//>`}
      <${ErrorNotice} error=${result?.error} />
      <button class="button" type="submit" aria-disabled=${saving.busy ? "true" : undefined}>${t("common.save")}</button>
    </form>
  </section>`;
}
