// Sign in and register. The edge keeps the refresh token in an HttpOnly cookie; see session.js.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, newRequestId } from "../api.js";
import { html } from "../html.js";
import { fieldText, language, t } from "../i18n.js";
import { remembered } from "../router.js";
import { session } from "../session.js";
import { ErrorNotice, Field, useTitle } from "../components.js";

/** What the reader's browser says about them, for an account that does not know it yet (notices' language, times). */
function readerSettings() {
  return { locale: language(), time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "" };
}

/** [busy, setBusy]: setBusy(true) answers false when already busy (checked at once, before any re-render). The
 * button says it with aria-disabled, not `disabled`, which threw the keyboard focus to <body> (finding A5). */
function useBusy() {
  const [busy, setBusyState] = useState(false);
  const running = useRef(false);
  const setBusy = (value) => {
    if (value && running.current) return false;
    running.current = value;
    setBusyState(value);
    return true;
  };
  return [busy, setBusy];
}

function destination(route) {
  const next = route.query.get("next");
  if (next && next.startsWith("/") && !next.startsWith("/signin") && !next.startsWith("/register")) return next;
  return session.isStaff() ? "/desk" : "/account"; // a blocked or expired account: its own page, which says why
}

/** On to where the reader was going, in place of the form's history entry: Back then leads to the page before
 * the form, not to the form again while signed in (finding P5: a second submit made a second account). */
function goOn(route) {
  location.replace(`#${destination(route)}`);
}

/** A signed-in reader brought back to a form by Back or Forward (an entry shown before: the router kept where
 * it was scrolled) is sent on, as after signing in. A form opened anew still signs in as someone else. */
function useOnwardWhenSignedIn(route) {
  const [revisited] = useState(() => "scrollY" in remembered());
  const signedIn = Boolean(session.user);
  useEffect(() => {
    if (signedIn && revisited) goOn(route);
  }, [signedIn]);
  return signedIn && revisited; // leaving: the form is not drawn for the moment before
}

export function SignInPage({ route }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useBusy();
  useTitle(t("auth.sign_in_title"));
  const leaving = useOnwardWhenSignedIn(route);

  async function submit(event) {
    event.preventDefault();
    if (!setBusy(true)) return; // a second Enter while the first is on its way
    setError(null);
    const result = await session.signIn(email.trim(), password, readerSettings());
    setBusy(false);
    if (!result.ok) {
      setError(new ApiError(result.status, result.data));
      return;
    }
    goOn(route);
  }

  if (leaving) return null;
  return html`<form class="card form-narrow" onSubmit=${submit} aria-labelledby="signin-heading">
    <h1 id="signin-heading" tabindex="-1">${t("auth.sign_in_title")}</h1>
    <${ErrorNotice} error=${error} />
    <${Field} id="email" label=${t("auth.email")} type="email" value=${email} onInput=${setEmail} autocomplete="username" required />
    <${Field}
      id="password"
      label=${t("auth.password")}
      type="password"
      value=${password}
      onInput=${setPassword}
      autocomplete="current-password"
      required
    />
    <div class="actions">
      <button class="button" type="submit" aria-disabled=${busy ? "true" : undefined}>${t("nav.sign_in")}</button>
      <a href="#/forgot-password">${t("auth.forgot_password")}</a>
      <a href=${`#/register${route.query.get("next") ? `?next=${encodeURIComponent(route.query.get("next"))}` : ""}`}>
        ${t("auth.no_account")}
      </a>
    </div>
  </form>`;
}

export function RegisterPage({ route }) {
  const [form, setForm] = useState({ email: "", display_name: "", password: "", phone: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useBusy();
  // One request_id per form as sent: a retry after no answer (the account may have been made) gets the first
  // call's answer, signed in, rather than "this email already exists" (AIP-155).
  const attempt = useRef({ key: "", id: "" });
  useTitle(t("auth.register_title"));
  const leaving = useOnwardWhenSignedIn(route);
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  const fieldError = (field) => fieldText(error, field);

  async function submit(event) {
    event.preventDefault();
    if (!setBusy(true)) return;
    setError(null);
    const fields = { ...form, email: form.email.trim() };
    const key = JSON.stringify(fields);
    if (attempt.current.key !== key) attempt.current = { key, id: newRequestId() };
    // The language the reader signs up in goes with the sign-up: the welcome notice is written in it.
    const result = await session.register({ ...fields, locale: language(), request_id: attempt.current.id }, readerSettings());
    setBusy(false);
    if (!result.ok) {
      const error = new ApiError(result.status, result.data);
      if (!error.retryable) attempt.current = { key: "", id: "" };
      setError(error);
      return;
    }
    goOn(route);
  }

  if (leaving) return null;
  return html`<form class="card form-narrow" onSubmit=${submit} aria-labelledby="register-heading">
    <h1 id="register-heading" tabindex="-1">${t("auth.register_title")}</h1>
    <p class="muted">${t("auth.register_intro")}</p>
    <${ErrorNotice} error=${error} />
    <${Field} id="reg-email" label=${t("auth.email")} type="email" value=${form.email} onInput=${set("email")}
      autocomplete="email" required error=${fieldError("email")} />
    <${Field} id="reg-name" label=${t("auth.display_name")} value=${form.display_name} onInput=${set("display_name")}
      autocomplete="name" error=${fieldError("display_name")} />
    <${Field} id="reg-password" label=${t("auth.password")} type="password" value=${form.password}
      onInput=${set("password")} autocomplete="new-password" required hint=${t("auth.password_hint")}
      error=${fieldError("password")} />
    <${Field} id="reg-phone" label=${t("auth.phone")} type="tel" value=${form.phone} onInput=${set("phone")}
      autocomplete="tel" hint=${t("auth.phone_hint")} error=${fieldError("phone")} />
    <div class="actions">
      <button class="button" type="submit" aria-disabled=${busy ? "true" : undefined}>${t("auth.register")}</button>
      <a href="#/signin">${t("auth.have_account")}</a>
    </div>
  </form>`;
}
