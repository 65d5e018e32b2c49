// A forgotten password: ask for a reset link by email, then set a new password with the link's token. The token
// travels in the URL fragment (#/reset-password?token=…), which browsers never send to a server, so it stays out
// of access logs; the page takes it out of the address bar and history at once.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, t } from "../i18n.js";
import { ErrorNotice, Field, useTitle } from "../components.js";

export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useTitle(t("reset.forgot_title"));

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/v1/auth/password:requestReset", { method: "POST", body: { email: email.trim() }, auth: false });
      setSent(true);
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  }

  if (sent) {
    return html`<section class="card form-narrow" aria-labelledby="forgot-heading">
      <h1 id="forgot-heading" tabindex="-1">${t("reset.forgot_title")}</h1>
      <p role="status">${t("reset.sent")}</p>
      <div class="actions"><a href="#/signin">${t("reset.back_to_sign_in")}</a></div>
    </section>`;
  }
  return html`<form class="card form-narrow" onSubmit=${submit} aria-labelledby="forgot-heading">
    <h1 id="forgot-heading" tabindex="-1">${t("reset.forgot_title")}</h1>
    <p class="muted">${t("reset.forgot_intro")}</p>
    <${ErrorNotice} error=${error} />
    <${Field} id="forgot-email" label=${t("auth.email")} type="email" value=${email} onInput=${setEmail}
      autocomplete="email" required error=${fieldText(error, "email")} />
    <div class="actions">
      <button class="button" type="submit" disabled=${busy}>${t("reset.send_link")}</button>
      <a href="#/signin">${t("reset.back_to_sign_in")}</a>
    </div>
  </form>`;
}

/** The token of the link, read once; the address bar and this history entry keep only "#/reset-password". */
function takeToken(route) {
  const token = route.query.get("token") || "";
  if (token) history.replaceState(history.state, "", `${location.pathname}${location.search}#/reset-password`);
  return token;
}

export function ResetPasswordPage({ route }) {
  const [token] = useState(() => takeToken(route));
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useTitle(t("reset.reset_title"));

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/v1/auth/password:reset", { method: "POST", body: { token, new_password: password }, auth: false });
      setDone(true);
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  }

  if (done || !token) {
    return html`<section class="card form-narrow" aria-labelledby="reset-heading">
      <h1 id="reset-heading" tabindex="-1">${t("reset.reset_title")}</h1>
      <p role="status">${done ? t("reset.done") : t("reason.RESET_TOKEN_INVALID")}</p>
      <div class="actions">
        <a class="button" href=${done ? "#/signin" : "#/forgot-password"}>
          ${done ? t("nav.sign_in") : t("reset.ask_again")}
        </a>
      </div>
    </section>`;
  }
  return html`<form class="card form-narrow" onSubmit=${submit} aria-labelledby="reset-heading">
    <h1 id="reset-heading" tabindex="-1">${t("reset.reset_title")}</h1>
    <${ErrorNotice} error=${error} />
    <${Field} id="reset-password" label=${t("reset.new_password")} type="password" value=${password}
      onInput=${setPassword} autocomplete="new-password" required hint=${t("auth.password_hint")}
      error=${fieldText(error, "new_password")} />
    <div class="actions">
      <button class="button" type="submit" disabled=${busy}>${t("reset.set_password")}</button>
      ${error?.reason === "RESET_TOKEN_INVALID" && html`<a href="#/forgot-password">${t("reset.ask_again")}</a>`}
    </div>
  </form>`;
}
