// The circulation rules matrix as an editable table: one row per patron category × item type ("*" = any).
// Admins change, add and delete rules; librarians read them.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { fieldText, t, typedAmount } from "../i18n.js";
import { session } from "../session.js";
import { ErrorNotice, Loading, Notice, useAction, useAsync, useTitle } from "../components.js";
import { fetchAll } from "../paging.js";
import { ClosedDays } from "./closed_days.js";
import { ItemTypes } from "./item_types.js";
import { keepFocus } from "../a11y.js";

// Editable columns: [field, kind]; "int" and "money" are typed into text inputs, "bool" is a checkbox.
const COLUMNS = [
  ["loan_period_days", "int"],
  ["max_loans", "int"],
  ["max_renewals", "int"],
  ["renewal_period_days", "int"],
  ["fine_per_day", "money"],
  ["grace_days", "int"],
  ["fine_cap", "money"],
  ["max_outstanding_fines", "money"],
  ["holds_allowed", "bool"],
  ["max_holds", "int"],
  ["hold_pickup_days", "int"],
];
const NEW_RULE = { patron_category: "", item_type: "", loan_period_days: 21, max_loans: 5, max_renewals: 2, renewal_period_days: 14,
  fine_per_day: "0", grace_days: 0, fine_cap: "", max_outstanding_fines: "", holds_allowed: true, max_holds: 5, hold_pickup_days: 7 };

