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

export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => setRoute(parseHash());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
