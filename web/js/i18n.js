// English and Russian. Each language is a module of flat keys (web/i18n/<lang>.js), loaded on demand;
// dates, numbers and money are formatted by Intl for the chosen language.
import { useEffect, useState } from "preact/hooks";

export const LANGUAGES = ["en", "ru"];
const STORAGE_KEY = "athenaeum.lang"; // a preference, not a secret

let current = chooseInitial();
let dictionary = {};
const listeners = new Set();

function chooseInitial() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function language() {
  return current;
}

export async function loadLanguage(next = current) {
  // Kept at once, not after the dictionary arrives: a reader who switches and reloads (or leaves) at once
  // would otherwise come back in the language they had just switched away from.
  if (LANGUAGES.includes(next)) localStorage.setItem(STORAGE_KEY, next);
  const module = await import(`/i18n/${next}.js`);
  dictionary = module.default;
  current = next;
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener(next));
}

/** The text for `key`, with {placeholders} filled from `params`. */
export function t(key, params) {
  const text = dictionary[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? "").toString());
}

/** As t(), with each {placeholder} the value of `params` as it is (an element too): parts to render. */
export function tParts(key, params) {
  const text = dictionary[key] ?? key;
  return text.split(/\{(\w+)\}/g).map((part, index) => (index % 2 ? (params[part] ?? "") : part));
}

/** A count with the right plural form: keys `<key>.one`, `.few`, `.many`, `.other` (Russian needs them all). */
export function tn(key, count, params = {}) {
  const form = new Intl.PluralRules(current).select(count);
  const chosen = dictionary[`${key}.${form}`] !== undefined ? `${key}.${form}` : `${key}.other`;
  return t(chosen, { count: formatNumber(count), ...params });
}

/** Re-renders the calling component when the language changes; returns [language, setLanguage]. */
export function useLanguage() {
  const [value, setValue] = useState(current);
  useEffect(() => {
    listeners.add(setValue);
    return () => listeners.delete(setValue);
  }, []);
  return [value, loadLanguage];
}

export function formatNumber(value) {
  return new Intl.NumberFormat(current).format(value);
}

