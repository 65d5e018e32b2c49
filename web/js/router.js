// Hash routes (#/books/…): the edge serves one page, works from any path prefix and offline.
import { useEffect, useState } from "preact/hooks";

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path, parts: path.split("/").filter(Boolean), query: new URLSearchParams(search) };
}

/** "#/path?key=value" (empty values left out). */
export function href(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "" && item !== false) params.append(key, String(item));
    }
  }
  const search = params.toString();
  return `#${path}${search ? `?${search}` : ""}`;
}

export function navigate(path, query) {
  location.hash = href(path, query);
}

// What a page keeps for the history entry it shows (the catalogue's loaded results), and where the window was
// scrolled when the reader left it: Back to that entry finds both. Kept in memory, for the last entries.
const KEPT_ENTRIES = 30;
const kept = new Map();
let entry = entryId();
history.scrollRestoration = "manual"; // the page puts the scroll back itself, once the content is there again

function entryId() {
  if (!history.state?.entry) {
    history.replaceState({ ...history.state, entry: crypto.getRandomValues(new Uint32Array(2)).join("-") }, "");
  }
  return history.state.entry;
}

/** The memory of the history entry shown now: a plain object the page may write to. */
export function remembered() {
  if (!kept.has(entry)) kept.set(entry, {});
  return kept.get(entry);
}

// Registered before any page's listener: the entry left is still the page on screen, scrolled as it was.
addEventListener("hashchange", () => {
  remembered().scrollY = scrollY;
  entry = entryId();
  const memory = remembered();
  kept.delete(entry);
  kept.set(entry, memory); // the most recent last, the oldest forgotten first
  while (kept.size > KEPT_ENTRIES) kept.delete(kept.keys().next().value);
});

// How long Back waits for a page's content to come back (its lists load again) to put the scroll back.
const RESTORE_MS = 5000;
const USER_SCROLLS = ["wheel", "touchstart", "keydown", "pointerdown"];
let restoring = null;

/**
 * Scrolls the page just shown to where the reader left it, when Back (or Forward) led to an entry already seen,
 * else to the top. A page whose content loads again (My account's sections: finding P9, Back from a book
 * landed at the top of a long column) is not yet as tall as it was: the position is put back each time the
 * page's height changes, until the reader scrolls, taps or types, or RESTORE_MS pass.
 */
export function restoreScroll() {
  restoring?.();
  const target = remembered().scrollY || 0;
  scrollTo(0, target);
  if (!target) return;
  const follow = new ResizeObserver(() => scrollTo(0, target));
  const stop = () => {
    follow.disconnect();
    clearTimeout(timer);
    for (const kind of USER_SCROLLS) removeEventListener(kind, stop, true);
    restoring = null;
  };
  const timer = setTimeout(stop, RESTORE_MS);
  for (const kind of USER_SCROLLS) addEventListener(kind, stop, { capture: true, passive: true });
  follow.observe(document.body);
  restoring = stop;
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => setRoute(parseHash());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
