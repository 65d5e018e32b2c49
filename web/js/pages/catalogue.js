// The catalogue: typo-tolerant search with highlights and facets (language, subject, availability);
// without a query it lists the newest books. Search state lives in the URL, so Back works.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { focusLater, langOf } from "../a11y.js";
import { formatNumber, languageName, t, tn } from "../i18n.js";
import { href, navigate, remembered } from "../router.js";
import { Availability, ErrorNotice, Highlight, Loading, useRouteForm, useTitle } from "../components.js";

const PAGE_SIZE = 20;
const FACETS = ["language", "subjects"];
const SUBJECTS_SHOWN = 10;
const NOTHING_YET = { loading: true, error: null, results: [], facets: [], total: 0, next: "" };

function criteriaFrom(query) {
  return {
    q: query.get("q") || "",
    language: query.get("language") || "",
    subjects: query.getAll("subject"),
    available: query.get("available") === "1",
  };
}

function isSearch(criteria) {
  return Boolean(criteria.q || criteria.language || criteria.subjects.length || criteria.available);
}

async function fetchPage(criteria, pageToken) {
  if (!isSearch(criteria)) {
    const data = await api("/v1/books", { query: { page_size: PAGE_SIZE, page_token: pageToken }, auth: false });
    return {
      results: (data.books || []).map((book) => ({ book, highlights: [] })),
      facets: [],
      total: data.total_size || 0,
      next: data.next_page_token || "",
    };
  }
  // The language facet counts what the search finds in every language (a multi-select facet, as Koha and
  // Evergreen do): counted under the language chosen it listed that one only, and the others could not be
  // chosen any more (finding A4).
  const [data, everyLanguage] = await Promise.all([
    searchCall(criteria, FACETS, PAGE_SIZE, pageToken),
    criteria.language && !pageToken ? searchCall({ ...criteria, language: "" }, ["language"], 1, "") : null,
  ]);
  const facets = (data.facets || []).filter((facet) => !everyLanguage || facet.field !== "language");
  return {
    results: data.results || [],
    facets: [...facets, ...(everyLanguage?.facets || [])],
    total: data.total_size || 0,
    next: data.next_page_token || "",
  };
}

function searchCall(criteria, facets, pageSize, pageToken) {
  return api("/v1/books:search", {
    auth: false,
    query: {
      query: criteria.q,
      facets,
      "filters.language": criteria.language,
      "filters.subjects": criteria.subjects,
      "filters.available_only": criteria.available,
      page_size: pageSize,
      page_token: pageToken,
    },
  });
}

export function CataloguePage({ route }) {
  const criteria = criteriaFrom(route.query);
  const key = JSON.stringify(criteria);
  // Back, Forward, a filter: the box says what is searched (never on the first render: words typed before the
  // page's first effects were wiped, and Search then listed the newest books).
  const [text, setText] = useRouteForm(criteria.q, key);
  // Back to a list already shown finds it as it was left: every page loaded (and the main page scrolls back).
  const kept = () => (remembered().content?.key === key ? remembered().content.state : null);
  const [state, setState] = useState(() => kept() || NOTHING_YET);
  const latest = useRef(0);
  useTitle(criteria.q ? t("catalogue.title_for", { q: criteria.q }) : t("catalogue.title"));

  async function load(pageToken = "") {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    try {
      const page = await fetchPage(criteria, pageToken);
      if (call !== latest.current) return;
      setState((previous) => ({
        loading: false,
        error: null,
        results: pageToken ? [...previous.results, ...page.results] : page.results,
        facets: pageToken ? previous.facets : page.facets,
        total: page.total,
        next: page.next,
      }));
    } catch (error) {
      if (call !== latest.current) return;
      // A failed first page leaves no count and no results of an older search: only the error is true.
      const failed = pageToken ? {} : { results: [], facets: [], total: null, next: "" };
      setState((previous) => ({ ...previous, ...failed, loading: false, error }));
    }
  }

  useEffect(() => {
    const shown = kept();
    if (shown) setState(shown);
    else load();
  }, [key]);

  useEffect(() => {
    if (!state.loading && !state.error) remembered().content = { key, state };
  }, [state]);

  // A filter changed with words typed in the box but not searched yet: they are searched with it, not wiped.
  function go(changes) {
    const next = { ...criteria, q: text.trim(), ...changes };
    navigate("/", { q: next.q, language: next.language, subject: next.subjects, available: next.available ? "1" : "" });
  }

  // The next page: the focus goes to its first result (the button, disabled while busy, threw it to <body>, and
  // a keyboard user then tabbed through every earlier result to reach the new ones: finding A5).
  async function more() {
    if (state.loading) return;
    const first = state.results.length;
    await load(state.next);
    focusLater(() => document.querySelectorAll('[data-testid="results"] > li')[first]?.querySelector("a"));
  }

  function submit(event) {
    event.preventDefault();
    go({ q: text.trim() });
  }

  const searching = isSearch(criteria);
  return html`<h1 tabindex="-1">${t("catalogue.heading")}</h1>
    <form class="search-form" role="search" onSubmit=${submit}>
      <label class="visually-hidden" for="search-query">${t("catalogue.search_label")}</label>
      <input
        id="search-query"
        type="search"
        value=${text}
        onInput=${(event) => setText(event.currentTarget.value)}
        placeholder=${t("catalogue.search_placeholder")}
        autocomplete="off"
        enterkeyhint="search"
      />
      <button class="button" type="submit">${t("catalogue.search")}</button>
    </form>
    <div class="catalogue">
      <${Facets} criteria=${criteria} facets=${state.facets} go=${go} />
      <section aria-labelledby="results-heading">
        <h2 id="results-heading" class="visually-hidden">${t("catalogue.results")}</h2>
        <p role="status" aria-live="polite" class="muted" data-testid="result-count">
          ${state.loading && !state.results.length
            ? t("common.loading")
            : state.total === null
              ? ""
              : searching
                ? tn("catalogue.found", state.total)
                : t("catalogue.newest")}
        </p>
        <${ErrorNotice} error=${state.error} />
        ${state.error?.retryable && !state.loading &&
        html`<button class="button quiet" type="button" onClick=${() => load(state.total === null ? "" : state.next)}>
          ${t("common.try_again")}
        </button>`}
        ${!state.loading && !state.error && searching && state.total === 0 && html`<p>${t("catalogue.nothing")}</p>`}
        <ul class="results" data-testid="results">
          ${state.results.map(({ book, highlights }) => html`<${ResultItem} key=${book.name} book=${book} highlights=${highlights} />`)}
        </ul>
        ${state.next &&
        html`<button class="button quiet" type="button" aria-disabled=${state.loading ? "true" : undefined} onClick=${more}>
          ${t("catalogue.more")}
        </button>`}
        ${state.loading && state.results.length > 0 && html`<${Loading} />`}
      </section>
    </div>`;
}

