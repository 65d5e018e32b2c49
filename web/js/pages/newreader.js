// A reader registered at the desk by staff (CreateUser with the READER role and a patron category): a walk-in
// patron gets a card without an account of their own first. The password may be left empty: the account then
// cannot sign in until one is set, and still borrows at the desk by its card.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { fieldText, t } from "../i18n.js";
import { navigate } from "../router.js";
import { ErrorNotice, Field, useAction, useTitle } from "../components.js";
import { useCategories } from "./patron_tools.js";

const EMPTY = { email: "", display_name: "", phone: "", patron_category: "ADULT", home_branch: "", password: "" };

export function NewReaderPage() {
  const [form, setForm] = useState(EMPTY);
  const [error, setError] = useState(null);
  const creating = useAction();
  const categories = useCategories();
  useTitle(t("newreader.title"));
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  const bad = (field) => fieldText(error, `user.${field}`, field);
  async function create(event) {
    event.preventDefault();
    setError(null);
    const { password, ...fields } = form;
    const user = { ...fields, email: fields.email.trim(), phone: fields.phone.trim(), patron_category: fields.patron_category.trim(), role: "USER_ROLE_READER" };
    const body = { user, password };
    try {
      const created = await creating.run(body, (request_id) => api("/v1/users", { method: "POST", body: { ...body, request_id } }));
      if (created) navigate(`/patrons/${idOf(created.name)}`, { created: "1" });
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<h1 tabindex="-1">${t("newreader.title")}</h1>
    <form class="card form-narrow" onSubmit=${create}>
      <p>${t("newreader.intro")}</p>
      <${ErrorNotice} error=${error} />
      <${Field} id="reader-email" label=${t("auth.email")} type="email" value=${form.email} onInput=${set("email")} required
        autocomplete="off" error=${bad("email")} />
      <${Field} id="reader-name" label=${t("auth.display_name")} value=${form.display_name} onInput=${set("display_name")}
        autocomplete="off" error=${bad("display_name")} />
      <${Field} id="reader-phone" label=${t("auth.phone")} hint=${t("auth.phone_hint")} type="tel" value=${form.phone}
        onInput=${set("phone")} autocomplete="off" error=${bad("phone")} />
      <${Field} id="reader-category" label=${t("patrons.category")} value=${form.patron_category} onInput=${set("patron_category")}
        list="reader-categories" autocomplete="off" required error=${bad("patron_category")} />
      <datalist id="reader-categories">${categories.map((code) => html`<option value=${code} />`)}</datalist>
      <${Field} id="reader-branch" label=${t("patron.home_branch")} value=${form.home_branch} onInput=${set("home_branch")}
        error=${bad("home_branch")} />
      <${Field} id="reader-password" label=${t("auth.password")} hint=${t("newreader.password_hint")} type="password"
        value=${form.password} onInput=${set("password")} autocomplete="new-password" error=${bad("password")} />
      <button class="button" type="submit" aria-disabled=${creating.busy ? "true" : undefined}>${t("newreader.create")}</button>
    </form>`;
}
