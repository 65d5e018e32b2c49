// Small shared pieces: async data, user actions, messages, fields, dates, money, highlights.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, newRequestId } from "./api.js";
import { html } from "./html.js";
import { keepFocus, titleLangOf, useFocusIfLost } from "./a11y.js";
import { errorText, formatDate, formatDeadline, formatMoney, overdueTitle, t } from "./i18n.js";

/** Runs `load` when `deps` change; {data, error, loading, reload, update}. Answers to stale calls are dropped.
 * A reload that fails keeps the data shown (a list that could not be loaded is not an empty list: "You have no
 * books on loan" stood beside "cannot be reached", finding P7), never another query's. A load that failed with
 * no final answer (no connection) runs again when the browser is back online. `update(change)`: the data as a
 * change the page made shows it (a renewed loan), before any reload. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true, of: null });
  const latest = useRef(0);
  const shown = useRef(state);
  shown.current = state;
  const query = useMemo(() => ({}), deps); // what the data shown was loaded for
  const run = useCallback(async () => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    try {
      const data = await load();
      if (call === latest.current) setState({ data, error: null, loading: false, of: query });
    } catch (error) {
      if (call !== latest.current) return;
      setState((previous) => ({ data: previous.of === query ? previous.data : null, error, loading: false, of: previous.of }));
    }
  }, deps);
  useEffect(() => {
    run();
  }, [run]);
  useOnline(() => shown.current.error?.retryable && run(), [run]);
  const update = useCallback((change) => setState((previous) => ({ ...previous, data: change(previous.data) })), []);
  return { data: state.data, error: state.error, loading: state.loading, reload: run, update };
}

/** Calls `back` when the browser is online again (the phone found its network): a page that could not load
 * something asks again by itself instead of staying broken until the reader reloads the whole client. */
export function useOnline(back, deps) {
  useEffect(() => {
    addEventListener("online", back);
    return () => removeEventListener("online", back);
  }, deps);
}

/** What could not be loaded (`of`: a useAsync or usePaged result), in words under `title`, with Try again when
 * the failure said nothing final (no connection, busy). The focus, on Try again, stays there if it fails again,
 * else goes to the section's heading. */
export function LoadError({ of: list, title, id }) {
  if (!list.error) return null;
  function again(event) {
    const section = event.currentTarget.closest("section, article, main");
    list.reload();
    keepFocus(`${id}-retry`, () => section?.querySelector("h2, h1"));
  }
  return html`<${ErrorNotice} error=${list.error} title=${title} />
    ${list.error.retryable &&
    html`<button type="button" class="button quiet" id=${`${id}-retry`} data-testid="try-again" onClick=${again}>${t("common.try_again")}</button>`}`;
}

/**
 * A change the user asks for (pay, renew, save …), one call at a time. `busy` while a call is in flight (its
 * buttons are disabled; a second click is ignored at once, before any re-render), and one request_id per
 * intent: `intent` is what the user asked for (the resource and the input, compared as JSON). A retry of the
 * same intent after an answer that said nothing final (no connection, busy, restarting) sends the same id,
 * so the server acts once (AIP-155); success, a final answer or other input starts a new one.
 * `run(intent, call)` calls `call(requestId)`; it resolves to its answer, or to undefined when ignored.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const ids = useRef(new Map());
  const run = useCallback(async (intent, call) => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    const key = JSON.stringify(intent);
    if (!ids.current.has(key)) ids.current.set(key, newRequestId());
    try {
      const answer = await call(ids.current.get(key));
      ids.current.delete(key);
      return answer;
    } catch (error) {
      if (!error?.retryable) ids.current.delete(key);
      throw error;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  return { busy, run };
}

/** A change to a list an admin keeps (closed days, item types): `act(intent, call, said)` runs `call` once per
 * intent (useAction), then keeps `said` ({key, values}: put in words when shown, so in the language shown then)
 * as `message` and reloads the list with `reload`; a refusal is kept in `error` for the page to show by field.
 * A new action clears the last one's message and error (finding D4: "DVD added" stood beside "already
 * exists"). A conflict (ABORTED: someone changed it meanwhile) reloads the list too, so that the next save
 * carries the etag of what is stored now (finding D13). Resolves to whether the change was made. */
export function useListChange(reload) {
  const change = useAction();
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  async function act(intent, call, said) {
    setError(null);
    setMessage(null);
    try {
      if (!(await change.run(intent, call))) return false;
      setMessage(said);
      reload();
      return true;
    } catch (failure) {
      setError(failure);
      if (failure?.code === ABORTED) reload();
      return false;
    }
  }
  return { busy: change.busy, act, message, error };
}

const ABORTED = 10; // the gRPC code of an etag that no longer matches (AIP-154)

