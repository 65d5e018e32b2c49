// A waiting hold's pickup branch changed in place (UpdateHold: PATCH /v1/holds/{id}?update_mask=pickup_branch), on a
// reader's account page and on a patron's page for staff. Before, a reader who chose the wrong branch, or whose hold
// waited for a branch the library took off its list (the queue passes such a hold over), had to cancel and place it
// again, at the end of the queue; changed here, it keeps its place. Only a WAITING hold offers it: once a copy is
// set aside for it, the copy is bound for that branch's hold shelf. Choices as PlaceHold's forms have them
// (GET /v1/branches): the library's branches when it lists them, else a code typed freely.
import { useState } from "preact/hooks";
import { api, idOf } from "./api.js";
import { html } from "./html.js";
import { fieldText, t } from "./i18n.js";
import { ErrorNotice, Field, Notice, useAction } from "./components.js";
import { sameBranch, useLibraryBranches } from "./branches.js";

const CONFLICT = 409;

/** The "Pickup branch" select and its Save for `hold` (WAITING only; nothing otherwise). `title`: the book's, for
 * the button's accessible name. `onChanged`: the holds are read again (a copy may have been set aside for it at
 * once; a refusal for a stale etag reads the hold as it is now, so the next Save carries its etag). */
export function HoldPickupChange({ hold, title, onChanged }) {
  const library = useLibraryBranches();
  const [branch, setBranch] = useState(hold.pickup_branch || "");
  const saving = useAction();
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState("");
  if (hold.status !== "HOLD_STATUS_WAITING" || !library) return null;
  const id = `pickup-${idOf(hold.name)}`;
  async function save(event) {
    event.preventDefault();
    setError(null);
    setSaved("");
    if (sameBranch(branch, hold.pickup_branch)) return; // as it is (the server would answer the hold unchanged)
    const body = { name: hold.name, pickup_branch: branch.trim(), etag: hold.etag };
    try {
      const changed = await saving.run({ hold: hold.name, branch: body.pickup_branch }, (request_id) =>
        api(`/v1/${hold.name}`, { method: "PATCH", body, query: { update_mask: "pickup_branch", request_id } }),
      );
      if (!changed) return;
      setSaved(changed.pickup_branch);
      onChanged?.(changed);
    } catch (failure) {
      setError(failure);
      if (failure?.status === CONFLICT) onChanged?.();
    }
  }
  const label = t("holds.pickup_label");
  const named = t("holds.pickup_save_named", { title });
  const refusal = fieldText(error, "hold.pickup_branch", "pickup_branch");
  // A branch the library no longer lists (the hold was placed before) stays shown as the hold's, so the reader
  // sees where it waits now and what to change.
  const unlisted = hold.pickup_branch && !library.codes.some((code) => sameBranch(code, hold.pickup_branch));
  const input = library.listed
    ? html`<div class="field">
        <label for=${id}>${label}</label>
        <select id=${id} value=${branch} onChange=${(event) => setBranch(event.currentTarget.value)}
          aria-invalid=${refusal ? "true" : undefined} aria-describedby=${refusal ? `${id}-error` : undefined}>
          ${!hold.pickup_branch && html`<option value="">${t("hold.first_free")}</option>`}
          ${unlisted && html`<option value=${hold.pickup_branch}>${t("holds.pickup_unlisted", { branch: hold.pickup_branch })}</option>`}
          ${library.codes.map((code) => html`<option value=${code}>${code}</option>`)}
        </select>
        ${refusal && html`<span class="error" id=${`${id}-error`}>${refusal}</span>`}
      </div>`
    : html`<${Field} id=${id} label=${label} value=${branch} onInput=${setBranch} autocomplete="off" error=${refusal} />`;
  return html`<form class="form-narrow" data-testid="hold-pickup" onSubmit=${save}>
    ${input}
    <button type="submit" class="button small" aria-disabled=${saving.busy ? "true" : undefined} aria-label=${named}>
      ${t("holds.pickup_save")}</button>
    ${saved && html`<${Notice}>${t("holds.pickup_saved", { branch: saved })}<//>`}
    ${!refusal && html`<${ErrorNotice} error=${error} title=${t("holds.pickup_refused")} />`}
  </form>`;
}