export function formatDate(iso) {
  if (!iso) return "";
  // A date without a time ("2026-12-06", a UTC day) is that day everywhere: new Date() reads it as UTC
  // midnight, which west of UTC is the evening before.
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const options = dayOnly ? { dateStyle: "medium", timeZone: "UTC" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(current, options).format(new Date(iso));
}

/** A deadline (a loan's due time, a hold's pickup deadline) is an instant, the end of a day of the library's
 * zone: its date alone, in this browser's zone, could be the day after (a desk PC on UTC, a reader travelling),
 * so its time and zone are said with it ("Sun, Dec 20, 2026, 11:59 PM EST"). */
export function formatDeadline(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(current, DEADLINE).format(new Date(iso));
}
const DEADLINE = {
  weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
};

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** Money arrives as a decimal string ("12.50"); it is only displayed here, never computed with. */
// The library's currency, as last seen with an amount (a fine): refusals carry bare amounts ("12.50").
let libraryCurrency = "";

export function formatMoney(amount, currency) {
  if (currency) libraryCurrency = currency;
  const value = Number(amount || "0");
  const plain = new Intl.NumberFormat(current, { minimumFractionDigits: 2 }).format(value);
  if (!currency) return plain;
  try {
    return new Intl.NumberFormat(current, { style: "currency", currency }).format(value);
  } catch {
    // A code that is no ISO 4217 one (stored on fines before the setting was checked) threw, and the page
    // showed no fines at all: the amount is shown with the code as it is instead.
    return `${plain} ${currency}`;
  }
}

/** An amount from the API ("12.50") as the page writes numbers, to be edited ("12,50" in ru): no currency,
 * no grouping, so that `typedAmount` reads it back. */
export function amountForTyping(amount) {
  const value = Number(amount || "0");
  return new Intl.NumberFormat(current, { minimumFractionDigits: 2, useGrouping: false }).format(value);
}

/** An amount as typed ("1,50" or "1 500,50" where the page writes money with a decimal comma) as the API reads it
 * ("1.50"). Where the page writes a decimal point, a comma groups thousands: "1,500" is sent as typed and refused,
 * never guessed (it was taken as 1.50, a payment a thousand times too small). `typedIn`: the language whose
 * notation it was typed in, when the page has changed language since. */
export function typedAmount(text, typedIn = current) {
  const trimmed = String(text ?? "").trim();
  if (decimalSeparator(typedIn) !== ",") return trimmed;
  const ungrouped = trimmed.replace(/(\d)[ \u00a0\u202f](?=\d{3}\b)/g, "$1");
  return /^\d*,\d+$/.test(ungrouped) ? ungrouped.replace(",", ".") : ungrouped;
}

function decimalSeparator(code = current) {
  return new Intl.NumberFormat(code).formatToParts(1.5).find((part) => part.type === "decimal")?.value ?? ".";
}

export function languageName(code) {
  if (!code) return t("book.language_unknown");
  try {
    return new Intl.DisplayNames([current], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

// What the services say about a bad field (google.rpc.BadRequest), in words of the UI's language.
const FIELD_TEXTS = [
  [/^is required\b/, () => t("field.required")],
  [/^must be at least (\d+) characters$/, (limit) => t("field.min_length", { limit })],
  [/^must be at most (\d+) characters$/, (limit) => t("field.max_length", { limit })],
  [/^is too easy to guess/, () => t("field.too_easy")],
  [/^must be in E\.164 form/, () => t("field.phone")],
  [/^must start with \+ and the country code/, () => t("field.phone_country")],
  [/^must be an email address/, () => t("field.email")],
  [/^must be a plain address .*before the @ at most (\d+)/, (limit) => t("field.email_before_at", { limit })],
  [/^must be a plain address .*after the @/, () => t("field.email_after_at")],
  [/^must be a plain address/, () => t("field.email")],
  [/^must not contain control characters/, () => t("field.control_characters")],
  [/^must be a decimal amount/, () => t("field.amount")],
  [/^must have at most two decimal places/, () => t("field.two_decimals")],
  [/^must not be negative/, () => t("field.not_negative")],
  [/^must be positive/, () => t("field.positive")],
  // The fixed rules of the commonest cataloguing and desk mistakes (finding A14: said in the server's English).
  [/^must be at most the ([\d.]+) still owed/, (limit) => t("field.at_most_owed", { limit: bareMoney(limit) })],
  [/^must be 10 or 13 digits/, () => t("field.isbn_length")],
  [/^ISBN-10 check digit is wrong/, () => t("field.isbn_check_digit")],
  [/^ISBN-13 check digit is wrong/, () => t("field.isbn_check_digit")],
  [/^must be at most ([\d.]+)/, (limit) => t("field.at_most", { limit: limit.includes(".") ? bareMoney(limit) : limit })],
  [/^say why the fine is waived/, () => t("field.waive_reason")],
  [/^must be 1-20 characters of A-Z, 0-9, _ and -/, () => t("field.item_type_code")],
  [/^is the type's code already/, () => t("field.same_code")],
];

/** The service's complaint about the first of `fields` it named, in the UI's language; undefined if none. */
export function fieldText(error, ...fields) {
  const description = fields.map((field) => error?.fields?.[field]).find(Boolean);
  if (!description) return undefined;
  for (const [pattern, text] of FIELD_TEXTS) {
    const found = description.match(pattern);
    if (found) return text(found[1]);
  }
  return t("field.other", { detail: description }); // an unknown case: labelled, in the server's words
}

// Why the users service says a patron may not borrow: its words are fixed English phrases naming the account's
// status (services/users/domain/accounts.py), said here in the UI's language; a block's reason is the staff's
// own text, kept as typed.
const ELIGIBILITY_TEXTS = [
  [/^blocked: ([\s\S]+)$/, (reason) => t("eligibility.blocked_because", { reason })],
  [/^blocked$/, () => t("eligibility.blocked")],
  [/^membership expired$/, () => t("eligibility.expired")],
  [/^account closed$/, () => t("eligibility.closed")],
  [/^account not active$/, () => t("eligibility.not_active")],
];

/** The users service's reason a patron may not borrow, in the UI's language (unknown ones as said). */
export function eligibilityText(reasons) {
  const text = String(reasons || "").trim();
  for (const [pattern, say] of ELIGIBILITY_TEXTS) {
    const found = text.match(pattern);
    if (found) return say(found[1]);
  }
  return text;
}

/** What a fine is for. An overdue fine is said from its kind and its loan's title (`title`, else the title the
 * server wrote after its English "overdue: "); other fines keep the staff's description. */
export function fineText(fine, title, markTitle = (text) => text) {
  // `markTitle` wraps the book's title (in the book's language) within the sentence in the page's.
  if (fine.kind === "FINE_KIND_OVERDUE") {
    const named = title || overdueTitle(fine.description);
    return named ? tParts("fine.overdue_for", { title: markTitle(named) }) : t("fine_kind.FINE_KIND_OVERDUE");
  }
  if (fine.kind === "FINE_KIND_LOST_ITEM") {
    // The loans service writes "lost: <title> (<barcode>): <reason>" in English (finding A17): said from the
    // fine's kind in the UI's language; the title, barcode and the staff's reason kept as written.
    const found = String(fine.description || "").match(/^lost: ([\s\S]+) \(([^()]*)\): ([\s\S]*)$/);
    if (found) {
      const [, named, barcode, reason] = found;
      const said = { title: markTitle(title || named), barcode, reason: reason.trim() };
      return said.reason ? tParts("fine.lost_for_reason", said) : tParts("fine.lost_for", said);
    }
  }
  return fine.description || t(`fine_kind.${fine.kind}`);
}

/** The title in the server's "overdue: <title>" description of an overdue fine; "" when it is not one. */
export function overdueTitle(description) {
  const found = String(description || "").match(/^overdue: ([\s\S]+)$/);
  return found ? found[1] : "";
}

/** A refusal or failure in plain words: by its reason (LOAN_LIMIT_REACHED …), else by its status code. */
// The metadata of a refusal that are amounts of money, written as every other amount on the page.
const MONEY_METADATA = { FINES_LIMIT_EXCEEDED: ["outstanding", "limit"], ACCOUNT_HAS_FINES: ["amount_owed"] };

function bareMoney(amount) {
  return formatMoney(amount, libraryCurrency || undefined);
}

function metadataText(reason, metadata = {}) {
  const money = MONEY_METADATA[reason] || [];
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, money.includes(key) ? bareMoney(value) : value]));
}

/** The words of a refusal's reason: a variant its metadata calls for (a title with reference copies only,
 * finding D7), else staff's third-person words on a form acting for a patron (finding D16), else the reason's. */
function reasonKey(error, staff) {
  const base = `reason.${error.reason}`;
  const variants = [error.metadata?.not_for_loan === "true" && `${base}.not_for_loan`, staff && `${base}.staff`, base];
  return variants.find((key) => key && dictionary[key] !== undefined);
}

/** `staff`: said to a librarian acting for a patron ("The patron already has…"), not to the patron. */
export function errorText(error, { staff = false } = {}) {
  if (!error) return "";
  if (error.reason === "PATRON_NOT_ELIGIBLE") {
    const reasons = eligibilityText(error.metadata?.reasons);
    return reasons ? t("reason.PATRON_NOT_ELIGIBLE", { reasons }) : t("reason.PATRON_NOT_ELIGIBLE_NOW");
  }
  const key = error.reason && reasonKey(error, staff);
  if (key) return t(key, metadataText(error.reason, error.metadata));
  if (error.status === 0) return t("error.network");
  if (error.unimplemented) return t("error.unimplemented");
  if (dictionary[`code.${error.code}`]) return t(`code.${error.code}`);
  if (error.status >= 500) return t("code.13"); // a proxy's page (HTML), not the library's words
  return error.message || t("error.unknown");
}
