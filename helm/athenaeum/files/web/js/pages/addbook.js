// Cataloguing for staff: add a book, then its copies (one barcode each, at a branch).
import { useState } from "preact/hooks";
import { api, idOf } from "../api.js";
import { html } from "../html.js";
import { ItemTypeSelect } from "../item_types.js";
import { fieldText, t } from "../i18n.js";
import { ErrorNotice, Field, Notice, useAction, useTitle } from "../components.js";
import { SaidNotice, focusLater } from "../a11y.js";

const EMPTY_BOOK = { title: "", authors: "", isbn: "", language: "", subjects: "", publisher: "", publication_year: "", description: "" };
const EMPTY_COPY = { barcode: "", branch: "main", shelf_location: "", item_type: "BOOK" };

// Authors are written "Surname, Name" in catalogues: only a semicolon separates two of them.
const list = (text, separator = /[;,]/) => text.split(separator).map((item) => item.trim()).filter(Boolean);

export function AddBookPage() {
  const [form, setForm] = useState(EMPTY_BOOK);
  const [book, setBook] = useState(null);
  const [error, setError] = useState(null);
  const creating = useAction();
  useTitle(t("addbook.title"));
  const set = (field) => (value) => setForm({ ...form, [field]: value });
  const bad = (field) => fieldText(error, field, `book.${field}`);

  async function create(event) {
    event.preventDefault();
    setError(null);
    try {
      const body = {
        ...form,
        authors: list(form.authors, ";"),
        subjects: list(form.subjects),
        publication_year: Number(form.publication_year) || 0,
      };
      const created = await creating.run(body, (request_id) => api("/v1/books", { method: "POST", body, query: { request_id } }));
      // The form gives way to the copies' form: the focus goes to its barcode field (the next thing to scan).
      if (created) (setBook(created), focusLater("copy-barcode"));
    } catch (failure) {
      setError(failure);
    }
  }

  if (book) return html`<${AddCopies} book=${book} onAnother=${() => (setBook(null), setForm(EMPTY_BOOK))} />`;
  return html`<h1 tabindex="-1">${t("addbook.title")}</h1>
    <form class="card" onSubmit=${create}>
      <${ErrorNotice} error=${error} />
      <div class="form-grid">
        <${Field} id="book-title" label=${t("addbook.book_title")} value=${form.title} onInput=${set("title")} required error=${bad("title")} />
        <${Field} id="book-authors" label=${t("book.authors")} hint=${t("addbook.authors_hint")} value=${form.authors} onInput=${set("authors")} />
        <${Field} id="book-isbn" label="ISBN" value=${form.isbn} onInput=${set("isbn")} error=${bad("isbn")} />
        <${Field} id="book-language" label=${t("book.language")} hint=${t("addbook.language_hint")} value=${form.language} onInput=${set("language")} />
        <${Field} id="book-subjects" label=${t("book.subjects")} hint=${t("addbook.list_hint")} value=${form.subjects} onInput=${set("subjects")} />
        <${Field} id="book-publisher" label=${t("book.publisher")} value=${form.publisher} onInput=${set("publisher")} />
        <${Field} id="book-year" label=${t("book.year")} type="number" value=${form.publication_year} onInput=${set("publication_year")} />
      </div>
      <div class="field">
        <label for="book-description">${t("addbook.description")}</label>
        <textarea id="book-description" rows="4" value=${form.description} onInput=${(event) => set("description")(event.currentTarget.value)}></textarea>
      </div>
      <button class="button" type="submit" aria-disabled=${creating.busy ? "true" : undefined}>${t("addbook.create")}</button>
    </form>`;
}

function AddCopies({ book, onAnother }) {
  const [form, setForm] = useState(EMPTY_COPY);
  const [copies, setCopies] = useState([]);
  const [said, setSaid] = useState("");
  const [error, setError] = useState(null);
  const adding = useAction();
  const set = (field) => (value) => setForm({ ...form, [field]: value });

  async function add(event) {
    event.preventDefault();
    setError(null);
    setSaid("");
    try {
      const body = form;
      const copy = await adding.run({ book: book.name, ...body }, (request_id) =>
        api(`/v1/${book.name}/copies`, { method: "POST", body, query: { request_id } }),
      );
      if (!copy) return;
      setCopies([...copies, copy]);
      // Said through the app's polite line, there from the start (finding A13: a copy taken was announced by nothing).
      setSaid(t("addbook.copy_added", { barcode: copy.barcode, branch: copy.branch, count: copies.length + 1 }));
      setForm({ ...form, barcode: "" });
    } catch (failure) {
      setError(failure);
    }
  }

  return html`<h1 tabindex="-1">${t("addbook.copies_title", { title: book.title })}</h1>
    <${Notice}>${t("addbook.created")} <a href=${`#/books/${idOf(book.name)}`}>${book.title}</a><//>
    <${SaidNotice} text=${said} testid="copy-added" />
    <form class="card" onSubmit=${add}>
      <${ErrorNotice} error=${error} />
      <div class="form-grid">
        <${Field} id="copy-barcode" label=${t("desk.barcode")} value=${form.barcode} onInput=${set("barcode")} required autocomplete="off" />
        <${Field} id="copy-branch" label=${t("book.branch")} value=${form.branch} onInput=${set("branch")} />
        <${Field} id="copy-shelf" label=${t("addbook.shelf")} value=${form.shelf_location} onInput=${set("shelf_location")} />
        <${ItemTypeSelect} id="copy-type" value=${form.item_type} onInput=${set("item_type")} error=${fieldText(error, "copy.item_type")} />
      </div>
      <div class="actions">
        <button class="button" type="submit" aria-disabled=${adding.busy ? "true" : undefined}>${t("addbook.add_copy")}</button>
        <button class="button quiet" type="button" onClick=${onAnother}>${t("addbook.another")}</button>
      </div>
    </form>
    ${copies.length > 0 &&
    html`<h2>${t("addbook.added_copies")}</h2>
      <ul>${copies.map((copy) => html`<li key=${copy.name}>${copy.barcode} — ${copy.branch}</li>`)}</ul>`}`;
}
