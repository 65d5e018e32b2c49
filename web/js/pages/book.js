// A book: its record, its copies and their availability per branch, and a hold for a signed-in patron.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { announce, focusLater, langOf, useHeadingFocusWhenReady } from "../a11y.js";
import { formatDeadline, languageName, t } from "../i18n.js";
import { session } from "../session.js";
import { Availability, ErrorNotice, LoadError, Loading, NotFound, Notice, namesNothing, useAction, useAsync, useTitle } from "../components.js";
import { AddCopy, CopyList, HoldForAPatron } from "./book_staff.js";
import { fetchAll } from "../paging.js";
import { FollowAuthors } from "../following.js";
import { referenceCodes, useItemTypes } from "../item_types.js";
import { useLibraryBranches } from "../branches.js";
import { SessionEndedNotice, endedUnder } from "../session_ended.js";

const ACTIVE_HOLDS = ["HOLD_STATUS_WAITING", "HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_READY"];

export function BookPage({ params }) {
  const bookName = `books/${params.id}`;
  const book = useAsync(() => api(`/v1/${bookName}`, { auth: false }), [bookName]);
  const copies = useAsync(
    () => fetchAll(`/v1/${bookName}/copies`, { field: "copies", auth: false }),
    [bookName],
  );
  const itemTypes = useItemTypes();
  useTitle(book.data?.title || t("book.title"));
  useHeadingFocusWhenReady(Boolean(book.data || book.error)); // the heading comes with the book
  if (book.loading && !book.data) return html`<${Loading} />`;
  if (namesNothing(book.error)) return html`<${NotFound} />`;
  const reload = () => {
    book.reload();
    copies.reload();
  };
  // Opened offline: said so, with Try again (the book and its copies), and asked again once online (finding P7).
  if (!book.data) {
    return html`<h1 tabindex="-1">${t("book.title")}</h1>
      <${LoadError} of=${{ error: book.error, reload }} title=${t("book.load_failed")} id="book" />`;
  }
  const record = book.data;
  return html`<article>
    <div class="book-head">
      <h1 tabindex="-1" lang=${langOf(record)}>${record.title}${record.subtitle && html`<span class="muted">: ${record.subtitle}</span>`}</h1>
      <${Availability} book=${record} />
    </div>
    <dl class="facts">
      ${(record.authors || []).length > 0 && html`<dt>${t("book.authors")}</dt><dd>${record.authors.join(", ")}</dd>`}
      ${record.publisher && html`<dt>${t("book.publisher")}</dt><dd>${record.publisher}</dd>`}
      ${record.publication_year > 0 && html`<dt>${t("book.year")}</dt><dd>${record.publication_year}</dd>`}
      ${record.language && html`<dt>${t("book.language")}</dt><dd>${languageName(record.language)}</dd>`}
      ${(record.subjects || []).length > 0 && html`<dt>${t("book.subjects")}</dt><dd>${record.subjects.join(", ")}</dd>`}
      ${record.isbn && html`<dt>ISBN</dt><dd>${record.isbn}</dd>`}
    </dl>
    ${record.description && html`<p lang=${langOf(record)}>${record.description}</p>`}
    <${FollowAuthors} authors=${record.authors} />
    ${referenceOnly(record)
      ? html`<p class="card" data-testid="reference-only">${t("hold.reference_only")}</p>`
      : html`<${HoldPanel} bookName=${bookName} copies=${copies.data || []} onPlaced=${reload} />`}
    <h2>${t("book.copies")}</h2>
    <${LoadError} of=${copies} title=${t("book.copies_load_failed")} id="copies" />
    ${copies.loading && !copies.data && html`<${Loading} />`}
    ${copies.data && html`<${CopiesByBranch} copies=${copies.data} reference=${referenceCodes(itemTypes.data)} />`}
    ${session.isStaff() &&
    html`<${HoldForAPatron} book=${record} copies=${copies.data || []} onPlaced=${reload} />
      <${AddCopy} book=${record} onAdded=${reload} />
      <${CopyList} copies=${copies.data || []} onChanged=${reload} />`}
  </article>`;
}

/** Whether every copy of the title is for reference (not for loan): no hold can be placed (finding D7: the form
 * was offered, and the refusal blamed the reader's membership). */
function referenceOnly(book) {
  return book.reference_copies > 0 && book.reference_copies === book.total_copies;
}

/** `reference`: the codes of the not-for-loan item types (their copies are there to read, never to take home). */
function CopiesByBranch({ copies, reference }) {
  const held = copies.filter((copy) => copy.status !== "COPY_STATUS_WITHDRAWN"); // withdrawn: no longer the library's
  if (!held.length) return html`<p>${t("book.no_copies")}</p>`;
  const branches = new Map();
  for (const copy of held) {
    const branch = copy.branch || "—";
    if (!branches.has(branch)) branches.set(branch, []);
    branches.get(branch).push(copy);
  }
  return html`<div class="table-wrap"><table>
    <caption class="visually-hidden">${t("book.copies")}</caption>
    <thead><tr><th scope="col">${t("book.branch")}</th><th scope="col">${t("book.available_here")}</th><th scope="col">${t("book.copy_details")}</th></tr></thead>
    <tbody>
      ${[...branches].map(([branch, list]) => {
        const onShelf = (copy) => copy.status === "COPY_STATUS_AVAILABLE" && !reference.has(copy.item_type);
        const available = list.filter(onShelf).length;
        return html`<tr key=${branch}>
          <th scope="row">${branch}</th>
          <td>${t("book.available_of", { available, total: list.length })}</td>
          <td>${list.map(
            (copy) => html`<div key=${copy.name}>
              ${[copy.call_number, copy.shelf_location].filter(Boolean).join(" · ")} ${t(`copy_status.${copy.status}`)}
              ${reference.has(copy.item_type) && html` <span class="badge reference">${t("item_types.reference_only")}</span>`}
            </div>`,
          )}</td>
        </tr>`;
      })}
    </tbody>
  </table></div>`;
}

