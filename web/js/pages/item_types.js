// The list of item types under the rules matrix: what a copy's item type may be, and which are for reference
// only (never lent nor held). Admins add, edit, rename and delete them (a type copies have is not deleted; a
// rename moves its copies, and the loans service re-keys the circulation rules that name it); librarians read
// them.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { errorText, fieldText, t } from "../i18n.js";
import { session } from "../session.js";
import { ErrorNotice, Loading, Notice, useListChange } from "../components.js";
import { useItemTypes } from "../item_types.js";
import { focusLater, keepFocus } from "../a11y.js";

const ALREADY_EXISTS = 6; // the gRPC code of a code another item type has
const EMPTY = { code: "", description: "", not_for_loan: false, editing: null };

/** The notice of the last change, in the language shown now (kept as what was done, finding D4). */
function noticeText({ done, code, new_code }) {
  if (done === "deleted") return t("item_types.deleted", { code });
  if (done === "renamed") return t("item_types.renamed", { code, new_code });
  return done === "saved" ? t("item_types.saved", { code }) : t("item_types.added", { code });
}

/** `onTypeGone(code)`: an item type was renamed or deleted (the rules naming its old code follow it). */
export function ItemTypes({ onTypeGone = () => {} }) {
  const types = useItemTypes();
  const [draft, setDraft] = useState(EMPTY);
  const [renaming, setRenaming] = useState(null); // { kind, new_code } while the rename form is open
  const change = useListChange(() => types.reload());
  const { act, message, error } = change;
  const editable = session.isAdmin();

  async function save(event) {
    event.preventDefault();
    if (change.busy || !draft.code.trim() || !draft.description.trim()) return;
    const body = { code: draft.code.trim(), description: draft.description.trim(), not_for_loan: draft.not_for_loan };
    // The etag of the type as the list has it now: after a conflict the list is read again (what the other admin
    // saved shows there), and the next save may pass (finding D13: the etag of the Edit click failed for ever).
    const editing = draft.editing && ((types.data || []).find((kind) => kind.name === draft.editing.name) || draft.editing);
    const etag = editing?.etag;
    const call = editing
      ? (request_id) => api(`/v1/${editing.name}`, { method: "PATCH", body: { ...body, etag },
          query: { request_id, update_mask: "description,not_for_loan" } })
      : (request_id) => api("/v1/itemTypes", { method: "POST", body, query: { request_id } });
    const code = body.code.toUpperCase();
    const said = { done: editing ? "saved" : "added", code };
    // The form is emptied for the next one: the focus goes to its first field, not to <body> (finding A7).
    if (await act({ editing: editing?.name, etag, ...body }, call, said)) (setDraft(EMPTY), focusLater("item-type-code"));
  }

  function remove(kind) {
    if (change.busy) return undefined;
    if (!window.confirm(t("item_types.delete_confirm", { code: kind.code }))) return undefined;
    keepFocus(undefined, "item-type-code"); // the type's line goes with its button
    const call = (request_id) => api(`/v1/${kind.name}`, { method: "DELETE", query: { request_id } });
    return act({ remove: kind.name }, call, { done: "deleted", code: kind.code }).then((gone) => gone && onTypeGone(kind.code));
  }

  async function rename(event) {
    event.preventDefault();
    // The etag of the type as the list has it now (as for an edit: after a conflict the list is read again).
    const kind = (types.data || []).find((listed) => listed.name === renaming.kind.name) || renaming.kind;
    const newCode = renaming.new_code.trim();
    const said = { done: "renamed", code: kind.code, new_code: newCode.toUpperCase() };
    if (!window.confirm(t("item_types.rename_confirm", said))) return;
    const call = (request_id) =>
      api(`/v1/${kind.name}:rename`, { method: "POST", body: { new_code: newCode, etag: kind.etag, request_id } });
    if (await act({ rename: kind.name, newCode, etag: kind.etag }, call, said)) (setRenaming(null), onTypeGone(kind.code));
  }

  const set = (field) => (event) => setDraft({ ...draft, [field]: event.currentTarget.value });
  // A code another type has is a refusal of the Code field: said there too, tied to it (finding A7).
  const codeTaken = error?.code === ALREADY_EXISTS;
  const codeProblem = fieldText(error, "item_type.code") || (codeTaken ? errorText(error) : null);
  const descriptionProblem = fieldText(error, "item_type.description");
  return html`<section aria-labelledby="item-types-title">
    <h2 id="item-types-title">${t("item_types.title")}</h2>
    <p class="muted">${t("item_types.intro")}</p>
    ${message && html`<${Notice}>${noticeText(message)}<//>`}
    <${ErrorNotice} error=${types.error || (codeTaken ? null : error)} />
    ${types.loading && !types.data && html`<${Loading} />`}
    ${types.data &&
    html`<ul class="closed-days" data-testid="item-types">
      ${types.data.map((kind) => html`<li key=${kind.name + kind.etag}>
        <strong>${kind.code}</strong> — ${kind.description}${kind.not_for_loan && html` (${t("item_types.reference_only")})`}
        ${editable && html` <button type="button" class="button small quiet" aria-label=${t("item_types.edit_named", { code: kind.code })}
            onClick=${() => { setRenaming(null); setDraft({ code: kind.code, description: kind.description, not_for_loan: Boolean(kind.not_for_loan), editing: kind }); }}>
            ${t("item_types.edit")}</button>
          <button type="button" class="button small quiet" aria-label=${t("item_types.rename_named", { code: kind.code })}
            onClick=${() => { setDraft(EMPTY); setRenaming({ kind, new_code: "" }); }}>${t("item_types.rename")}</button>
          <button type="button" class="button small quiet" onClick=${() => remove(kind)} aria-label=${t("item_types.delete_named", { code: kind.code })}
            aria-disabled=${change.busy ? "true" : undefined}>${t("item_types.delete")}</button>`}
      </li>`)}
    </ul>`}
    ${editable && renaming &&
    html`<${RenameForm} renaming=${renaming} busy=${change.busy} error=${error} onSubmit=${rename}
      onInput=${(new_code) => setRenaming({ ...renaming, new_code })} onCancel=${() => setRenaming(null)} />`}
    ${editable && !renaming &&
    html`<form class="card form-narrow" onSubmit=${save} aria-labelledby="item-type-form-title">
      <h3 id="item-type-form-title">${draft.editing ? t("item_types.edit_named", { code: draft.code }) : t("item_types.add_heading")}</h3>
      <label for="item-type-code">${t("item_types.code")}</label>
      <input id="item-type-code" required maxlength="20" pattern="[A-Za-z0-9_\\-]{1,20}" value=${draft.code} disabled=${Boolean(draft.editing)}
        onInput=${set("code")} aria-invalid=${codeProblem ? "true" : undefined} aria-describedby="item-type-code-hint${codeProblem ? " item-type-code-error" : ""}" />
      <span class="hint" id="item-type-code-hint">${t("item_types.code_hint")}</span>
      ${codeProblem && html`<span class="error" id="item-type-code-error" role=${codeTaken ? "alert" : undefined}>${codeProblem}</span>`}
      <label for="item-type-description">${t("item_types.description")}</label>
      <input id="item-type-description" required maxlength="100" value=${draft.description} onInput=${set("description")}
        aria-invalid=${descriptionProblem ? "true" : undefined} aria-describedby=${descriptionProblem ? "item-type-description-error" : undefined} />
      ${descriptionProblem && html`<span class="error" id="item-type-description-error">${descriptionProblem}</span>`}
      <label class="check"><input type="checkbox" checked=${draft.not_for_loan}
        onChange=${(event) => setDraft({ ...draft, not_for_loan: event.currentTarget.checked })} /> ${t("item_types.not_for_loan")}</label>
      <button type="submit" class="button small" aria-disabled=${change.busy || !draft.code.trim() || !draft.description.trim() ? "true" : undefined}>
        ${draft.editing ? t("item_types.save") : t("item_types.add")}</button>
      ${draft.editing && html` <button type="button" class="button small quiet" onClick=${() => setDraft(EMPTY)}>${t("item_types.cancel")}</button>`}
    </form>`}
  </section>`;
}

/** The new code of a type, its refusal at the field: a code out of the rule, the type's own, or one taken. */
function RenameForm({ renaming, busy, error, onSubmit, onInput, onCancel }) {
  const code = renaming.kind.code;
  const problem = fieldText(error, "new_code") || (error?.reason === "ITEM_TYPE_EXISTS" ? t("item_types.code_taken") : undefined);
  return html`<form class="card form-narrow" onSubmit=${onSubmit} aria-labelledby="item-type-rename-title">
    <h3 id="item-type-rename-title">${t("item_types.rename_named", { code })}</h3>
    <p class="muted">${t("item_types.rename_intro")}</p>
    <label for="item-type-new-code">${t("item_types.new_code")}</label>
    <input id="item-type-new-code" required maxlength="20" value=${renaming.new_code} onInput=${(event) => onInput(event.currentTarget.value)}
      aria-invalid=${problem ? "true" : undefined} aria-describedby="item-type-new-code-hint${problem ? " item-type-new-code-error" : ""}" />
    <span class="hint" id="item-type-new-code-hint">${t("item_types.code_hint")}</span>
    ${problem && html`<span class="error" id="item-type-new-code-error">${problem}</span>`}
    <button type="submit" class="button small" disabled=${busy || !renaming.new_code.trim()}>${t("item_types.rename_submit")}</button>
    <button type="button" class="button small quiet" onClick=${onCancel}>${t("item_types.cancel")}</button>
  </form>`;
}
