// The patron at the circulation desk: found by the card scanned (or an email), their standing (loans, what they
// owe), and the log line that says so.
import { api } from "./api.js";
import { formatMoney, t } from "./i18n.js";

/** The patron whose library card number (or email) is `card` (staff search matches both). */
export async function findPatron(card) {
  const data = await api("/v1/users", { query: { query: card, page_size: 10 } });
  const users = data.users || [];
  const exact = (user) => user.card_number === card || user.email.toLowerCase() === card.toLowerCase();
  return users.find(exact) || (users.length === 1 ? users[0] : null);
}

export async function patronStanding(patron) {
  const [loans, fines] = await Promise.all([
    api(`/v1/${patron.name}/loans`, { query: { status: "LOAN_STATUS_ACTIVE", page_size: 1 } }),
    api(`/v1/${patron.name}/fines`, { query: { status: "FINE_STATUS_OUTSTANDING", page_size: 1 } }),
  ]);
  return { loans: loans.total_size || 0, owed: fines.outstanding_total || "0", currency: fines.fines?.[0]?.currency_code };
}

/** The log line of a card's look-up: who it found, their standing; a refusal when they may not borrow. */
export function patronFound(patron, standing) {
  const owed = Number(standing?.owed || "0")
    ? t("desk.owes", { amount: formatMoney(standing.owed, standing.currency) })
    : t("desk.owes_nothing");
  const text = t("desk.patron_found", {
    name: patron.display_name || patron.email,
    card: patron.card_number,
    status: t(`user_status.${patron.status}`),
    loans: standing ? standing.loans : "?",
    owed: standing ? owed : "",
  }).trim();
  // Not "refused": no scan was refused yet; said as an alert all the same (see ScanLog).
  return { kind: patron.status === "USER_STATUS_ACTIVE" ? "patron" : "patron-warning", text };
}
