// The hold shelf for staff: every READY hold (a copy put aside for a patron), soonest pickup deadline first,
// those past it flagged (the copy goes back to the shelf or to the next in the queue). ListHolds over all
// patrons, status READY, every page (the shelf is sorted by deadline, which the API does not order by). Shown
// first for the librarian's own branch, as the pull list is: each branch has a hold shelf of its own.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { t, tn } from "../i18n.js";
import { DeadlineText, ErrorNotice, Loading, useAsync, useTitle } from "../components.js";
import { useBookTitles } from "./account.js";
import { PagedCount, usePaged } from "../paging.js";
import { branchChoices, sameBranch } from "../branches.js";
import { deskBranch } from "../receiving.js";
import { SendHomeList } from "../held_copies.js";

const READY = "HOLD_STATUS_READY";
const ALL = "";
const byCode = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function HoldShelfPage() {
  useTitle(t("holdshelf.title"));
  const [branch, setBranch] = useState(deskBranch() || ALL);
  const holds = usePaged(
    (page_token) =>
      api("/v1/holds", { query: { status: READY, page_size: 100, page_token } }).then((data) => ({
        items: data.holds || [],
        next: data.next_page_token,
        total: data.total_size,
      })),
    [],
    { pages: Infinity },
  );
  const copies = useCopies(holds.items);
  // The shelf a copy waits on: its hold's pickup branch, or where it was shelved for a hold that named none.
  const shelfOf = (hold) => hold.pickup_branch || copies[hold.copy]?.branch || "";
  const branches = branchChoices([deskBranch(), ...holds.items.map(shelfOf)], byCode);
  const list = holds.items
    .filter((hold) => branch === ALL || sameBranch(shelfOf(hold), branch))
    .sort((a, b) => Date.parse(a.expire_time || 0) - Date.parse(b.expire_time || 0));
  const patrons = usePatrons(list);
  const titles = useBookTitles(list);
  const now = Date.now();
  const late = list.filter((hold) => Date.parse(hold.expire_time) < now).length;
  return html`<h1 tabindex="-1">${t("holdshelf.title")}</h1>
    <p class="muted">${t("holdshelf.intro")}</p>
    <div class="field form-narrow">
      <label for="holdshelf-branch">${t("pulllist.branch_filter")}</label>
      <select id="holdshelf-branch" value=${branch} onChange=${(event) => setBranch(event.currentTarget.value)}>
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
        const patron = patrons[hold.patron];
        return html`<tr key=${hold.name} class=${past ? "is-overdue" : undefined} data-hold=${hold.name}>
          <td><a href=${`#/books/${idOf(hold.book)}`}>${titles[hold.book] || t("patrons.held_book")}</a></td>
          <td data-label=${t("holdshelf.barcode")}>${copies[hold.copy]?.barcode || "—"}</td>
          <td data-label=${t("holdshelf.patron")}><a href=${`#/patrons/${idOf(hold.patron)}`}>${patron?.label || t("fines.open_patron")}</a>
            ${patron?.card && html` <span class="muted">${patron.card}</span>`}</td>
          <td data-label=${t("holdshelf.branch")}>${branches.spelt(shelfOf(hold)) || "—"}</td>
          <td data-label=${t("holdshelf.deadline")}><${DeadlineText} iso=${hold.expire_time} />
            ${past && html` <strong class="error">${t("holdshelf.past")}</strong>`}</td>
        </tr>`;
      })}</tbody>
    </table></div>`}
    <${PagedCount} list=${holds} branch=${branch} shown=${list.length} />
    <${SendHomeList} branch=${branch} />`;
}

/** Name and card number of each patron with one of `holds` (on the hold shelf, or on the pull list). */
export function usePatrons(holds) {
  const names = [...new Set(holds.map((hold) => hold.patron))].sort();
  const found = useAsync(async () => {
    const users = await Promise.all(names.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(users.filter(Boolean).map((user) => [user.name, { label: user.display_name || user.email, card: user.card_number }]));
  }, [names.join(",")]);
  return found.data || {};
}

/** Each copy put aside, by name: its barcode (what the librarian looks for on the shelf) and its branch (whose
 * shelf it waits on, for a hold with no pickup branch of its own). */
function useCopies(holds) {
  const copies = [...new Set(holds.map((hold) => hold.copy).filter(Boolean))].sort();
  const found = useAsync(async () => {
    const answers = await Promise.all(copies.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(answers.filter(Boolean).map((copy) => [copy.name, copy]));
  }, [copies.join(",")]);
  return found.data || {};
}