function HoldPanel({ bookName, copies, onPlaced }) {
  const user = session.user;
  const mine = useAsync(
    () =>
      user
        ? fetchAll(`/v1/${user.name}/holds`, { query: { book: bookName }, field: "holds" }).then((holds) =>
            holds.find((hold) => ACTIVE_HOLDS.includes(hold.status)),
          )
        : Promise.resolve(null),
    [user?.name, bookName],
  );
  const [branch, setBranch] = useState("");
  const library = useLibraryBranches(Boolean(user));
  const placing = useAction();
  const [error, setError] = useState(null);
  const [placed, setPlaced] = useState(null);

  if (!user) {
    if (endedUnder(error)) return html`<${SessionEndedNotice} text=${t("hold.not_placed_session_ended")} />`;
    const next = encodeURIComponent(location.hash.slice(1));
    return html`<div class="card"><p>${t("hold.sign_in_to_hold")}</p>
      <a class="button" href=${`#/signin?next=${next}`}>${t("nav.sign_in")}</a></div>`;
  }
  const hold = placed || mine.data;
  if (hold) return html`<div class="card" id="my-hold" data-testid="my-hold"><${HoldStatus} hold=${hold} /></div>`;
  // Not offered until the reader's own holds of the book are known: a form tapped while they load may be one
  // for a book already on hold (the card replaced it a moment later, under the finger).
  if (mine.loading && !mine.error) return html`<div class="card"><${Loading} /></div>`;

  // The library's branches when it lists them (a hold may be picked up at any, copies or not); else the
  // branches its copies are at.
  const branches = library?.listed ? library.codes : [...new Set(copies.map((copy) => copy.branch).filter(Boolean))];
  async function place(event) {
    event.preventDefault();
    setError(null);
    try {
      const body = { patron: user.name, book: bookName, pickup_branch: branch };
      const hold = await placing.run(body, (request_id) => api("/v1/holds", { method: "POST", body, query: { request_id } }));
      if (hold) {
        setPlaced(hold);
        // The form (and the button pressed) gives way to the hold's card: the focus goes to it, and its words
        // are said through the status line that was in the page before (finding A9).
        focusLater("my-hold");
        announce(holdWords(hold).join(" "));
        onPlaced(); // a copy may have been set aside for it: the counts above are the book's as it is now
      }
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<form class="card" onSubmit=${place}>
    <h2>${t("hold.heading")}</h2>
    ${branches.length > 1 &&
    html`<div class="field">
      <label for="pickup-branch">${t("hold.pickup_branch")}</label>
      <select id="pickup-branch" value=${branch} onChange=${(event) => setBranch(event.currentTarget.value)}>
        <option value="">${user.home_branch ? t("hold.home_branch") : t("hold.first_free")}</option>
        ${branches.map((code) => html`<option value=${code}>${code}</option>`)}
      </select>
    </div>`}
    <${ErrorNotice} error=${error} title=${error?.retryable ? t("hold.no_answer") : t("hold.refused")} />
    <button class="button" type="submit" aria-disabled=${placing.busy ? "true" : undefined}>${t("hold.place")}</button>
  </form>`;
}

/** A hold in words: its place in the queue; a copy being fetched for it (from the open shelf, or from another
 * branch: no pickup deadline yet); or the pickup deadline once the copy waits on the hold shelf. */
export function HoldStatus({ hold }) {
  // A hold with no pickup branch is picked up where its copy waits: that copy's branch, not "any branch".
  const copy = useAsync(
    () => (hold.status === "HOLD_STATUS_READY" && !hold.pickup_branch && hold.copy ? api(`/v1/${hold.copy}`) : Promise.resolve(null)),
    [hold.status, hold.pickup_branch, hold.copy],
  );
  const [title, text] = holdWords(hold, copy.data?.branch);
  return html`<${Notice} kind=${hold.status === "HOLD_STATUS_READY" ? "ok" : "info"}><strong>${title}</strong>${text}<//>`;
}

/** The words of a hold's state: [what it is, the detail]; `copyBranch` where a ready copy waits. */
export function holdWords(hold, copyBranch) {
  if (hold.status === "HOLD_STATUS_IN_TRANSIT") {
    const where = hold.pickup_branch ? t("hold.in_transit_to", { branch: hold.pickup_branch }) : t("hold.in_transit_here");
    return [t("hold.in_transit"), where];
  }
  if (hold.status === "HOLD_STATUS_READY") {
    const branch = hold.pickup_branch || copyBranch || t("hold.any_branch");
    return [t("hold.ready"), t("hold.ready_until", { date: formatDeadline(hold.expire_time), branch })];
  }
  return [t("hold.placed"), t("hold.position", { position: hold.queue_position })];
}

