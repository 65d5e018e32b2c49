// What a screen-reader or keyboard user needs after an action whose own element is gone or replaced (a hold
// cancelled leaves the list; "Follow" becomes "Unfollow"; a row is redrawn): the result said, and the focus
// put somewhere useful rather than dropped on <body>.
//
// The result is said through one polite status line and one alert line that are in the page from the start
// (created when this module loads, before any text): screen readers (NVDA/JAWS with Chrome, VoiceOver on
// iOS) read a live region's *changes*, and mostly ignore a role=status element inserted already filled.

const DELAY_MS = 50; // cleared first, then filled: the same words said twice in a row are said twice

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

/** Says `text` to a screen reader: politely, or at once (`alert`) for a refusal. */
export function announce(text, { alert = false } = {}) {
  const kind = alert ? "alert" : "status";
  const element = regions[kind];
  clearTimeout(timers[kind]);
  element.textContent = "";
  timers[kind] = setTimeout(() => (element.textContent = text || ""), DELAY_MS);
}

/** Clears both lines (a new page: nothing said on the last one should be read again as this one's). */
export function clearAnnouncements() {
  for (const kind of Object.keys(regions)) {
    clearTimeout(timers[kind]);
    regions[kind].textContent = "";
  }
}

/** After the re-render an action causes (Preact draws on the next microtask; an answer's reload later), puts the
 * focus on `target` — an element's id, or a function that finds the element: a heading, a card (made focusable
 * for the script only), the control that was pressed — once it is there. Resolves to whether it was. */
export function focusLater(target, { tries = 20 } = {}) {
  const find = typeof target === "function" ? target : () => document.getElementById(target);
  return new Promise((resolve) => {
    const attempt = (left) => {
      const element = find();
      if (element) {
        if (!element.matches("a[href],button,input,select,textarea,[tabindex]")) element.setAttribute("tabindex", "-1");
        element.focus();
        resolve(true);
      } else if (left > 0) setTimeout(() => attempt(left - 1), DELAY_MS);
      else resolve(false);
    };
    setTimeout(() => attempt(tries), 0);
  });
}

/** After a re-render that may have removed the focused control (the last page loaded: no "More" any more),
 * puts the focus on `target` (as focusLater) only if it fell to <body>. */
export function refocusIfLost(target) {
  const lost = () => !document.activeElement || document.activeElement === document.body;
  setTimeout(() => lost() && focusLater(target, { tries: 0 }), 0);
}