/** A whole number of 0 or more, as typed ("14") or as the server sent it (14; absent: 0); else null. */
function wholeNumber(value) {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : null;
  const text = String(value).trim();
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

function typed(kind, value) {
  if (kind === "int") return wholeNumber(value);
  if (kind === "money") return typedAmount(value);
  return Boolean(value);
}

export function RulesPage() {
  const rules = useAsync(() => fetchAll("/v1/circulationRules", { field: "circulation_rules" }), []);
  const [message, setMessage] = useState(null);
  const editable = session.isAdmin();
  useTitle(t("rules.title"));
  const done = (text) => {
    setMessage(text);
    rules.reload();
  };
  // An item type renamed or deleted below: the loans service re-keys (or drops) the rules naming it a moment
  // later, from the catalog's event. The table is read again once none names the old code (a few seconds at
  // most), so it shows the new code and the etags a Save needs (finding NF5: it kept the old ones until reload).
  async function followItemType(code) {
    for (let tries = 0; tries < 15; tries += 1) {
      const listed = await fetchAll("/v1/circulationRules", { field: "circulation_rules" }).catch(() => null);
      if (listed && !listed.some((rule) => rule.item_type === code)) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    rules.reload();
  }
  return html`<h1 tabindex="-1">${t("rules.title")}</h1>
    <p class="muted">${editable ? t("rules.intro_admin") : t("rules.intro_read_only")}</p>
    ${message && html`<${Notice}>${message}<//>`}
    <${ErrorNotice} error=${rules.error} />
    ${rules.loading && !rules.data && html`<${Loading} />`}
    ${rules.data &&
    html`<div class="table-wrap"><table class="rules" data-testid="rules">
      <caption class="visually-hidden">${t("rules.title")}</caption>
      <thead><tr>
        <th scope="col">${t("rules.patron_category")}</th><th scope="col">${t("rules.item_type")}</th>
        ${COLUMNS.map(([field]) => html`<th scope="col">${t(`rules.${field}`)}</th>`)}
        ${editable && html`<th scope="col" class="row-actions"><span class="visually-hidden">${t("loans.actions")}</span></th>`}
      </tr></thead>
      <tbody>
        ${rules.data.map((rule) => html`<${RuleRow} key=${rule.name + rule.etag} rule=${rule} editable=${editable} onDone=${done} />`)}
        ${editable && html`<${RuleRow} key="new" rule=${NEW_RULE} editable=${true} onDone=${done} />`}
      </tbody>
    </table></div>`}
    <${ItemTypes} onTypeGone=${followItemType} />
    <${ClosedDays} />`;
}

function RuleRow({ rule, editable, onDone }) {
  const [draft, setDraft] = useState(rule);
  const [error, setError] = useState(null);
  const [checked, setChecked] = useState(false); // after a save was tried: say which cells are not numbers
  const change = useAction();
  const isNew = !rule.name;
  const id = isNew ? "new" : idOf(rule.name);
  const label = `${draft.patron_category || "?"} / ${draft.item_type || "?"}`;
  const set = (field, value) => setDraft({ ...draft, [field]: value });
  const changed = COLUMNS.filter(([field, kind]) => typed(kind, draft[field]) !== typed(kind, rule[field])).map(([field]) => field);
  const notWhole = COLUMNS.filter(([field, kind]) => kind === "int" && wholeNumber(draft[field]) === null).map(([field]) => field);

  async function act(intent, call, text) {
    setError(null);
    try {
      if (!(await change.run(intent, call))) return;
      if (isNew) setDraft(NEW_RULE);
      onDone(text);
    } catch (failure) {
      setError(failure);
    }
  }

  function save() {
    if (change.busy || (!isNew && !changed.length)) return undefined;
    setChecked(true);
    if (notWhole.length) {
      setError(null);
      document.getElementById(`rule-${id}-${notWhole[0]}`)?.focus();
      return undefined; // never sent: "two" or "1.5" would have been saved as 0 or 1
    }
    keepFocus(`rule-${id}-save`); // a saved row is redrawn (keyed by its etag): its Save keeps the focus (finding A7)
    const body = Object.fromEntries(COLUMNS.map(([field, kind]) => [field, typed(kind, draft[field])]));
    if (isNew) {
      const added = { ...body, patron_category: draft.patron_category.trim(), item_type: draft.item_type.trim() };
      const call = (request_id) => api("/v1/circulationRules", { method: "POST", body: added, query: { request_id } });
      return act(added, call, t("rules.added", { rule: label }));
    }
    const patch = { ...body, etag: rule.etag };
    const query = { update_mask: changed.join(",") };
    const call = (request_id) => api(`/v1/${rule.name}`, { method: "PATCH", body: patch, query: { ...query, request_id } });
    return act({ ...patch, ...query }, call, t("rules.saved", { rule: label }));
  }

  function remove() {
    const call = () => api(`/v1/${rule.name}`, { method: "DELETE", query: { etag: rule.etag } });
    return act({ remove: rule.name, etag: rule.etag }, call, t("rules.deleted", { rule: label }));
  }

  const keyCell = (field) =>
    isNew
      ? html`<td><label class="visually-hidden" for=${`rule-${id}-${field}`}>${t(`rules.${field}`)}</label>
          <input id=${`rule-${id}-${field}`} value=${draft[field]} placeholder="*" onInput=${(event) => set(field, event.currentTarget.value)} /></td>`
      : html`<th scope="row">${rule[field]}</th>`;

  return html`<tr>
    ${keyCell("patron_category")}${isNew ? keyCell("item_type") : html`<td class="code">${rule.item_type}</td>`}
    ${COLUMNS.map(([field, kind]) => {
      const inputId = `rule-${id}-${field}`;
      if (!editable) return html`<td>${kind === "bool" ? (rule[field] ? "✓" : "—") : rule[field] || "—"}</td>`;
      const name = html`<label class="visually-hidden" for=${inputId}>${t(`rules.${field}`)} (${label})</label>`;
      if (kind === "bool") {
        return html`<td>${name}<input id=${inputId} type="checkbox" checked=${draft[field]} onChange=${(event) => set(field, event.currentTarget.checked)} /></td>`;
      }
      const problem = checked && notWhole.includes(field) ? t("rules.whole_number") : fieldText(error, field, `circulation_rule.${field}`);
      return html`<td>${name}<input id=${inputId} inputmode=${kind === "int" ? "numeric" : "decimal"} value=${draft[field]}
        onInput=${(event) => set(field, event.currentTarget.value)}
        aria-invalid=${problem ? "true" : undefined} aria-describedby=${problem ? `${inputId}-error` : undefined} />
        ${problem && html`<span class="error" id=${`${inputId}-error`}>${problem}</span>`}</td>`;
    })}
    ${editable &&
    html`<td class="row-actions">
      <div class="actions">
        <button type="button" id=${`rule-${id}-save`} class="button small" onClick=${save}
          aria-disabled=${change.busy || (!isNew && !changed.length) ? "true" : undefined}>
          ${isNew ? t("rules.add") : t("common.save")}</button>
        ${!isNew && html`<button type="button" class="button small quiet" onClick=${remove} aria-disabled=${change.busy ? "true" : undefined}>${t("rules.delete")}</button>`}
      </div>
      <${ErrorNotice} error=${error} />
    </td>`}
  </tr>`;
}
