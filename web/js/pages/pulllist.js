// The pull list for staff: every copy set aside for a hold and not on the hold shelf yet (IN_TRANSIT holds), in
// two lists for a branch: the copies to pull here (still on this branch's open shelves: `to_pull`, by the copy's
// branch, sorted as a librarian walks the shelves: call number, shelf), and the copies on their way here (sent
// by a return or a pull at another branch: by the hold's pickup branch); a copy passed on from a READY hold is
// pulled from the hold shelf it sits on (`hold_shelf_branch`), not from the open shelf. Shown first for the
// librarian's own branch. A scan field receives each copy (receiving.js): onto the hold shelf here, or "send it to…". A copy
// that cannot be found is reported "Missing" (after a confirmation): the catalog has it LOST and the hold is
// served another copy, which the list then shows.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { t } from "../i18n.js";
import { ErrorNotice, Loading, Notice, useAction, useAsync, useTitle } from "../components.js";
import { useBookTitles } from "./account.js";
import { usePatrons } from "./holdshelf.js";
import { PagedCount, usePaged } from "../paging.js";
import { IN_TRANSIT, ReceiveScanner, deskBranch } from "../receiving.js";

const ALL = "";
const byShelf = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function PullListPage() {
  useTitle(t("pulllist.title"));
  const [branch, setBranch] = useState(deskBranch() || ALL);
  const holds = usePaged(
    (page_token) =>
      api("/v1/holds", { query: { status: IN_TRANSIT, page_size: 100, page_token } }).then((data) => ({
        items: data.holds || [],
        next: data.next_page_token,
        total: data.total_size,
      })),
    [],
    { pages: Infinity },
  );
  const copies = useCopies(holds.items);
  const patrons = usePatrons(holds.items);
  const titles = useBookTitles(holds.items);
  const rows = holds.items.map((hold) => ({ hold, copy: copies.data?.[hold.copy] || {} }));
  // Where each copy is to be dealt with: the branch whose shelves it is pulled from, or the one it is going to.
  // A copy passed on from a READY hold sits on that branch's hold shelf (`hold_shelf_branch`): pulled there.
  const placeOf = (row) => (row.hold.to_pull ? row.hold.hold_shelf_branch || row.copy.branch : row.hold.pickup_branch);
  const codes = [deskBranch(), ...rows.map(placeOf)].filter(Boolean);
  const branches = [...new Map(codes.map((code) => [code.trim().toLowerCase(), code.trim()])).values()].sort(byShelf.compare);
  const here = (row) => branch === ALL || sameBranch(placeOf(row), branch);
  const toPull = rows.filter((row) => row.hold.to_pull && here(row)).sort(shelfOrder);
  const coming = rows.filter((row) => !row.hold.to_pull && here(row)).sort(shelfOrder);
  const shown = holds.loaded && copies.data;
  const missing = useMissing(holds.reload);
  const table = { patrons, titles, missing };
  return html`<h1 tabindex="-1">${t("pulllist.title")}</h1>
    <p class="muted">${t("pulllist.intro")}</p>
    <${ReceiveScanner} onReceived=${holds.reload} />
    <div class="field form-narrow">
      <label for="pulllist-branch">${t("pulllist.branch_filter")}</label>
      <select id="pulllist-branch" value=${branch} onChange=${(event) => setBranch(event.currentTarget.value)}>
        <option value=${ALL}>${t("pulllist.all_branches")}</option>
        ${branches.map((code) => html`<option value=${code}>${code}</option>`)}
      </select>
    </div>
    <${ErrorNotice} error=${holds.error || copies.error || missing.error} />
    ${missing.message && html`<${Notice}>${missing.message}<//>`}
    ${(holds.loading || copies.loading) && !shown && html`<${Loading} />`}
    <h2>${t("pulllist.to_fetch")}</h2>
    ${shown && !toPull.length &&
    html`<p role="status">${branch === ALL ? t("pulllist.empty") : t("pulllist.empty_at", { branch })}</p>`}
    ${shown && toPull.length > 0 && html`<${CopyTable} rows=${toPull} testid="pulllist" ...${table} />`}
    <h2>${t("pulllist.incoming")}</h2>
    ${shown && !coming.length &&
    html`<p role="status">${branch === ALL ? t("pulllist.incoming_empty") : t("pulllist.incoming_empty_at", { branch })}</p>`}
    ${shown && coming.length > 0 && html`<${CopyTable} rows=${coming} testid="pulllist-incoming" ...${table} />`}
    <${PagedCount} list=${holds} branch=${branch} shown=${toPull.length + coming.length} />`;
}

/** One list of copies set aside: where each stands (branch, call number, shelf), for whom and where it goes. */
function CopyTable({ rows, testid, patrons, titles, missing }) {
  return html`<div class="table-wrap"><table class="stacks" data-testid=${testid}>
      <thead><tr><th scope="col">${t("holdshelf.book")}</th><th scope="col">${t("holdshelf.barcode")}</th>
        <th scope="col">${t("pulllist.call_number")}</th><th scope="col">${t("pulllist.shelf")}</th>
        <th scope="col">${t("pulllist.copy_branch")}</th><th scope="col">${t("holdshelf.patron")}</th>
        <th scope="col">${t("pulllist.send_to")}</th><th scope="col">${t("pulllist.actions")}</th></tr></thead>
      <tbody>${rows.map(({ hold, copy }) => {
        const patron = patrons[hold.patron];
        return html`<tr key=${hold.name} data-hold=${hold.name}>
          <td><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("patrons.held_book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${copy.barcode || "—"}</td>
          <td data-label=${t("pulllist.call_number")}>${copy.call_number || "—"}</td>
          <td data-label=${t("pulllist.shelf")}>${hold.hold_shelf_branch
            ? t("pulllist.on_hold_shelf", { branch: hold.hold_shelf_branch })
            : copy.shelf_location || "—"}</td>
          <td data-label=${t("pulllist.copy_branch")}>${hold.hold_shelf_branch || copy.branch || "—"}</td>
          <td data-label=${t("holdshelf.patron")}><a href=${`#/patrons/${idOf(hold.patron)}`}>${patron?.label || t("fines.open_patron")}</a>
            ${patron?.card && html` <span class="muted">${patron.card}</span>`}</td>
          <td data-label=${t("pulllist.send_to")}>${hold.pickup_branch || t("pulllist.any_branch")}</td>
          <td><button type="button" class="button small quiet" aria-disabled=${missing.busy ? "true" : undefined}
            onClick=${() => missing.report(hold, copy, titles[hold.book])}
            aria-label=${t("pulllist.missing_named", { barcode: copy.barcode || "—" })}>${t("pulllist.missing")}</button></td>
        </tr>`;
      })}</tbody>
    </table></div>`;
}

/** "Missing": after the librarian confirms, the hold's copy is reported missing (LOST in the catalog) and the
 * hold served another copy if one is on the shelf; the list is read again. */
function useMissing(reload) {
  const action = useAction();
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  const report = async (hold, copy, title) => {
    const label = { barcode: copy.barcode || "—", title: title || t("patrons.held_book") };
    if (action.busy || !window.confirm(t("pulllist.missing_confirm", label))) return;
    setError(null);
    setMessage(null);
    try {
      const answer = await action.run({ missing: hold.name, copy: hold.copy }, (request_id) =>
        api(`/v1/${hold.name}:reportCopyMissing`, { method: "POST", body: { copy: hold.copy, request_id } }),
      );
      if (!answer) return;
      setMessage(answer.status === IN_TRANSIT ? t("pulllist.missing_replaced", label) : t("pulllist.missing_waiting", label));
      reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return { busy: action.busy, report, message, error };
}

/** Branch codes are compared as the server compares them: trimmed, in any letter case. */
function sameBranch(a, b) {
  return (a || "").trim().toLowerCase() === (b || "").trim().toLowerCase();
}

/** The copy's branch, then its call number, shelf and barcode; copies that could not be read last. */
function shelfOrder(a, b) {
  const keys = (row) => [row.copy.branch, row.copy.call_number, row.copy.shelf_location, row.copy.barcode];
  const [left, right] = [keys(a), keys(b)];
  for (let i = 0; i < left.length; i += 1) {
    if (!left[i] !== !right[i]) return left[i] ? -1 : 1;
    const order = byShelf.compare(left[i] || "", right[i] || "");
    if (order) return order;
  }
  return 0;
}

/** Each copy set aside, by name: where it stands (branch, call number, shelf) and its barcode. */
function useCopies(holds) {
  const names = [...new Set(holds.map((hold) => hold.copy).filter(Boolean))].sort();
  return useAsync(async () => {
    const found = await Promise.all(names.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(found.filter(Boolean).map((copy) => [copy.name, copy]));
  }, [names.join(",")]);
}