function ResultItem({ book, highlights }) {
  const facts = [
    (book.authors || []).join(", "),
    book.publication_year || "",
    book.language ? languageName(book.language) : "",
  ].filter(Boolean);
  return html`<li class="result">
    <h3 lang=${langOf(book)}><a href=${href(`/books/${idOf(book.name)}`)}>${book.title}</a></h3>
    <p class="meta">${facts.join(" · ")}</p>
    <${Availability} book=${book} />
    ${highlights.map((snippet) => html`<p class="snippet" lang=${langOf(book)}><${Highlight} text=${snippet} /></p>`)}
  </li>`;
}

// Open beside the results on a wide screen; folded above them on a phone.
const WIDE_SCREEN = "(min-width: 48rem)";

function Facets({ criteria, facets, go }) {
  const [open, setOpen] = useState(() => matchMedia(WIDE_SCREEN).matches);
  const values = (field) => facets.find((facet) => facet.field === field)?.values || [];
  const languages = values("language");
  const subjects = values("subjects").slice(0, SUBJECTS_SHOWN);
  const toggleSubject = (subject) =>
    go({
      subjects: criteria.subjects.includes(subject)
        ? criteria.subjects.filter((item) => item !== subject)
        : [...criteria.subjects, subject],
    });
  return html`<details class="facets" open=${open} onToggle=${(event) => setOpen(event.currentTarget.open)}>
    <summary>${t("catalogue.filters")}</summary>
    <fieldset>
      <legend>${t("catalogue.availability")}</legend>
      <label class="check">
        <input type="checkbox" checked=${criteria.available} onChange=${(event) => go({ available: event.currentTarget.checked })} />
        ${t("catalogue.available_only")}
      </label>
    </fieldset>
    ${(languages.length > 0 || criteria.language) &&
    html`<fieldset>
      <legend>${t("catalogue.language")}</legend>
      <ul>
        <li><${LanguageLink} criteria=${criteria} go=${go} value="" label=${t("catalogue.any_language")} /></li>
        ${languages.map(
          ({ value, count }) => html`<li key=${value}>
            <${LanguageLink} criteria=${criteria} go=${go} value=${value} label=${languageName(value)} count=${count} />
          </li>`,
        )}
      </ul>
    </fieldset>`}
    ${(subjects.length > 0 || criteria.subjects.length > 0) &&
    html`<fieldset>
      <legend>${t("catalogue.subject")}</legend>
      <ul>
        ${[...new Set([...criteria.subjects, ...subjects.map((item) => item.value)])].map((subject) => {
          const count = subjects.find((item) => item.value === subject)?.count;
          return html`<li key=${subject}>
            <label class="check">
              <input type="checkbox" checked=${criteria.subjects.includes(subject)} onChange=${() => toggleSubject(subject)} />
              ${subject} ${count !== undefined && html`<span class="count">(${formatNumber(count)})</span>`}
            </label>
          </li>`;
        })}
      </ul>
    </fieldset>`}
  </details>`;
}

/** One language of the filter: a link, so that moving through them (Tab) searches nothing until one is chosen
 * (radio buttons searched on every arrow key: finding A4); the chosen one is aria-current. Words typed in the
 * box but not searched yet are searched with it (`go`), as with the other filters. */
function LanguageLink({ criteria, go, value, label, count }) {
  const chosen = criteria.language === value;
  const choose = (event) => {
    event.preventDefault();
    go({ language: value });
  };
  const target = href("/", { q: criteria.q, language: value, subject: criteria.subjects, available: criteria.available ? "1" : "" });
  return html`<a class="facet-link" href=${target} onClick=${choose} aria-current=${chosen ? "true" : undefined}>
    ${label}${count !== undefined && html` <span class="count">(${formatNumber(count)})</span>`}
  </a>`;
}
