// A reader changes their own password on "My account" (finding P1: only "Forgot password?" could, signing out
// every session; a password a librarian set and read out at the desk could not be replaced). The current password
// is asked (a stolen access token alone cannot change it); the new one by the registration's rules. The users
// service signs out every other session of the account and keeps this one: the page says so.
import { useLayoutEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./html.js";
import { SaidNotice } from "./a11y.js";
import { fieldText, t } from "./i18n.js";
import { session } from "./session.js";
import { ErrorNotice, Field, useAction } from "./components.js";

const CURRENT = "password-current";
const NEW = "password-new";

/** The field a refusal is about, and what to say under it; undefined when it is about no field. */
function fieldErrors(error) {
  if (!error) return {};
  const current = error.reason === "WRONG_PASSWORD" ? t("reason.WRONG_PASSWORD") : fieldText(error, "current_password");
  return { current, new: fieldText(error, "new_password") };
}

export function ChangePassword() {
  const [form, setForm] = useState({ current: "", new: "" });
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  // One request_id per press (a second Enter or tap while the first is on its way is ignored): a retry after
  // an answer that said nothing final sends the same one, so a change whose answer was lost is answered as it
  // was, not "the current password is wrong" (the current one is the new one by then).
  const change = useAction();
  const errors = fieldErrors(error);
  // A refused field takes the focus: a screen reader says its error, and the change is known not to be made.
  useLayoutEffect(() => {
    const field = errors.current ? CURRENT : errors.new ? NEW : null;
    if (field) document.getElementById(field)?.focus();
  }, [error]);

  async function submit(event) {
    event.preventDefault();
    if (change.busy) return;
    setError(null);
    setDone(false);
    const name = session.user.name;
    const body = { name, current_password: form.current, new_password: form.new };
    try {
      const answer = await change.run(body, (request_id) =>
        api(`/v1/${name}:changePassword`, { method: "POST", body: { ...body, request_id } }),
      );
      if (answer === undefined) return; // a press while the first was on its way: ignored
      setForm({ current: "", new: "" });
      setDone(true);
    } catch (failure) {
      setError(failure);
    }
  }

  // Field errors are said by the fields; the notice says what no field does (the server, too many tries).
  const general = error && !errors.current && !errors.new ? error : null;
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  return html`<section aria-labelledby="password-heading" data-testid="change-password">
    <h2 id="password-heading">${t("password.heading")}</h2>
    <form class="card form-narrow" onSubmit=${submit}>
      <p class="muted">${t("password.intro")}</p>
      <${Field} id=${CURRENT} label=${t("password.current")} type="password" value=${form.current} onInput=${set("current")}
        autocomplete="current-password" required error=${errors.current} />
      <${Field} id=${NEW} label=${t("reset.new_password")} type="password" value=${form.new} onInput=${set("new")}
        autocomplete="new-password" required hint=${t("auth.password_hint")} error=${errors.new} />
      <${SaidNotice} text=${done ? t("password.changed") : ""} testid="password-changed" />
      <${ErrorNotice} error=${general} title=${t("password.not_changed")} />
      <button class="button" type="submit" aria-disabled=${change.busy ? "true" : undefined}>${t("password.submit")}</button>
    </form>
  </section>`;
}
