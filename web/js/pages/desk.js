// The circulation desk, built for a barcode scanner (it types the code and presses Enter). Issue: scan the
// patron's card, then each copy. Return: scan each copy; a copy that fills a hold is flagged for the hold
// shelf, or to be sent to the hold's pickup branch. Receive: scan a copy set aside for a hold (pulled from the
// shelf, or arrived from another branch). Every desk call names the librarian's home branch. After every scan
// the focus is back in the barcode field; each result, and every refusal in plain words, is added to the log
// and announced.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { errorText, formatDeadline, formatMoney, t, tn } from "../i18n.js";
import { TotalOwed, useTitle } from "../components.js";
import { deskBranch, patronLabel, receiveCopy } from "../receiving.js";
import { issueRefusalText, receivedByReturn, returnRefusalText } from "../desk_refusals.js";
import { deskState } from "../desk_state.js";
import { issuedEarlierGone, returnedEarlierOutAgain, saidEarlier, scanCall } from "../desk_calls.js";
import { session } from "../session.js";
import { findPatron, patronFound, patronStanding } from "../desk_patron.js";
import { ScanLog } from "../desk_log.js";

const ISSUE = "issue";
const RETURN = "return";
const RECEIVE = "receive";
// The scans of this tab, in order, whichever page is shown: a scan queued when the session ended (and the page
// with it) still gets its line in the log, kept for when the librarian is back.
let queue = Promise.resolve();

/** After a return: the hold the copy was trapped for (the loan's `trapped_hold`), if any, and where the copy
 * goes: this desk's hold shelf, or the hold's pickup branch (`transit_branch`). A log entry, or null. */
async function holdNote(loan) {
  if (!loan.trapped_hold) return null;
  // The copy goes aside whether or not the hold can be read now: said with the hold's name at worst.
  const hold = await api(`/v1/${loan.trapped_hold}`).catch(() => null);
  const patron = hold ? await patronLabel(hold.patron) : loan.trapped_hold;
  if (loan.transit_branch) return { kind: "transit", text: t("desk.to_transit", { patron, branch: loan.transit_branch }) };
  return { kind: "shelf", text: t("desk.to_hold_shelf", { patron, branch: hold?.pickup_branch || deskBranch() || t("hold.any_branch") }) };
}

/** After a return of a copy declared lost and found: what was paid of its replacement charge (the loan's
 * `refund_amount`), which the desk hands back; the rest owed was waived. A log entry, or null. */
async function refundNote(loan) {
  if (!loan.refund_amount) return null;
  const fines = await api(`/v1/${loan.patron}/fines`, { query: { page_size: 100 } }).catch(() => null);
  const fine = (fines?.fines || []).find((item) => item.loan === loan.name && item.kind === "FINE_KIND_LOST_ITEM");
  return { kind: "refund", text: t("desk.refund_found", { amount: formatMoney(loan.refund_amount, fine?.currency_code) }) };
}

/** After a return: did the book come back late, and what is the loan's overdue fine (the patron's fines, newest
 * first, looked through for the loan's)? The returned loan's overdue_days says how late where the server
 * keeps it; a fine, or a return after the due time, says it came back late where it does not. */
async function lateNote(loan) {
  const fines = await api(`/v1/${loan.patron}/fines`, { query: { page_size: 100 } });
  const fine = (fines.fines || []).find((item) => item.loan === loan.name && item.kind === "FINE_KIND_OVERDUE");
  const late = loan.overdue_days > 0 || Boolean(fine) || Date.parse(loan.return_time) > Date.parse(loan.due_time);
  if (!late) return null;
  const when = loan.overdue_days > 0 ? tn("desk.late_days", loan.overdue_days) : t("desk.late");
  if (!fine) return when;
  const owed = formatMoney(fines.outstanding_total, fine.currency_code);
  return `${when} ${t("desk.fine_charged", { amount: formatMoney(fine.amount, fine.currency_code), owed })}`;
}

function scanLabel(mode) {
  if (mode === ISSUE) return t("desk.scan_issue");
  return mode === RETURN ? t("desk.scan_return") : t("receive.scan");
}

/** The log line for a scan that got no final answer: the call may have been done. The next scan of the same
 * copy, within a couple of minutes, reuses its request_id, so it gets the first call's answer and never does
 * it twice. */
function failed(mode, code, error) {
  if (error.retryable) {
    const what = mode === RETURN ? t("desk.not_known_return", { barcode: code }) : t("desk.not_known_issue", { barcode: code });
    return { kind: "unknown", barcode: code, text: `${what} ${errorText(error)} ${t("desk.scan_again")}` };
  }
  if (error.status === 401) return { kind: "refused", barcode: code, text: t("desk.not_done_signed_out", { barcode: code }) };
  const why = mode === RETURN ? returnRefusalText(error) : errorText(error);
  const text = `${t("desk.refused", { barcode: code })} ${why}`;
  return { kind: "refused", barcode: code, text, reason: error.reason };
}

function useDesk() {
  const [desk, setDesk] = useState(deskState.current);
  useEffect(() => deskState.subscribe(setDesk), []);
  return desk;
}

