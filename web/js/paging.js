// Staff lists that come a page at a time (AIP-158 next_page_token): a list shows how many of how many it
// holds and offers the rest, so nothing is cut off silently (the Fines page once showed the newest 100 and a
// total over all of them).
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./html.js";
import { keepFocus } from "./a11y.js";
import { formatNumber, t } from "./i18n.js";
import { useOnline } from "./components.js";

const START = { items: [], next: "", total: 0, last: null, pages: 0, loading: true, error: null, loaded: false };

/**
 * `fetchPage(token)` resolves to `{ items, next, total, ...rest }` (`rest` kept as `last`: totals over every
 * page). The first page comes at once; `more()` adds the next page, `all()` every page left; `reload()` fetches
 * again as many pages as are shown (after a change to one of them), from the first. `pages`: how many pages
 * to fetch at first (Infinity: all, for a list sorted here rather than by the API).
 */
export function usePaged(fetchPage, deps, { pages: firstPages = 1 } = {}) {
  const [state, setState] = useState(START);
  const latest = useRef(0);
  const shown = useRef(state);
  shown.current = state;
  const load = useCallback(async (count, from) => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    let { items, next, pages, last, total } = from || { ...START, items: [] };
    try {
      do {
        const page = await fetchPage(next);
        items = [...items, ...(page.items || [])];
        next = page.next || "";
        total = page.total || 0;
        last = page;
        pages += 1;
      } while (next && pages < count && call === latest.current);
      if (call === latest.current) setState({ items, next, total, last, pages, loading: false, error: null, loaded: true });
    } catch (error) {
      if (call !== latest.current) return;
      // A first page that failed shows nothing of an older query; a further page keeps what is shown.
      setState(from ? { ...from, loading: false, error } : { ...START, loading: false, error });
    }
  }, deps);
  useEffect(() => {
    load(firstPages, null);
  }, [load]);
  // Before any page came, as at first (every page of a list sorted here); after, as many pages as are shown.
  const reload = () => load(shown.current.loaded ? Math.max(shown.current.pages, 1) : firstPages, null);
  // A list that could not be loaded for want of a connection asks again once the browser is online (finding P7).
  useOnline(() => shown.current.error?.retryable && reload(), [load]);
  return {
    ...state,
    more: () => load(shown.current.pages + 1, shown.current),
    all: () => load(Infinity, shown.current),
    reload,
  };
}

/** "Showing 100 of 105" with Show more / Show all while pages are left. `branch`, with `shown`: the list is
 * filtered here to that branch (its pages are every branch's), so the count is of the rows shown there, beside
 * the whole library's ("Showing 1 at EAST of 4 in all branches"), not the whole library's alone. */
export function PagedCount({ list, branch = "", shown: shownHere = null }) {
  if (!list.loaded || (!list.items.length && !list.next)) return null; // "nothing" is said by the list
  const shown = list.items.length;
  const total = Math.max(list.total, shown);
  const words = branch
    ? t("paging.showing_at", { shown: formatNumber(shownHere ?? shown), branch, total: formatNumber(total) })
    : t("paging.showing", { shown: formatNumber(shown), total: formatNumber(total) });
  // aria-disabled while a page loads, not `disabled`: that threw the keyboard focus to <body> (finding A5).
  // With the last page the buttons go: the focus then goes to the count, which says how many are shown now.
  const busy = list.loading ? "true" : undefined;
  const fetchMore = async (step) => {
    if (list.loading) return;
    await step();
    keepFocus(undefined, () => document.querySelector('[data-testid="paged-count"]'));
  };
  return html`<div class="paged-count">
    <p role="status" data-testid="paged-count">
      ${words}
    </p>
    ${list.next &&
    html`<div class="actions">
      <button type="button" class="button quiet" aria-disabled=${busy} onClick=${() => fetchMore(list.more)}>${t("common.more")}</button>
      <button type="button" class="button quiet" aria-disabled=${busy} onClick=${() => fetchMore(list.all)}>${t("paging.all")}</button>
    </div>`}
  </div>`;
}

/** The exact sum of decimal strings ("5.00", "0.3"), as a decimal string: money is never added as floats. */
export function sumDecimals(amounts) {
  const scale = Math.max(2, ...amounts.map((amount) => (String(amount).split(".")[1] || "").length));
  let sum = 0n;
  for (const amount of amounts) {
    const [whole, fraction = ""] = String(amount || "0").replace(/^-/, "").split(".");
    const units = BigInt(whole || "0") * 10n ** BigInt(scale) + BigInt((fraction + "0".repeat(scale)).slice(0, scale) || "0");
    sum += String(amount).startsWith("-") ? -units : units;
  }
  const sign = sum < 0n ? "-" : "";
  const digits = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, "0");
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

// A bound on the pages `fetchAll` follows: a list that long is a fault (or a loop of tokens), not a list to show.
const MOST_PAGES = 200;

/** Every item of a list the page needs whole (a patron's active holds, the rules matrix): each page of 100
 * until `next_page_token` is empty. `field` names the items in the answer ("holds", "copies"…). */
export async function fetchAll(path, { query = {}, field, auth = true } = {}) {
  const items = [];
  let token = "";
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const data = await api(path, { query: { ...query, page_size: 100, page_token: token }, auth });
    items.push(...(data[field] || []));
    token = data.next_page_token || "";
    if (!token) return items;
  }
  throw new Error(`more than ${MOST_PAGES} pages of ${field}`);
}

/** A patron's active holds (READY, then IN_TRANSIT, then WAITING), however many ended holds came before them. */
export async function fetchActiveHolds(patron) {
  const lists = await Promise.all(
    ["HOLD_STATUS_READY", "HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_WAITING"].map((status) =>
      fetchAll(`/v1/${patron}/holds`, { query: { status }, field: "holds" }),
    ),
  );
  return lists.flat();
}

/** What `fines` still owe in all, as the API's outstanding_total says it (only OUTSTANDING fines owe). */
export function sumOwed(fines) {
  return sumDecimals(fines.filter((fine) => fine.status === "FINE_STATUS_OUTSTANDING").map((fine) => fine.outstanding_amount));
}
