// The desk's scan log, and what of it is said: each answer once, through the app's live lines (a11y.js).
import { useEffect, useRef } from "preact/hooks";
import { announce } from "./a11y.js";
import { html } from "./html.js";
import { t } from "./i18n.js";

// The log rows said as alerts: a refused scan, and a patron found who may not borrow (blocked, expired).
const ALERTS = new Set(["refused", "patron-warning"]);
const words = (entry) => entry.text ?? t("desk.not_known", { barcode: entry.barcode });

/** The log, newest first. A plain list: each answer is said once, through the app's one assertive line (a refusal,
 * a patron who may not borrow) or its one polite line (any other answer); "sent…" rows are not announced. The
 * answers the log had when drawn (back from another page) were said already and are not said again (finding
 * A10: every refusal of the shift was an alert, read out again on each return to the desk). */
export function ScanLog({ log }) {
  useSaidOnce(log);
  return html`<ol class="scan-log" data-testid="desk-log">
    ${log.map(
      (entry) => html`<li key=${entry.id} class=${entry.kind} data-reason=${entry.reason || undefined}>
        <span>${words(entry)}</span>
      </li>`,
    )}
  </ol>`;
}

/** Says each answer that came into the log since it was drawn, once, oldest first: an alert through the assertive
 * line, any other through the polite one (answers that come together are said together, none dropped). */
function useSaidOnce(log) {
  const said = useRef(null);
  const answered = (entries) => entries.filter((entry) => entry.kind !== "sent"); // a "sent…" row is answered later
  if (said.current === null) said.current = new Set(answered(log).map((entry) => entry.id));
  useEffect(() => {
    const fresh = answered(log).filter((entry) => !said.current.has(entry.id));
    for (const entry of fresh.reverse()) {
      said.current.add(entry.id);
      announce(words(entry), { alert: ALERTS.has(entry.kind) });
    }
  }, [log]);
}
