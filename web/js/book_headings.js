// The headings of the books a list names (holds, loans, the hold shelf, the pull list): each title in its own
// language, carried by the item or asked of the catalogue.
import { api } from "./api.js";
import { langOf, titleLangOf } from "./a11y.js";
import { t } from "./i18n.js";
import { useAsync } from "./components.js";

/** Titles of the books named by `items[].book`, by book name, and the `lang` of each (`langs`): the title an item
 * carries (`book_title` with `book_language`: holds and loans keep them), else asked of the catalog, once a book
 * (holds placed before they kept it). */
export function useBookHeadings(items, { askAll = false } = {}) {
  // The title a hold keeps (staff lists: nothing asked per row), else the catalogue's. `askAll` asks for every
  // book all the same (a reader's own few holds): one deleted since says so rather than its old title.
  const carried = (items || []).filter((item) => item.book_title);
  const kept = Object.fromEntries(carried.map((item) => [item.book, { title: item.book_title, lang: titleLangOf(item) }]));
  const names = [...new Set((items || []).filter((item) => askAll || !kept[item.book]).map((item) => item.book))].sort();
  const asked = useAsync(async () => {
    // A book deleted from the catalogue (404), or one the catalogue cannot answer for now, still gets a
    // heading: it read "Loading…" for ever. Such words are the page's, in its language.
    const untitled = (name) => (failure) =>
      failure?.status !== 404 && kept[name]
        ? { name, ...kept[name] }
        : { name, title: failure?.status === 404 ? t("holds.book_removed") : t("holds.title_unavailable") };
    const described = (book) => ({ name: book.name, title: book.title, lang: langOf(book) });
    const books = await Promise.all(names.map((name) => api(`/v1/${name}`, { auth: false }).then(described, untitled(name))));
    return Object.fromEntries(books.map(({ name, ...heading }) => [name, heading]));
  }, [names.join(",")]);
  const headings = askAll ? { ...kept, ...asked.data } : { ...asked.data, ...kept };
  const pick = (key) => Object.fromEntries(Object.entries(headings).map(([name, heading]) => [name, heading[key]]));
  return { titles: pick("title"), langs: pick("lang") };
}
