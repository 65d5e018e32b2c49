// The pickup branch of a hold staff place for a patron (finding D8: the desk's forms sent none, so a hold placed at
// the desk always went to the patron's home branch). The library's branches when it lists them (a hold may be
// picked up at any, copies there or not); else a branch typed freely, offered the book's copies' branches. ""
// (the default) sends none: the server takes the patron's home branch.
import { html } from "./html.js";
import { t } from "./i18n.js";
import { Field } from "./components.js";
import { useLibraryBranches } from "./branches.js";

/** `home`: the patron's home branch when known (the patron page), "" when they have none, undefined when the
 * patron is not known yet (the book page: found by card when the hold is placed). `suggested`: codes offered when
 * the library lists no branches. `error`: the field's refusal, if any. */
export function PickupBranchField({ id, value, onInput, home, suggested = [], error }) {
  const library = useLibraryBranches();
  if (!library) return null; // asked once per page load: a moment; until then the hold goes to the home branch
  const label = t("pickup.label");
  const byDefault = home === undefined ? t("pickup.patron_home") : home ? t("pickup.home_named", { branch: home }) : t("hold.first_free");
  if (library.listed) {
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(event) => onInput(event.currentTarget.value)}>
        <option value="">${byDefault}</option>
        ${library.codes.map((code) => html`<option value=${code}>${code}</option>`)}
      </select>
      ${error && html`<span class="error" id=${`${id}-error`}>${error}</span>`}
    </div>`;
  }
  const codes = [...new Set(suggested.map((code) => (code || "").trim()).filter(Boolean))];
  const hint = home === undefined ? t("pickup.hint_home") : home ? t("pickup.hint_home_named", { branch: home }) : t("pickup.hint_first_free");
  return html`<${Field} id=${id} label=${label} hint=${hint} value=${value} onInput=${onInput}
      list=${`${id}-codes`} autocomplete="off" error=${error} />
    <datalist id=${`${id}-codes`}>${codes.map((code) => html`<option value=${code} />`)}</datalist>`;
}
