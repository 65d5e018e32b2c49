// A copy set aside for a hold (on the hold shelf, or on its way to it) is taken out of circulation by staff
// through loans (ReportHoldCopyMissing with a status): the catalog refuses a status change of such a copy, and the
// hold goes back to its place in the queue (finding B1). And a branch's list of copies left on its hold shelf by
// a hold that ended, which nobody took: send them home (the catalog's `sent_home_from`, finding B2).
import { useRef, useState } from "preact/hooks";
import { api, idOf } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { ErrorNotice, useAction } from "./components.js";
import { PagedCount, usePaged } from "./paging.js";
import { useBookHeadings } from "./book_headings.js";
import { patronLabel } from "./receiving.js";
import { keepFocus } from "./a11y.js";

const STATUSES = ["DAMAGED", "LOST", "WITHDRAWN"];

/** Whether circulation holds the copy for a hold (the catalog's `current_hold`). */
export function heldForHold(copy) {
  return Boolean(copy.current_hold) && ["COPY_STATUS_ON_HOLD_SHELF", "COPY_STATUS_IN_TRANSIT"].includes(copy.status);
}

/** The status change of a held copy: after a confirm naming whose hold goes back to the queue. */
export function TakeOutOfCirculation({ copy, onDone }) {
  const [status, setStatus] = useState("DAMAGED");
  const [error, setError] = useState(null);
  const action = useAction();
  const asking = useRef(false); // set before the reads that come before the confirm (finding D5: asked twice)
  const take = async () => {
    if (action.busy || asking.current) return;
    asking.current = true;
    setError(null);
    try {
      const hold = await api(`/v1/${copy.current_hold}`);
      const reader = await patronLabel(hold.patron);
      const label = { barcode: copy.barcode, reader, status: t(`copy_status.COPY_STATUS_${status}`) };
      if (!window.confirm(t("held_copy.confirm", label))) return;
      const body = { copy: copy.name, copy_status: `HELD_COPY_STATUS_${status}` };
      const answer = await action.run({ take: copy.name, status }, (request_id) =>
        api(`/v1/${copy.current_hold}:reportCopyMissing`, { method: "POST", body: { ...body, request_id } }),
      );
      if (!answer) return;
      // The copy's line loses this control when it is no longer held: the focus goes to the line's audit link,
      // and what was done is said (finding A7: the table changing to "damaged" was the only sign).
      keepFocus(undefined, `copy-audit-${copy.barcode}`);
      onDone?.(t("held_copy.taken", label));
    } catch (failure) {
      setError(failure);
    } finally {
      asking.current = false;
    }
  };
  return html`<span class="held-copy">
    <label class="visually-hidden" for=${`take-${copy.barcode}`}>${t("held_copy.status")}</label>
    <select id=${`take-${copy.barcode}`} value=${status} onChange=${(event) => setStatus(event.currentTarget.value)}>
      ${STATUSES.map((code) => html`<option value=${code}>${t(`copy_status.COPY_STATUS_${code}`)}</option>`)}
    </select>
    <button class="button button-small" type="button" onClick=${take} aria-disabled=${action.busy ? "true" : undefined}
      aria-label=${t("held_copy.take_named", { barcode: copy.barcode })}>${t("held_copy.take")}</button>
    <${ErrorNotice} error=${error} />
  </span>`;
}

/** The copies to send home from `branch`'s hold shelf ("" every branch's), each with its title and home branch,
 * a page of 100 at a time with its count and "Show more" (finding D9: the first 100 only, every title "Open the
 * book"). A copy's `book_title` when the answer has it, else the catalogue's (as the hold lists ask it). */
export function SendHomeList({ branch }) {
  const filter = branch ? `sent_home_from = "${branch.replace(/"/g, "")}"` : 'sent_home_from != ""';
  const found = usePaged(
    (page_token) =>
      api("/v1/books/-/copies", { query: { filter, page_size: 100, page_token } }).then((data) => ({
        items: (data.copies || []).map((copy) => ({ ...copy, book: copy.name.split("/copies/")[0] })),
        next: data.next_page_token,
        total: data.total_size,
      })),
    [filter],
  );
  const copies = found.items;
  const { titles, langs } = useBookHeadings(copies);
  if (!copies.length) return html`<${ErrorNotice} error=${found.error} />`;
  return html`<h2>${t("held_copy.send_home_heading")}</h2>
    <p class="muted">${t("held_copy.send_home_intro")}</p>
    <div class="table-wrap"><table class="stacks" data-testid="send-home">
      <thead><tr><th scope="col">${t("holdshelf.book")}</th><th scope="col">${t("holdshelf.barcode")}</th>
        <th scope="col">${t("held_copy.send_to")}</th></tr></thead>
      <tbody>${copies.map(
        (copy) => html`<tr key=${copy.name} data-copy=${copy.name}>
          <td lang=${langs[copy.book]}><a href=${`#/books/${idOf(copy.book)}`}>${titles[copy.book] || t("held_copy.book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${copy.barcode}</td>
          <td data-label=${t("held_copy.send_to")}>${copy.branch}${branch ? "" : html` <span class="muted">(${copy.sent_home_from})</span>`}</td>
        </tr>`,
      )}</tbody>
    </table></div>
    <${ErrorNotice} error=${found.error} />
    <div data-testid="send-home-count"><${PagedCount} list=${found} /></div>`;
}
