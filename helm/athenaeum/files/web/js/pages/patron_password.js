// Staff set a new password for a reader who forgot theirs (at the desk). The reader's sessions end, the reader
// is told by email, and the audit trail names the staff member. Staff accounts' passwords are their owners'.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, t } from "../i18n.js";
import { ErrorNotice, Field } from "../components.js";
import { SaidNotice, focusLater } from "../a11y.js";

const OPENER = "patron-password-open";

export function SetPatronPassword({ patron }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (patron.role !== "USER_ROLE_READER") return null;

  // A disclosure (APG): opening puts the focus in the new password field, closing (Cancel, Escape, saved) back
  // on the button that opened it, so it is never left on <body> (finding A19).
  const show = () => (setOpen(true), setDone(false), focusLater("patron-new-password"));
  const hide = () => (setOpen(false), setError(null), focusLater(OPENER));

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const body = { name: patron.name, new_password: password };
      await api(`/v1/${patron.name}:changePassword`, { method: "POST", body });
      setDone(true);
      hide();
      setPassword("");
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  }

  // The result is shown, and said through the app's polite line (a region born filled is often not read).
  const status = html`<${SaidNotice} text=${done ? t("patrons.password_set") : ""} testid="patron-password-status" />`;
  if (!open) {
    return html`<div>
      ${status}
      <div class="actions">
        <button id=${OPENER} class="button quiet" type="button" aria-expanded="false" onClick=${show}>${t("patrons.set_password")}</button>
      </div>
    </div>`;
  }
  const escape = (event) => event.key === "Escape" && (event.preventDefault(), hide());
  return html`<div>${status}<form class="card form-narrow" onSubmit=${submit} onKeyDown=${escape} aria-label=${t("patrons.set_password")}>
    <p class="muted">${t("patrons.set_password_intro")}</p>
    <${ErrorNotice} error=${error} />
    <${Field} id="patron-new-password" label=${t("reset.new_password")} type="password" value=${password}
      onInput=${setPassword} autocomplete="new-password" required hint=${t("auth.password_hint")}
      error=${fieldText(error, "new_password")} />
    <div class="actions">
      <button class="button" type="submit" aria-disabled=${busy ? "true" : undefined}>${t("reset.set_password")}</button>
      <button class="button quiet" type="button" onClick=${hide}>${t("common.cancel")}</button>
    </div>
  </form></div>`;
}
