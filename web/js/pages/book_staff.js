// Staff on a book's page: a hold placed for a patron (found by card number or email), another copy of the title
// (a second copy bought later: "Add a book" refuses the same ISBN), and each copy's audit trail.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { ItemTypeSelect } from "../item_types.js";
import { fieldText, formatDeadline, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNotice, Field, Notice, useAction } from "../components.js";
import { findPatron } from "../desk_patron.js";
import { TakeOutOfCirculation, heldForHold } from "../held_copies.js";
import { PickupBranchField } from "../pickup_branch.js";
import { SaidNotice } from "../a11y.js";

const EMPTY_COPY = { barcode: "", branch: "main", shelf_location: "", item_type: "BOOK" };

/** A hold on this book for the patron whose card number or email the librarian types, picked up at the branch
 * chosen (by default the patron's home branch). `copies`: the book's, whose branches are offered when the library
 * lists none. */
export function HoldForAPatron({ book, copies = [], onPlaced }) {
  const [card, setCard] = useState("");
  const [pickup, setPickup] = useState("");
  const [result, setResult] = useState(null);
  const placing = useAction();
  async function place(event) {
    event.preventDefault();
    setResult(null);
    const code = card.trim();
    if (!code) return;
    try {
      const patron = await findPatron(code);
      if (!patron) return setResult({ text: t("desk.no_patron", { card: code }), failed: true });
      const body = { patron: patron.name, book: book.name, pickup_branch: pickup.trim() };
      const hold = await placing.run(body, (request_id) => api("/v1/holds", { method: "POST", body, query: { request_id } }));
      if (!hold) return;
      const who = `${patron.display_name || patron.email} (${patron.card_number})`;
      const text = hold.status === "HOLD_STATUS_READY"
        ? t("book_staff.hold_ready", { patron: who, date: formatDeadline(hold.expire_time) })
        : hold.status === "HOLD_STATUS_IN_TRANSIT"
          ? t("book_staff.hold_in_transit", { patron: who })
          : t("book_staff.hold_queued", { patron: who, position: hold.queue_position });
      setResult({ text });
      setCard("");
      setPickup(""); // the next patron's hold goes to their own home branch unless chosen again
      onPlaced();
    } catch (error) {
      setResult({ error });
    }
  }
  return html`<form class="card" onSubmit=${place} aria-labelledby="hold-for-patron-heading">
    <h2 id="hold-for-patron-heading">${t("book_staff.hold_heading")}</h2>
    ${result?.text && html`<${Notice} kind=${result.failed ? "error" : "ok"}>${result.text}<//>`}
    <${ErrorNotice} error=${result?.error} title=${t("hold.refused")} staff />
    <${Field} id="hold-patron" label=${t("book_staff.patron_card")} value=${card} onInput=${setCard} required autocomplete="off" />
    <${PickupBranchField} id="hold-patron-pickup" value=${pickup} onInput=${setPickup} suggested=${copies.map((copy) => copy.branch)}
      error=${fieldText(result?.error, "hold.pickup_branch", "pickup_branch")} />
    <button class="button" type="submit" aria-disabled=${placing.busy ? "true" : undefined}>${t("book_staff.place_for")}</button>
  </form>`;
}

/** One more copy of this title: barcode, branch, shelf and item type, as when the book was added. */
export function AddCopy({ book, onAdded }) {
  const [form, setForm] = useState(EMPTY_COPY);
  const [error, setError] = useState(null);
  const [added, setAdded] = useState(null);
  const adding = useAction();
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  async function add(event) {
    event.preventDefault();
    setError(null);
    setAdded(null);
    const body = { ...form, barcode: form.barcode.trim() };
    try {
      const copy = await adding.run({ book: book.name, ...body }, (request_id) =>
        api(`/v1/${book.name}/copies`, { method: "POST", body, query: { request_id } }),
      );
      if (!copy) return;
      setAdded(copy);
      setForm({ ...form, barcode: "" });
      onAdded();
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<form class="card" onSubmit=${add} aria-labelledby="add-copy-heading">
    <h2 id="add-copy-heading">${t("book_staff.add_copy_heading")}</h2>
    ${added && html`<${Notice}>${t("book_staff.copy_added", { barcode: added.barcode, branch: added.branch })}<//>`}
    <${ErrorNotice} error=${error} />
    <div class="form-grid">
      <${Field} id="copy-barcode" label=${t("desk.barcode")} value=${form.barcode} onInput=${set("barcode")} required autocomplete="off"
        error=${fieldText(error, "copy.barcode", "barcode")} />
      <${Field} id="copy-branch" label=${t("book.branch")} value=${form.branch} onInput=${set("branch")} error=${fieldText(error, "copy.branch", "branch")} />
      <${Field} id="copy-shelf" label=${t("addbook.shelf")} value=${form.shelf_location} onInput=${set("shelf_location")} />
      <${ItemTypeSelect} id="copy-type" value=${form.item_type} onInput=${set("item_type")} error=${fieldText(error, "copy.item_type")} />
    </div>
    <button class="button" type="submit" aria-disabled=${adding.busy ? "true" : undefined}>${t("addbook.add_copy")}</button>
  </form>`;
}

/** Every copy with its barcode, status and a link to what happened to it (staff only: barcodes are internal). */
export function CopyList({ copies, onChanged }) {
  const [message, setMessage] = useState("");
  if (!copies.length) return null;
  const taken = (text) => (setMessage(text), onChanged());
  return html`<h2>${t("book_staff.copies_heading")}</h2>
    <${SaidNotice} text=${message} testid="copies-status" />
    <div class="table-wrap"><table class="stacks" data-testid="staff-copies">
      <thead><tr><th scope="col">${t("desk.barcode")}</th><th scope="col">${t("book.branch")}</th>
        <th scope="col">${t("patrons.status")}</th><th scope="col"><span class="visually-hidden">${t("audit.title")}</span></th></tr></thead>
      <tbody>${copies.map(
        (copy) => html`<tr key=${copy.name}>
          <td>${copy.barcode}</td><td data-label=${t("book.branch")}>${copy.branch}</td>
          <td data-label=${t("patrons.status")}>${t(`copy_status.${copy.status}`)}
            ${heldForHold(copy) && html` <${TakeOutOfCirculation} copy=${copy} onDone=${taken} />`}</td>
          <td><a id=${`copy-audit-${copy.barcode}`} href=${href("/audit", { resource: copy.name })} aria-label=${t("audit.of_copy_named", { barcode: copy.barcode })}>
            ${t("audit.of_copy")}</a></td>
        </tr>`,
      )}</tbody>
    </table></div>`;
}
