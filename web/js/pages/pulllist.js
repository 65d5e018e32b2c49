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
import { ErrorNotice, Loading, Notice, useAction, useTitle } from "../components.js";
import { useBookHeadings } from "../book_headings.js";
import { PatronCell, branchFilter, useHoldPages } from "./holdshelf.js";
import { PagedCount } from "../paging.js";
import { branchChoices, useBranchesInUse } from "../branches.js";
import { IN_TRANSIT, ReceiveScanner, deskBranch } from "../receiving.js";

const ALL = "";
const byShelf = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Both lists of a branch, each one ListHolds call a page: the copies to pull from its shelves (`pull_branch`),
 * and those on their way to it (`pickup_branch`, not to pull). Each hold carries its copy's barcode, call
 * number, shelf and branch: nothing is asked per row. */
export function PullListPage() {
  useTitle(t("pulllist.title"));
  const [branch, setBranch] = useState(deskBranch() || ALL);
  const and = (a, b) => [a, b].filter(Boolean).join(" AND ");
  const pull = useHoldPages({ status: IN_TRANSIT, filter: branch === ALL ? "to_pull = true" : branchFilter("pull_branch", branch) }, [branch]);
  const incoming = useHoldPages({ status: IN_TRANSIT, filter: and("to_pull = false", branchFilter("pickup_branch", branch)) }, [branch]);
  const { titles, langs } = useBookHeadings([...pull.items, ...incoming.items]);
  const reload = () => {
    pull.reload();
    incoming.reload();
  };
  const toPull = [...pull.items].sort(shelfOrder);
  const coming = [...incoming.items].sort(shelfOrder);
  const inUse = useBranchesInUse();
  const codes = [deskBranch(), branch, ...toPull.map(pulledFrom), ...coming.map((hold) => hold.pickup_branch), ...inUse.codes];
  const branches = branchChoices(codes, byShelf, inUse.listed ? inUse.codes : []);
  const missing = useMissing(reload);
  const table = { titles, langs, missing };
  return html`<h1 tabindex="-1">${t("pulllist.title")}</h1>
    <p class="muted">${t("pulllist.intro")}</p>
    <${ReceiveScanner} onReceived=${reload} />
    <div class="field form-narrow">
      <label for="pulllist-branch">${t("pulllist.branch_filter")}</label>
      <select id="pulllist-branch" value=${branches.spelt(branch)} onChange=${(event) => setBranch(event.currentTarget.value)}>
        <option value=${ALL}>${t("pulllist.all_branches")}</option>
        ${branches.list.map((code) => html`<option value=${code}>${code}</option>`)}
      </select>
    </div>
    <${ErrorNotice} error=${pull.error || incoming.error || missing.error} />
    ${missing.message && html`<${Notice}>${missing.message}<//>`}
    ${(pull.loading || incoming.loading) && !(pull.loaded && incoming.loaded) && html`<${Loading} />`}
    <h2>${t("pulllist.to_fetch")}</h2>
    ${pull.loaded && !toPull.length &&
    html`<p role="status">${branch === ALL ? t("pulllist.empty") : t("pulllist.empty_at", { branch })}</p>`}
    ${toPull.length > 0 && html`<${CopyTable} rows=${toPull} testid="pulllist" ...${table} />`}
    <${PagedCount} list=${pull} />
    <h2>${t("pulllist.incoming")}</h2>
    ${incoming.loaded && !coming.length &&
    html`<p role="status">${branch === ALL ? t("pulllist.incoming_empty") : t("pulllist.incoming_empty_at", { branch })}</p>`}
    ${coming.length > 0 && html`<${CopyTable} rows=${coming} testid="pulllist-incoming" ...${table} />`}
    <${PagedCount} list=${incoming} />`;
}

/** Where a copy to pull is: the hold shelf it sits on (a READY hold's copy passed on), else its own branch. */
function pulledFrom(hold) {
  return hold.hold_shelf_branch || hold.copy_branch;
}

/** One list of copies set aside: where each stands (branch, call number, shelf), for whom and where it goes. */
function CopyTable({ rows, testid, titles, langs, missing }) {
  return html`<div class="table-wrap"><table class="stacks" data-testid=${testid}>
      <thead><tr><th scope="col">${t("holdshelf.book")}</th><th scope="col">${t("holdshelf.barcode")}</th>
        <th scope="col">${t("pulllist.call_number")}</th><th scope="col">${t("pulllist.shelf")}</th>
        <th scope="col">${t("pulllist.copy_branch")}</th><th scope="col">${t("holdshelf.patron")}</th>
        <th scope="col">${t("pulllist.send_to")}</th><th scope="col">${t("pulllist.actions")}</th></tr></thead>
      <tbody>${rows.map((hold) => html`<tr key=${hold.name} data-hold=${hold.name}>
          <td lang=${langs[hold.book]}><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("patrons.held_book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${hold.barcode || "—"}</td>
          <td data-label=${t("pulllist.call_number")}>${hold.call_number || "—"}</td>
          <td data-label=${t("pulllist.shelf")}>${hold.hold_shelf_branch
            ? t("pulllist.on_hold_shelf", { branch: hold.hold_shelf_branch })
            : hold.shelf_location || "—"}</td>
          <td data-label=${t("pulllist.copy_branch")}>${pulledFrom(hold) || "—"}</td>
          <${PatronCell} hold=${hold} />
          <td data-label=${t("pulllist.send_to")}>${hold.pickup_branch || t("pulllist.any_branch")}</td>
          <td><button type="button" class="button small quiet" aria-disabled=${missing.busy ? "true" : undefined}
            onClick=${() => missing.report(hold, titles[hold.book])}
            aria-label=${t("pulllist.missing_named", { barcode: hold.barcode || "—" })}>${t("pulllist.missing")}</button></td>
        </tr>`)}</tbody>
    </table></div>`;
}

/** "Missing": after the librarian confirms, the hold's copy is reported missing (LOST in the catalog) and the
 * hold served another copy if one is on the shelf; the list is read again. */
function useMissing(reload) {
  const action = useAction();
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  const report = async (hold, title) => {
    const label = { barcode: hold.barcode || "—", title: title || t("patrons.held_book") };
    if (action.busy || !window.confirm(t("pulllist.missing_confirm", label))) return;
    setError(null);
    setMessage(null);
    try {
      // The row's etag: a copy another desk found and sent on (or received) since the list was read is not
      // reported (ABORTED), rather than made LOST in the van (finding D15).
      const body = { copy: hold.copy, etag: hold.etag };
      const answer = await action.run({ missing: hold.name, ...body }, (request_id) =>
        api(`/v1/${hold.name}:reportCopyMissing`, { method: "POST", body: { ...body, request_id } }),
      );
      if (!answer) return;
      setMessage(answer.status === IN_TRANSIT ? t("pulllist.missing_replaced", label) : t("pulllist.missing_waiting", label));
      reload();
    } catch (failure) {
      if (failure?.reason !== "STALE_ETAG") return setError(failure);
      setMessage(t("pulllist.missing_stale", label));
      reload();
    }
  };
  return { busy: action.busy, report, message, error };
}

/** The copy's branch, then its call number, shelf and barcode (as the hold carries them); unknown ones last. */
function shelfOrder(a, b) {
  const keys = (hold) => [pulledFrom(hold), hold.call_number, hold.shelf_location, hold.barcode];
  const [left, right] = [keys(a), keys(b)];
  for (let i = 0; i < left.length; i += 1) {
    if (!left[i] !== !right[i]) return left[i] ? -1 : 1;
    const order = byShelf.compare(left[i] || "", right[i] || "");
    if (order) return order;
  }
  return 0;
}
