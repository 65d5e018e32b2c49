// Admins: every account with its role and status (change a role, block or unblock), and new staff accounts.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html } from "../html.js";
import { fieldText, t } from "../i18n.js";
import { ErrorNotice, Field, Loading, Notice, useAction, useTitle } from "../components.js";
import { PagedCount, usePaged } from "../paging.js";
import { keepFocus } from "../a11y.js";

const ROLES = ["USER_ROLE_READER", "USER_ROLE_LIBRARIAN", "USER_ROLE_ADMIN"];

export function UsersPage() {
  const [role, setRole] = useState("");
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [message, setMessage] = useState(null);
  const users = usePaged(
    (page_token) =>
      api("/v1/users", { query: { role, query: search, page_size: 100, page_token } }).then((data) => ({
        items: data.users || [],
        next: data.next_page_token,
        total: data.total_size,
      })),
    [role, search],
  );
  useTitle(t("users.title"));
  const done = (text) => {
    setMessage(text);
    users.reload();
  };
  return html`<h1 tabindex="-1">${t("users.title")}</h1>
    ${message && html`<${Notice}>${message}<//>`}
    <form class="search-form" role="search" onSubmit=${(event) => (event.preventDefault(), setSearch(query.trim()))}>
      <label class="visually-hidden" for="users-query">${t("patrons.search_label")}</label>
      <input id="users-query" type="search" value=${query} placeholder=${t("patrons.search_label")} onInput=${(event) => setQuery(event.currentTarget.value)} />
      <label class="visually-hidden" for="users-role">${t("users.role")}</label>
      <select id="users-role" value=${role} onChange=${(event) => setRole(event.currentTarget.value)}>
        <option value="">${t("users.any_role")}</option>
        ${ROLES.map((item) => html`<option value=${item}>${t(`role.${item}`)}</option>`)}
      </select>
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    <${ErrorNotice} error=${users.error} />
    ${users.loading && !users.loaded && html`<${Loading} />`}
    ${users.loaded &&
    html`<div class="table-wrap"><table class="stacks">
      <thead><tr><th scope="col">${t("patrons.name")}</th><th scope="col">${t("auth.email")}</th>
        <th scope="col">${t("users.role")}</th><th scope="col">${t("patrons.status")}</th></tr></thead>
      <tbody>${users.items.map((user) => html`<${UserRow} key=${user.name + user.etag} user=${user} onDone=${done} />`)}</tbody>
    </table></div>`}
    <${PagedCount} list=${users} />
    <${NewStaff} onDone=${done} />`;
}

function UserRow({ user, onDone }) {
  const [role, setRole] = useState(user.role);
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const label = user.display_name || user.email;
  const blocked = user.status === "USER_STATUS_BLOCKED";
  const change = useAction();

  async function update(fields, mask, text) {
    if (change.busy) return;
    setError(null);
    keepFocus(); // the row is redrawn with the user's new etag: the button pressed keeps the focus (finding A6)
    try {
      const body = { ...fields, etag: user.etag };
      const call = (request_id) => api(`/v1/${user.name}`, { method: "PATCH", body, query: { update_mask: mask, request_id } });
      if (await change.run({ ...body, mask }, call)) onDone(text);
    } catch (failure) {
      setError(failure);
      if (mask === "role") setRole(user.role); // refused: the select shows the role the user still has
    }
  }
  const toggleBlock = () =>
    blocked
      ? update({ status: "USER_STATUS_ACTIVE", status_reason: "" }, "status,status_reason", t("users.unblocked", { user: label }))
      : update({ status: "USER_STATUS_BLOCKED", status_reason: reason }, "status,status_reason", t("users.blocked", { user: label }));

  const saveRole = () => role !== user.role && update({ role }, "role", t("users.role_changed", { user: label }));
  // Staying focusable while busy or unchanged (aria-disabled, not disabled): a disabled button drops the focus.
  const idle = change.busy || role === user.role;
  return html`<tr>
    <th scope="row">${label}</th><td data-label=${t("auth.email")}>${user.email}</td>
    <td data-label=${t("users.role")}><div class="actions">
      <label class="visually-hidden" for=${`role-${user.card_number}`}>${t("users.role_of", { user: label })}</label>
      <select id=${`role-${user.card_number}`} value=${role} onChange=${(event) => setRole(event.currentTarget.value)}>
        ${ROLES.map((item) => html`<option value=${item}>${t(`role.${item}`)}</option>`)}
      </select>
      <button type="button" id=${`role-save-${user.card_number}`} class="button small" aria-disabled=${idle ? "true" : undefined}
        aria-label=${t("users.save_role_named", { user: label })} onClick=${saveRole}>${t("common.save")}</button>
    </div></td>
    <td data-label=${t("patrons.status")}>${t(`user_status.${user.status}`)} ${user.status_reason}
      <div class="actions">
        ${!blocked &&
        html`<label class="visually-hidden" for=${`reason-${user.card_number}`}>${t("users.block_reason")}</label>
          <input id=${`reason-${user.card_number}`} class="wide" placeholder=${t("users.block_reason")} value=${reason}
            onInput=${(event) => setReason(event.currentTarget.value)} />`}
        <button type="button" id=${`block-${user.card_number}`} class="button small quiet" onClick=${toggleBlock}
          aria-disabled=${change.busy ? "true" : undefined} aria-label=${blocked ? t("users.unblock_named", { user: label }) : t("users.block_named", { user: label })}>
          ${blocked ? t("users.unblock") : t("users.block")}</button>
      </div>
      <${ErrorNotice} error=${error} />
    </td>
  </tr>`;
}

function NewStaff({ onDone }) {
  const empty = { email: "", display_name: "", password: "", role: "USER_ROLE_LIBRARIAN" };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState(null);
  const creating = useAction();
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  const bad = (field) => fieldText(error, `user.${field}`, field); // said under the field, as on the register form
  async function create(event) {
    event.preventDefault();
    setError(null);
    try {
      const user = { email: form.email.trim(), display_name: form.display_name, role: form.role, patron_category: "STAFF" };
      const body = { user, password: form.password };
      const call = (request_id) => api("/v1/users", { method: "POST", body: { ...body, request_id } });
      if (!(await creating.run(body, call))) return;
      setForm(empty);
      onDone(t("users.created", { user: user.email }));
    } catch (failure) {
      setError(failure);
    }
  }
  return html`<form class="card form-narrow" onSubmit=${create} aria-labelledby="new-staff-heading">
    <h2 id="new-staff-heading">${t("users.new_staff")}</h2>
    <${ErrorNotice} error=${error} />
    <${Field} id="staff-email" label=${t("auth.email")} type="email" value=${form.email} onInput=${set("email")} required autocomplete="off"
      error=${bad("email")} />
    <${Field} id="staff-name" label=${t("auth.display_name")} value=${form.display_name} onInput=${set("display_name")}
      error=${bad("display_name")} />
    <${Field} id="staff-password" label=${t("auth.password")} type="password" value=${form.password} onInput=${set("password")}
      required autocomplete="new-password" hint=${t("auth.password_hint")} error=${bad("password")} />
    <div class="field">
      <label for="staff-role">${t("users.role")}</label>
      <select id="staff-role" value=${form.role} onChange=${(event) => set("role")(event.currentTarget.value)}>
        ${ROLES.slice(1).map((item) => html`<option value=${item}>${t(`role.${item}`)}</option>`)}
      </select>
    </div>
    <button class="button" type="submit" aria-disabled=${creating.busy ? "true" : undefined}>${t("users.create")}</button>
  </form>`;
}