export function DeskPage() {
  useState(() => deskState.claim(session.user?.name || ""));
  const desk = useDesk();
  const { mode, patron, log } = desk;
  const [standing, setStanding] = useState(null);
  const standingAsked = useRef(0);
  const [card, setCard] = useState("");
  const [findingCard, setFindingCard] = useState(null);
  const [barcode, setBarcode] = useState("");
  const [focusTick, setFocusTick] = useState(0);
  const borrower = useRef(Promise.resolve(patron)); // the patron at the desk, once their card's look-up answered
  const cardField = useRef(null);
  const barcodeField = useRef(null);
  useTitle(t("desk.title"));
  // Another librarian signed in (on this tab or another one, whose tokens this tab adopts): the desk is theirs
  // at once, empty, not the first one's patron, log and kept request_ids until a reload.
  useEffect(
    () =>
      session.subscribe(({ user }) => {
        if (!user || user.name === deskState.current.owner) return; // signed out: kept for their return
        borrower.current = Promise.resolve(null);
        deskState.claim(user.name);
        clearStanding();
      }),
    [],
  );
  useEffect(() => {
    if (patron) showStanding(patronStanding(patron)).catch(() => null);
  }, []);

  // Only the standing asked for last is shown: one that answered late (a slow line) was drawn over the next
  // patron's, who then seemed to have the last one's loans and fines.
  function showStanding(asking) {
    const asked = ++standingAsked.current;
    return asking.then((found) => {
      if (asked === standingAsked.current) setStanding(found);
      return found;
    });
  }

  function clearStanding() {
    standingAsked.current += 1;
    setStanding(null);
  }

  // The barcode field is there (and has the focus) as soon as a card is scanned: a scanner's next code lands in
  // it, before the look-up answers (its first characters went into the card field, then were wiped). It stays
  // while a code is being typed into it, even if the look-up found nobody: the rest of that code must not land
  // in the card field (it is refused with "scan the card first" instead). A layout effect: the focus moves
  // before the next key arrives.
  const needsPatron = mode === ISSUE && !patron && !findingCard && !barcode;
  useLayoutEffect(() => {
    (needsPatron ? cardField : barcodeField).current?.focus();
  }, [needsPatron, focusTick]);

  const record = (entry) => deskState.record(entry);

  // Queued like the scans: the copies scanned before it answered are issued to the patron it finds.
  function lookUp(event) {
    event.preventDefault();
    const code = card.trim();
    setCard("");
    if (!code) return;
    setFindingCard(code);
    // Its row is in the log at once, so that what it answers is shown in the order of the scans.
    const row = record({ kind: "sent", barcode: code, text: t("desk.finding_card", { card: code }) });
    borrower.current = queue.then(() => find(row, code));
    queue = borrower.current;
  }

  async function find(row, code) {
    try {
      const found = await findPatron(code);
      if (!found) {
        deskState.settle(row, { kind: "refused", text: t("desk.no_patron", { card: code }) });
        return null;
      }
      deskState.setPatron(found);
      const standing = await showStanding(patronStanding(found).catch(() => null));
      // The look-up's answer is said like a copy's (finding A1): a blind librarian hears whom the card found,
      // and a reader who may not borrow (blocked, expired) as a refusal, before the first copy is scanned.
      deskState.settle(row, patronFound(found, standing));
      return found;
    } catch (error) {
      deskState.settle(row, { kind: "refused", text: errorText(error) });
      return null;
    } finally {
      setFindingCard(null);
    }
  }

  // A scanner can send the next code before the edge answered the last: each scan is queued, in order, and
  // shown at once as "sent…" so the librarian sees it was taken; its answer takes the row's place.
  function scan(event) {
    event.preventDefault();
    const code = barcode.trim();
    setBarcode("");
    if (!code) return;
    const patronNow = borrower.current;
    const modeNow = mode;
    const row = record({ kind: "sent", barcode: code, text: t("desk.sent", { barcode: code }) });
    queue = queue.then(async () => {
      const atDesk = await patronNow;
      if (modeNow === RECEIVE) {
        // receiveCopy keeps its own id for a rescan, and drops those of any issue or return of the copy
        return deskState.settle(row, await receiveCopy(code));
      }
      return modeNow === ISSUE ? issue(row, code, atDesk) : takeBack(row, code, atDesk);
    });
  }

  async function issue(row, code, atDesk) {
    if (!atDesk) {
      deskState.settle(row, { kind: "refused", text: `${t("desk.refused", { barcode: code })} ${t("desk.card_first")}` });
      return;
    }
    try {
      const copy = { barcode: code, patron: atDesk.name };
      const { loan, retryOf } = await scanCall(`issue ${atDesk.name} ${code}`, copy, "/v1/loans:issue", copy);
      const gone = retryOf && (await issuedEarlierGone(loan, code, retryOf, atDesk));
      const issued = t("desk.issued", { title: loan.book_title, barcode: code, date: formatDeadline(loan.due_time) });
      deskState.settle(row, gone || { kind: "ok", text: issued + saidEarlier(retryOf) });
    } catch (error) {
      const entry = failed(ISSUE, code, error);
      if (entry.kind === "refused" && error.reason === "COPY_NOT_AVAILABLE") {
        entry.text = `${t("desk.refused", { barcode: code })} ${await issueRefusalText(error)}`;
      }
      deskState.settle(row, entry);
    }
    // After a refusal too: a loan made by a call whose answer was lost shows in the count.
    showStanding(patronStanding(atDesk)).catch(() => null);
  }

  async function takeBack(row, code, atDesk) {
    let loan, retryOf;
    try {
      const body = { barcode: code, branch: deskBranch() };
      ({ loan, retryOf } = await scanCall(`return ${code}`, { barcode: code }, "/v1/loans:return", body));
    } catch (error) {
      // A copy coming home, or in transit for a hold: received by the return, as by Receive, and logged as done.
      const received = error.retryable ? null : await receivedByReturn(code, error);
      deskState.settle(row, received || failed(RETURN, code, error));
      return;
    }
    const outAgain = retryOf && (await returnedEarlierOutAgain(loan, code, retryOf));
    if (outAgain) return deskState.settle(row, outAgain);
    const returned = t("desk.returned", { title: loan.book_title, barcode: code });
    deskState.settle(row, { kind: "ok", text: returned + saidEarlier(retryOf) });
    notesAfterReturn(loan, atDesk); // not awaited: the next scan does not wait for these look-ups
  }

  async function notesAfterReturn(loan, atDesk) {
    const refund = await refundNote(loan);
    if (refund) record(refund);
    const late = await lateNote(loan).catch(() => (loan.overdue_days > 0 ? tn("desk.late_days", loan.overdue_days) : null));
    if (late) record({ kind: "late", text: late });
    const held = await holdNote(loan).catch(() => null);
    if (held) record(held);
    // The patron at the desk may be the one who returned it: their count of loans and fines changed.
    if (atDesk && loan.patron === atDesk.name) await showStanding(patronStanding(atDesk).catch(() => null));
  }

  function switchMode(next) {
    deskState.setMode(next);
    setFocusTick((tick) => tick + 1); // the field the mode needs gets the focus, even on the mode already on
  }

  function endPatron() {
    borrower.current = Promise.resolve(null);
    deskState.setPatron(null);
    clearStanding();
  }

  return html`<h1 tabindex="-1">${t("desk.title")}</h1>
    <div class="mode-switch" role="group" aria-label=${t("desk.mode")}>
      <button type="button" aria-pressed=${mode === ISSUE ? "true" : "false"} onClick=${() => switchMode(ISSUE)}>${t("desk.issue")}</button>
      <button type="button" aria-pressed=${mode === RETURN ? "true" : "false"} onClick=${() => switchMode(RETURN)}>${t("desk.return")}</button>
      <button type="button" aria-pressed=${mode === RECEIVE ? "true" : "false"} onClick=${() => switchMode(RECEIVE)}>${t("desk.receive")}</button>
    </div>
    <div class="desk">
      <div>
        ${mode === ISSUE && findingCard && html`<p class="card">${t("desk.finding_card", { card: findingCard })}</p>`}
        ${mode === ISSUE &&
        !findingCard &&
        (patron
          ? html`<div class="card patron-card" data-testid="desk-patron">
              <h2>${patron.display_name || patron.email}</h2>
              <p>${t("account.card_number")}: <strong>${patron.card_number}</strong> · ${t(`user_status.${patron.status}`)}</p>
              ${standing &&
              html`<p>${t("desk.standing", { loans: standing.loans })} · <${TotalOwed} total=${standing.owed} currency=${standing.currency} /></p>`}
              <button type="button" class="button small quiet" onClick=${endPatron}>${t("desk.next_patron")}</button>
            </div>`
          : html`<form class="card scan" onSubmit=${lookUp}>
              <label for="desk-card">${t("desk.scan_card")}</label>
              <input id="desk-card" ref=${cardField} value=${card} autocomplete="off" inputmode="numeric"
                onInput=${(event) => setCard(event.currentTarget.value)} />
            </form>`)}
        ${!needsPatron &&
        html`<form class="card scan" onSubmit=${scan}>
          <label for="desk-barcode">${scanLabel(mode)}</label>
          <input id="desk-barcode" ref=${barcodeField} value=${barcode} autocomplete="off"
            onInput=${(event) => setBarcode(event.currentTarget.value)} aria-describedby="desk-barcode-hint" />
          <span class="hint muted" id="desk-barcode-hint">${t("desk.scan_hint")}</span>
          ${mode !== ISSUE && !deskBranch() &&
          html`<p class="hint warning" role="note" data-testid="desk-no-branch">${mode === RETURN ? t("desk.return_no_branch") : t("receive.no_branch")}</p>`}
        </form>`}
      </div>
      <section aria-labelledby="desk-log-heading">
        <h2 id="desk-log-heading">${t("desk.log")}</h2>
        <${ScanLog} log=${log} />
        ${!log.length && html`<p class="muted">${t("desk.log_empty")}</p>`}
      </section>
    </div>`;
}
