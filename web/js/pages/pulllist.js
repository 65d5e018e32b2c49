// The pull list for staff: every copy set aside for a hold and not on the hold shelf yet (IN_TRANSIT holds), in
// two lists for a branch: the copies to pull here (still on this branch's open shelves: `to_pull`, by the copy's
// branch, sorted as a librarian walks the shelves: call number, shelf), and the copies on their way here (sent
// by a return or a pull at another branch: by the hold's pickup branch). Shown first for the librarian's own
// branch. A scan field receives each copy (receiving.js): onto the hold shelf here, or "send it to…".
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { t } from "../i18n.js";
import { ErrorNotice, Loading, useAsync, useTitle } from "../components.js";
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
  const placeOf = (row) => (row.hold.to_pull ? row.copy.branch : row.hold.pickup_branch);
  const codes = [deskBranch(), ...rows.map(placeOf)].filter(Boolean);
  const branches = [...new Map(codes.map((code) => [code.trim().toLowerCase(), code.trim()])).values()].sort(byShelf.compare);
  const here = (row) => branch === ALL || sameBranch(placeOf(row), branch);
  const toPull = rows.filter((row) => row.hold.to_pull && here(row)).sort(shelfOrder);
  const coming = rows.filter((row) => !row.hold.to_pull && here(row)).sort(shelfOrder);
  const shown = holds.loaded && copies.data;
  const table = { patrons, titles };
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
    <${ErrorNotice} error=${holds.error || copies.error} />
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
function CopyTable({ rows, testid, patrons, titles }) {
  return html`<div class="table-wrap"><table class="stacks" data-testid=${testid}>
      <thead><tr><th scope="col">${t("holdshelf.book")}</th><th scope="col">${t("holdshelf.barcode")}</th>
        <th scope="col">${t("pulllist.call_number")}</th><th scope="col">${t("pulllist.shelf")}</th>
        <th scope="col">${t("pulllist.copy_branch")}</th><th scope="col">${t("holdshelf.patron")}</th>
        <th scope="col">${t("pulllist.send_to")}</th></tr></thead>
      <tbody>${rows.map(({ hold, copy }) => {
        const patron = patrons[hold.patron];
        return html`<tr key=${hold.name} data-hold=${hold.name}>
          <td><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("patrons.held_book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${copy.barcode || "—"}</td>
          <td data-label=${t("pulllist.call_number")}>${copy.call_number || "—"}</td>
          <td data-label=${t("pulllist.shelf")}>${copy.shelf_location || "—"}</td>
          <td data-label=${t("pulllist.copy_branch")}>${copy.branch || "—"}</td>
          <td data-label=${t("holdshelf.patron")}><a href=${`#/patrons/${idOf(hold.patron)}`}>${patron?.label || t("fines.open_patron")}</a>
            ${patron?.card && html` <span class="muted">${patron.card}</span>`}</td>
          <td data-label=${t("pulllist.send_to")}>${hold.pickup_branch || t("pulllist.any_branch")}</td>
        </tr>`;
      })}</tbody>
    </table></div>`;
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
