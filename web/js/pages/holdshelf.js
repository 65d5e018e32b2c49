// The hold shelf for staff: every READY hold (a copy put aside for a patron) at a branch, soonest pickup deadline
// first, those past it flagged (the copy goes back to the shelf or to the next in the queue). One ListHolds call
// a page (`pickup_branch` filter, `expire_time` order): each hold carries its book's title, its copy's barcode
// and its patron's name and card, so the page asks nothing per row (it once made a GET per patron, copy and
// book, and the edge's rate limit refused many of them). Shown first for the librarian's own branch.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { t, tn } from "../i18n.js";
import { DeadlineText, ErrorNotice, Loading, useTitle } from "../components.js";
import { useBookHeadings } from "../book_headings.js";
import { PagedCount, usePaged } from "../paging.js";
import { branchChoices, useBranchesInUse } from "../branches.js";
import { deskBranch } from "../receiving.js";
import { SendHomeList } from "../held_copies.js";

const READY = "HOLD_STATUS_READY";
const ALL = "";
const byCode = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** The ListHolds filter of one branch (AIP-160: the code quoted, so any spelling of it is one value). */
export function branchFilter(field, branch) {
  return branch === ALL ? "" : `${field} = "${branch.trim().replace(/["\\]/g, "\\$&")}"`;
}

/** One page of holds a call: `query` as ListHolds takes it. */
export function useHoldPages(query, deps) {
  return usePaged(
    (page_token) =>
      api("/v1/holds", { query: { ...query, page_size: 100, page_token } }).then((data) => ({
        items: data.holds || [],
        next: data.next_page_token,
        total: data.total_size,
      })),
    deps,
  );
}

/** The patron cell: name and card number as the hold carries them (staff answers), else a link to the patron. */
export function PatronCell({ hold }) {
  const label = hold.patron_display_name || t("fines.open_patron");
  return html`<td data-label=${t("holdshelf.patron")}><a href=${`#/patrons/${idOf(hold.patron)}`}>${label}</a>
    ${hold.patron_card_number && html` <span class="muted">${hold.patron_card_number}</span>`}</td>`;
}

export function HoldShelfPage() {
  useTitle(t("holdshelf.title"));
  const [branch, setBranch] = useState(deskBranch() || ALL);
  const query = { status: READY, order_by: "expire_time", filter: branchFilter("pickup_branch", branch) };
  const holds = useHoldPages(query, [branch]);
  const list = holds.items;
  const { titles, langs } = useBookHeadings(list);
  const inUse = useBranchesInUse();
  const codes = [deskBranch(), branch, ...list.map((hold) => hold.pickup_branch), ...inUse.codes];
  const branches = branchChoices(codes, byCode, inUse.listed ? inUse.codes : []);
  const now = Date.now();
  const late = list.filter((hold) => Date.parse(hold.expire_time) < now).length;
  return html`<h1 tabindex="-1">${t("holdshelf.title")}</h1>
    <p class="muted">${t("holdshelf.intro")}</p>
    <div class="field form-narrow">
      <label for="holdshelf-branch">${t("pulllist.branch_filter")}</label>
      <select id="holdshelf-branch" value=${branches.spelt(branch)} onChange=${(event) => setBranch(event.currentTarget.value)}>
        <option value=${ALL}>${t("pulllist.all_branches")}</option>
        ${branches.list.map((code) => html`<option value=${code}>${code}</option>`)}
      </select>
    </div>
    <${ErrorNotice} error=${holds.error} />
    ${holds.loading && !holds.loaded && html`<${Loading} />`}
    ${holds.loaded && !list.length &&
    html`<p role="status">${branch === ALL ? t("holdshelf.empty") : t("holdshelf.empty_at", { branch })}</p>`}
    ${late > 0 && html`<p class="notice" data-testid="holdshelf-late">${tn("holdshelf.late", late)}</p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks" data-testid="holdshelf">
      <thead><tr><th scope="col">${t("holdshelf.book")}</th><th scope="col">${t("holdshelf.barcode")}</th>
        <th scope="col">${t("holdshelf.patron")}</th><th scope="col">${t("holdshelf.branch")}</th>
        <th scope="col">${t("holdshelf.deadline")}</th></tr></thead>
      <tbody>${list.map((hold) => {
        const past = Date.parse(hold.expire_time) < now;
        return html`<tr key=${hold.name} class=${past ? "is-overdue" : undefined} data-hold=${hold.name}>
          <td lang=${langs[hold.book]}><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("patrons.held_book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${hold.barcode || "—"}</td>
          <${PatronCell} hold=${hold} />
          <td data-label=${t("holdshelf.branch")}>${branches.spelt(hold.pickup_branch || hold.copy_branch) || "—"}</td>
          <td data-label=${t("holdshelf.deadline")}><${DeadlineText} iso=${hold.expire_time} />
            ${past && html` <strong class="error">${t("holdshelf.past")}</strong>`}</td>
        </tr>`;
      })}</tbody>
    </table></div>`}
    <${PagedCount} list=${holds} />
    <${SendHomeList} branch=${branch} />`;
}
