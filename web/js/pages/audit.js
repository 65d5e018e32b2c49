// The audit trail for staff: who did what, to which record, and when (ListEvents over the events service's
// AUDIT log, newest first, a page at a time). Filters: a resource (a patron, a loan, a copy: every event that
// names it, its subject or its attributes), an actor, a type; the patron and copy pages link here.
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { ErrorNotice, Loading, NotYetAvailable, useAsync, useRouteForm, useTitle } from "../components.js";

const PAGE = 50;
const CATEGORIES = ["EVENT_CATEGORY_AUDIT", "EVENT_CATEGORY_ACTIVITY", ""];
// Attributes worth a glance in the list (the rest are one click away in the raw record).
const SHOWN = ["loan.book_title", "book_title", "barcode", "loan.barcode", "status", "reason", "amount", "fine.amount", "status_reason"];

/** An AIP-160 filter from the form: `resource` matches the subject or any resource named in the attributes. */
function filterOf(criteria) {
  const quoted = (value) => `"${value.replace(/["\\]/g, "")}"`;
  const terms = [];
  if (criteria.resource) terms.push(`resource = ${quoted(criteria.resource)}`);
  return terms.join(" AND ");
}

function criteriaFrom(query) {
  const category = query.get("category");
  return {
    resource: query.get("resource") || "",
    actor: query.get("actor") || "",
    type: query.get("type") || "",
    category: category === null ? "EVENT_CATEGORY_AUDIT" : category === "any" ? "" : category,
  };
}

export function AuditPage({ route }) {
  const criteria = criteriaFrom(route.query);
  const key = JSON.stringify(criteria);
  const [form, setForm] = useRouteForm(criteria, key); // Back, Forward, a link to another record: the form says what is shown
  const [loadedPages, setPages] = useState({ key, tokens: [""] });
  const pages = loadedPages.key === key ? loadedPages.tokens : [""]; // other filters: from their first page again
  useTitle(t("audit.title"));
  const events = useAsync(async () => {
    const loaded = [];
    let next = "";
    for (const token of pages) {
      const query = { filter: filterOf(criteria), actor: criteria.actor, type: criteria.type, category: criteria.category, page_size: PAGE, page_token: token };
      const data = await api("/v1/events", { query });
      loaded.push(...(data.events || []));
      next = data.next_page_token || "";
    }
    return { events: loaded, next };
  }, [key, pages.join(",")]);
  const actors = useActorNames(events.data?.events || []);
  const set = (field) => (event) => setForm({ ...form, [field]: event.currentTarget.value });
  function submit(event) {
    event.preventDefault();
    navigate("/audit", { ...Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()])), category: form.category || "any" });
  }
  const list = events.data?.events || [];
  return html`<h1 tabindex="-1">${t("audit.title")}</h1>
    <form class="card filters-form" onSubmit=${submit} aria-label=${t("audit.filters")}>
      <div class="form-grid">
        <div class="field"><label for="audit-resource">${t("audit.resource")}</label>
          <input id="audit-resource" value=${form.resource} onInput=${set("resource")} placeholder="users/…, loans/…, books/…/copies/…" /></div>
        <div class="field"><label for="audit-actor">${t("audit.actor")}</label>
          <input id="audit-actor" value=${form.actor} onInput=${set("actor")} placeholder="users/…" /></div>
        <div class="field"><label for="audit-type">${t("audit.type")}</label>
          <input id="audit-type" value=${form.type} onInput=${set("type")} placeholder="athenaeum.loans." /></div>
        <div class="field"><label for="audit-category">${t("audit.category")}</label>
          <select id="audit-category" value=${form.category} onChange=${set("category")}>
            ${CATEGORIES.map((code) => html`<option value=${code}>${t(`audit.category.${code || "any"}`)}</option>`)}
          </select></div>
      </div>
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    ${events.error?.unimplemented ? html`<${NotYetAvailable} />` : html`<${ErrorNotice} error=${events.error} />`}
    ${events.loading && !events.data && html`<${Loading} />`}
    ${events.data && !list.length && html`<p role="status">${t("audit.none")}</p>`}
    ${list.length > 0 &&
    html`<div class="table-wrap"><table class="stacks" data-testid="audit">
      <thead><tr><th scope="col">${t("audit.when")}</th><th scope="col">${t("audit.what")}</th><th scope="col">${t("audit.actor")}</th>
        <th scope="col">${t("audit.subject")}</th><th scope="col">${t("audit.details")}</th></tr></thead>
      <tbody>${list.map((event) => html`<${EventRow} key=${event.name + event.occur_time} event=${event} actorName=${actors[event.actor]} />`)}</tbody>
    </table></div>`}
    ${events.data?.next &&
    html`<button type="button" class="button quiet" onClick=${() => setPages({ key, tokens: [...pages, events.data.next] })}>${t("common.more")}</button>`}`;
}

function EventRow({ event, actorName }) {
  const details = SHOWN.filter((name) => event.attributes?.[name]).map((name) => `${name}: ${event.attributes[name]}`);
  return html`<tr>
    <td><time datetime=${event.occur_time}>${formatDateTime(event.occur_time)}</time></td>
    <td data-label=${t("audit.what")}>${eventTypeText(event.type)}</td>
    <td data-label=${t("audit.actor")}><${ResourceLink} name=${event.actor} label=${actorName} empty=${t("audit.anonymous")} /></td>
    <td data-label=${t("audit.subject")}><${ResourceLink} name=${event.subject} /></td>
    <td data-label=${t("audit.details")} class="muted">${details.join(" · ")}</td>
  </tr>`;
}

/** A resource named in an event: a patron opens their page; services and others are said as they are. */
function ResourceLink({ name, label, empty = "—" }) {
  if (!name) return empty;
  if (name.startsWith("services/")) return t("audit.system", { service: idOf(name) });
  if (/^users\/[^/]+$/.test(name)) return html`<a href=${`#/patrons/${idOf(name)}`}>${label || name}</a>`;
  if (/^books\/[^/]+$/.test(name)) return html`<a href=${`#/books/${idOf(name)}`}>${name}</a>`;
  return html`<a href=${href("/audit", { resource: name })}>${name}</a>`;
}

/** "athenaeum.loans.loan_issued" in words when the UI knows the type; else the type itself. */
function eventTypeText(type) {
  const key = `event_type.${type}`;
  const text = t(key);
  return text === key ? type : text;
}

/** The names of the users who acted (staff see every account). */
function useActorNames(events) {
  const users = [...new Set(events.map((event) => event.actor).filter((name) => /^users\/[^/]+$/.test(name || "")))].sort();
  const names = useAsync(async () => {
    const found = await Promise.all(users.map((name) => api(`/v1/${name}`).catch(() => null)));
    return Object.fromEntries(found.filter(Boolean).map((user) => [user.name, user.display_name || user.email]));
  }, [users.join(",")]);
  return names.data || {};
}