/** Sets the document title for the current page. */
export function useTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} — ${t("app.name")}` : t("app.name");
  }, [title]);
}

/** A search form's state: it starts as what the route shows and follows the route when it changes (Back,
 * Forward, a link), but never on the first render: an effect run after the first paint wiped what a quick
 * hand (or a test) had already typed, and Enter then searched for nothing. */
export function useRouteForm(shown, key) {
  const [form, setForm] = useState(shown);
  const seen = useRef(key);
  useEffect(() => {
    if (seen.current === key) return;
    seen.current = key;
    setForm(shown);
  }, [key]);
  return [form, setForm];
}

export function Loading() {
  return html`<p class="loading" role="status">${t("common.loading")}</p>`;
}

/** A refusal or failure in plain words (role=alert so a screen reader says it at once). `staff`: on a form where
 * a librarian acts for a patron, the refusal is about the patron. */
export function ErrorNotice({ error, title, staff = false }) {
  if (!error) return null;
  if (error.unimplemented) return html`<${NotYetAvailable} />`;
  return html`<div class="notice error" role="alert">
    ${title && html`<strong>${title}</strong>`}${errorText(error, { staff })}
  </div>`;
}

/** What a feature whose service is not built yet shows (the call answered 501 / UNIMPLEMENTED). */
export function NotYetAvailable({ what }) {
  return html`<div class="notice info" role="status" data-state="not-available">
    <strong>${t("common.not_available_title")}</strong>${what || t("common.not_available")}
  </div>`;
}

export function Notice({ kind = "ok", children }) {
  return html`<div class=${`notice ${kind}`} role="status">${children}</div>`;
}

/** A labelled input with its hint and its error, wired for screen readers. */
export function Field({ id, label, hint, error, type = "text", value, onInput, ...rest }) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<span class="hint" id=${`${id}-hint`}>${hint}</span>`}
    <input
      id=${id}
      name=${id}
      type=${type}
      value=${value}
      onInput=${(event) => onInput(event.currentTarget.value)}
      aria-invalid=${error ? "true" : undefined}
      aria-describedby=${described}
      ...${rest}
    />
    ${error && html`<span class="error" id=${`${id}-error`}>${error}</span>`}
  </div>`;
}

export function DateText({ iso }) {
  return iso ? html`<time datetime=${iso}>${formatDate(iso)}</time>` : null;
}

/** A due time or pickup deadline: date, time and zone (see formatDeadline). */
export function DeadlineText({ iso }) {
  return iso ? html`<time datetime=${iso}>${formatDeadline(iso)}</time>` : null;
}

export function Money({ amount, currency }) {
  return html`<span class="num">${formatMoney(amount, currency)}</span>`;
}

/** What is owed in all: the sum in the library's currency, or that nothing is owed. The currency comes with
 * the fines, so with none there was only a bare "0.00" to show. */
export function TotalOwed({ total, currency }) {
  if (!Number(total || "0")) return t("fines.none_outstanding");
  return html`${t("fines.total_owed")}: <strong><${Money} amount=${total} currency=${currency} /></strong>`;
}

/** A search snippet: HTML from the catalog, the book's text escaped and matches in <b>…</b>; shown as text
 * with the matches marked (never as markup). */
export function Highlight({ text }) {
  const parts = text.split(/(<b>.*?<\/b>)/g).filter(Boolean);
  return parts.map((part) =>
    part.startsWith("<b>") && part.endsWith("</b>") ? html`<mark>${unescaped(part.slice(3, -4))}</mark>` : unescaped(part),
  );
}

function unescaped(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function Availability({ book }) {
  const available = book.available_copies || 0;
  // Copies of a not-for-loan item type on the shelf: there to read, never to take home (Koha's "for reference").
  const reference = book.reference_copies
    ? html` <span class="badge reference">${t("book.for_reference", { count: book.reference_copies })}</span>`
    : null;
  if (available > 0) {
    return html`<span class="badge available">${t("book.available", { available, total: book.total_copies })}</span>${reference}`;
  }
  return html`<span class="badge unavailable">${
    book.total_copies ? t("book.all_out", { total: book.total_copies }) : t("book.no_copies")
  }</span>${reference}`;
}

/** A record's look-up said its link names nothing: no such record (404), or no such name at all (400). */
export const namesNothing = (error) => error?.status === 404 || error?.status === 400;

/** For a link to no page, or to a record that does not exist. */
export function NotFound() {
  useTitle(t("common.not_found"));
  return html`<div class="card"><h1 tabindex="-1">${t("common.not_found")}</h1><a href="#/">${t("nav.catalogue")}</a></div>`;
}

/** Shown instead of a page that needs an account (or a staff role) the visitor does not have. */
export function SignInFirst({ staff = false, ended = false, under = false }) {
  // A session that ended under the user (expired, revoked) is said so: they were signed in a moment ago.
  const [title, text] = ended
    ? [t("auth.session_ended_title"), t("auth.session_ended")]
    : staff
      ? [t("auth.staff_only_title"), t("auth.staff_only")]
      : [t("auth.sign_in_first_title"), t("auth.sign_in_first")];
  useTitle(title);
  // In place of the page the user was on (signed out in another tab, session ended): said at once as an alert,
  // and the focus, which was on a control of that page, goes to the heading (finding A20).
  useFocusIfLost("sign-in-first");
  return html`<div class="card">
    <h1 tabindex="-1" id="sign-in-first">${title}</h1>
    <p role=${under ? "alert" : undefined}>${under ? t("auth.session_ended_under") : text}</p>
    <a class="button" href=${`#/signin?next=${encodeURIComponent(location.hash.slice(1))}`}>${t("nav.sign_in")}</a>
  </div>`;
}

/** Marks the book title a fine's text names with the book's language (the fine's `book_language`). */
export function markedTitle(fine) {
  const lang = titleLangOf(fine);
  return (title) => (lang ? html`<span lang=${lang}>${title}</span>` : title);
}

/** The titles of the loans overdue `fines` arose from, by loan name, for those whose description does not
 * already carry it (see fineText): one look-up per such loan, none in the usual case. */
export function useOverdueLoanTitles(fines) {
  const loans = [
    ...new Set(
      (fines || [])
        .filter((fine) => fine.kind === "FINE_KIND_OVERDUE" && fine.loan && !overdueTitle(fine.description))
        .map((fine) => fine.loan),
    ),
  ].sort();
  const titles = useAsync(async () => {
    const found = await Promise.all(loans.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(found.filter(Boolean).map((loan) => [loan.name, loan.book_title || loan.barcode]));
  }, [loans.join(",")]);
  return titles.data || {};
}
