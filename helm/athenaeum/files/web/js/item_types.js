// The library's item types (GET /v1/itemTypes, readable by anyone): the choices of a copy's item type, and which
// of them are for reference only (not for loan).
import { html } from "./html.js";
import { t } from "./i18n.js";
import { useAsync } from "./components.js";
import { fetchAll } from "./paging.js";

/** The item types, by code (a public read: no sign-in needed). */
export function useItemTypes() {
  return useAsync(() => fetchAll("/v1/itemTypes", { field: "item_types", auth: false }), []);
}

/** The codes of the not-for-loan types, from the list `useItemTypes` read (empty while it loads). */
export function referenceCodes(types) {
  return new Set((types || []).filter((kind) => kind.not_for_loan).map((kind) => kind.code));
}

/** A labelled select of the item types, for a copy's form; the value is a code. */
export function ItemTypeSelect({ id, value, onInput, error }) {
  const types = useItemTypes();
  const listed = types.data || [];
  // The copy's own value stays selectable while the list loads (or if an admin deleted its type meanwhile).
  const options = listed.some((kind) => kind.code === value) || !value ? listed : [{ code: value, description: value }, ...listed];
  return html`<div class="field">
    <label for=${id}>${t("rules.item_type")}</label>
    <select id=${id} name=${id} value=${value} onChange=${(event) => onInput(event.currentTarget.value)}
      aria-invalid=${error ? "true" : undefined} aria-describedby=${error ? `${id}-error` : undefined}>
      ${options.map((kind) => html`<option key=${kind.code} value=${kind.code}>
        ${kind.code === kind.description ? kind.code : `${kind.code} — ${kind.description}`}${kind.not_for_loan ? ` (${t("item_types.reference_only")})` : ""}
      </option>`)}
    </select>
    ${error && html`<span class="error" id=${`${id}-error`}>${error}</span>`}
  </div>`;
}
