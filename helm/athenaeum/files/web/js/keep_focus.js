// Keeping the keyboard (and screen-reader) focus through a change that redraws the focused control, and saying a
// result through a live region that is in the page before its text (findings A6, A7, A13, A19, A20 of the
// accessibility review). A row keyed by its etag is rebuilt when the change gives it a new etag: the element that
// had the focus is thrown away, and the focus falls to <body>.
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";

const WATCH_MS = 5000; // long enough for the reload after a change; the user may have moved on by then

/**
 * Puts the focus back on the control with id `id` (by default the one focused now) whenever it falls to <body>
 * in the next few seconds: after the row holding it is redrawn, the new control with the same id takes it. When
 * no element has that id any more (the row went: a deleted item), `fallback` (an id) takes it instead.
 */
export function keepFocus(id = document.activeElement?.id, fallback = undefined) {
  watching?.disconnect(); // the last action's watch ends: its control would take the focus from this one's
  if (!id && !fallback) return;
  const restore = () => {
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return; // the focus is somewhere: leave it
    const target = (id && document.getElementById(id)) || (fallback && document.getElementById(fallback));
    if (target && !target.disabled) target.focus();
  };
  const observer = new MutationObserver(restore);
  observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
  watching = observer;
  setTimeout(() => observer.disconnect(), WATCH_MS);
}

let watching = null;

/** Moves the focus to the element with id `id` once it is drawn (the next render), e.g. a field a form opened. */
export function focusSoon(id) {
  watching?.disconnect();
  requestAnimationFrame(() => document.getElementById(id)?.focus());
}

/**
 * A polite status line that is always in the page, empty until there is something to say: screen readers
 * announce a change of a live region's text, but often not a region inserted already filled. `text` is shown as
 * a notice when there is one.
 */
export function LiveStatus({ text, id, testid }) {
  return html`<div id=${id} data-testid=${testid} role="status" class=${text ? "notice ok" : "live-empty"}>${text || ""}</div>`;
}

/**
 * Whether the page at `path` was shown and has just been replaced under the user while they stayed on it
 * (`showing` went from true to false, same path): the session ended (signed out in another tab, or expired).
 * Stays true until the path changes, so that later renders (another language) keep saying it.
 */
export function useReplacedUnder(path, showing) {
  const last = useRef({ path: null, showing: false, replaced: false });
  const previous = last.current;
  const replaced = previous.path === path && !showing && (previous.replaced || previous.showing);
  last.current = { path, showing, replaced };
  return replaced;
}

/** Focus to the element with id `id` on mount when the focus is nowhere (it was on a control that is gone). */
export function useFocusIfLost(id) {
  useEffect(() => {
    const active = document.activeElement;
    if (!active || active === document.body) document.getElementById(id)?.focus({ preventScroll: true });
  }, []);
}

/**
 * When a page's heading is drawn only after its data (a book, a patron), the route change put the focus on
 * <main> (no heading yet): once `ready`, the focus goes on to the heading, unless the user has put it somewhere
 * else meanwhile (finding A15).
 */
export function useHeadingFocusWhenReady(ready) {
  useEffect(() => {
    if (!ready) return;
    const main = document.getElementById("main");
    const active = document.activeElement;
    if (main && (!active || active === document.body || active === main)) main.querySelector("h1")?.focus({ preventScroll: true });
  }, [ready]);
}

/** The `lang` of a text in a book's own language (its title, its description), for screen readers to read it
 * with the right voice (finding A12, WCAG 3.1.2); undefined when the catalogue does not know it. */
export function langOf(book) {
  const code = book?.language;
  return code && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code) ? code : undefined;
}
