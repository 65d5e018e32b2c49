// What a screen-reader or keyboard user needs after an action whose own element is gone or replaced (a hold
// cancelled leaves the list; "Follow" becomes "Unfollow"; a row keyed by its etag is redrawn): the result said,
// and the focus put somewhere useful rather than dropped on <body> (the accessibility review's findings A1-A20).
//
// The result is said through the app's one polite line and one assertive line, in the page from the start
// (created when this module loads, before the app is drawn and before any text): screen readers (NVDA/JAWS with
// Chrome, VoiceOver on iOS) read a live region's *changes*, and mostly ignore a region inserted already filled.
// Pages keep no live regions of their own for results: two of them said one message twice, or in two places.
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";

const DELAY_MS = 50; // cleared first, then filled: the same words said twice in a row are said twice
const WATCH_MS = 5000; // long enough for the reload after a change; the user may have moved on by then

function region(id, politeness) {
  let element = document.getElementById(id);
  if (!element) {
    element = document.createElement("div");
    element.id = id;
    element.className = "visually-hidden";
    // aria-live alone, no role: the page's own status and alert elements stay the only ones of those roles.
    element.setAttribute("aria-live", politeness);
    element.setAttribute("aria-atomic", "true");
    element.dataset.testid = id;
    document.body.append(element);
  }
  return element;
}

const regions = { status: region("announce-status", "polite"), alert: region("announce-alert", "assertive") };
const timers = {};
const pending = {};

/** Says `text` to a screen reader: politely, or at once (`alert`) for a refusal. Words asked for while the last
 * ones wait to be put in the line are said with them, not in their place. */
export function announce(text, { alert = false } = {}) {
  const kind = alert ? "alert" : "status";
  const element = regions[kind];
  clearTimeout(timers[kind]);
  pending[kind] = [pending[kind], text].filter(Boolean).join(" ");
  element.textContent = "";
  timers[kind] = setTimeout(() => {
    element.textContent = pending[kind] || "";
    pending[kind] = "";
  }, DELAY_MS);
}

/** Clears both lines (a new page: nothing said on the last one should be read again as this one's). */
export function clearAnnouncements() {
  for (const kind of Object.keys(regions)) {
    clearTimeout(timers[kind]);
    pending[kind] = "";
    regions[kind].textContent = "";
  }
}

/**
 * A result shown on the page as a notice and said through the app's polite line when it changes. The element
 * is there, empty, before the result, so that the notice takes its place without moving the page.
 */
export function SaidNotice({ text, id, testid }) {
  useEffect(() => {
    if (text) announce(text);
  }, [text]);
  return html`<div id=${id} data-testid=${testid} class=${text ? "notice ok" : "live-empty"}>${text || ""}</div>`;
}

/** `target` as a function that finds the element: an element's id, or such a function already. */
const finder = (target) => (typeof target === "function" ? target : () => (target ? document.getElementById(target) : null));
const lost = () => !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
let watching = null; // the last keepFocus's watch: ended by the next focus move asked for

function focusOn(element) {
  if (!element.matches("a[href],button,input,select,textarea,[tabindex]")) element.setAttribute("tabindex", "-1");
  element.focus();
}

/** After the re-render an action causes (Preact draws on the next microtask; an answer's reload later), puts the
 * focus on `target` — an element's id, or a function that finds the element: a heading, a card (made focusable
 * for the script only), the control that was pressed, a field a form opened — once it is there. Resolves to
 * whether it was. */
export function focusLater(target, { tries = 20 } = {}) {
  watching?.disconnect(); // the last action's watch ends: its control would take the focus from this one
  const find = finder(target);
  return new Promise((resolve) => {
    const attempt = (left) => {
      const element = find();
      if (element) {
        focusOn(element);
        resolve(true);
      } else if (left > 0) setTimeout(() => attempt(left - 1), DELAY_MS);
      else resolve(false);
    };
    setTimeout(() => attempt(tries), 0);
  });
}

/**
 * Puts the focus back on `target` (an id, by default the one of the control focused now; or a function that
 * finds the element) whenever it falls to <body> in the next few seconds: after the row holding it is redrawn,
 * the new control with the same id takes it. When that element is not there (the row went: a deleted item; the
 * last page loaded: no "More" any more), `fallback` (an id, or a function) takes it instead.
 */
export function keepFocus(target = document.activeElement?.id, fallback = undefined) {
  watching?.disconnect();
  if (!target && !fallback) return;
  const [find, findFallback] = [finder(target), finder(fallback)];
  const restore = () => {
    if (!lost()) return; // the focus is somewhere: leave it
    const element = find() || findFallback();
    if (element && !element.disabled) focusOn(element);
  };
  const observer = new MutationObserver(restore);
  observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
  watching = observer;
  setTimeout(restore, 0); // the redraw may be done already (the caller awaited the change)
  setTimeout(() => observer.disconnect(), WATCH_MS);
}

/** Focus to the element with id `id` on mount when the focus is nowhere (it was on a control that is gone). */
export function useFocusIfLost(id) {
  useEffect(() => {
    if (lost()) document.getElementById(id)?.focus({ preventScroll: true });
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
    if (main && (lost() || document.activeElement === main)) main.querySelector("h1")?.focus({ preventScroll: true });
  }, [ready]);
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

/** The `lang` of a text in a book's own language (its title, its description), for screen readers to read it
 * with the right voice (finding A12, WCAG 3.1.2); undefined when the catalogue does not know it. */
export function langOf(book) {
  const code = book?.language;
  return code && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code) ? code : undefined;
}

/** The `lang` of the book title a loan, hold or copy carries (`book_title` with its `book_language`). */
export function titleLangOf(item) {
  return langOf({ language: item?.book_language });
}
