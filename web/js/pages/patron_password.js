// Staff set a new password for a reader who forgot theirs (at the desk). The reader's sessions end, the reader
// is told by email, and the audit trail names the staff member. Staff accounts' passwords are their owners'.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, t } from "../i18n.js";
import { ErrorNotice, Field, Notice } from "../components.js";

export function SetPatronPassword({ patron }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (patron.role !== "USER_ROLE_READER") return null;

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { name: patron.name, new_password: password };
      await api(`/v1/${patron.name}:changePassword`, { method: "POST", body });
      setDone(true);
      setOpen(false);
      setPassword("");
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  }

  if (!open) {
    return html`<div class="actions">
      ${done && html`<${Notice}>${t("patrons.password_set")}</${Notice}>`}
      <button class="button quiet" type="button" onClick=${() => (setOpen(true), setDone(false))}>
        ${t("patrons.set_password")}
      </button>
    </div>`;
  }
  return html`<form class="card form-narrow" onSubmit=${submit} aria-label=${t("patrons.set_password")}>
    <p class="muted">${t("patrons.set_password_intro")}</p>
    <${ErrorNotice} error=${error} />
    <${Field} id="patron-new-password" label=${t("reset.new_password")} type="password" value=${password}
      onInput=${setPassword} autocomplete="new-password" required hint=${t("auth.password_hint")}
      error=${fieldText(error, "new_password")} />
    <div class="actions">
      <button class="button" type="submit" disabled=${busy}>${t("reset.set_password")}</button>
      <button class="button quiet" type="button" onClick=${() => setOpen(false)}>${t("common.cancel")}</button>
    </div>
  </form>`;
}
