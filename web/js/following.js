// Following authors: a reader follows an author (on a book's page, or by name on the account page) and is
// told when the library adds a book by them; the account page lists whom they follow, with "Unfollow".
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html } from "./html.js";
import { announce, focusLater } from "./a11y.js";
import { t } from "./i18n.js";
import { session } from "./session.js";
import { ErrorNotice, Field, Loading, Notice, useAction, useAsync } from "./components.js";
import { fetchAll } from "./paging.js";
import { SessionEndedNotice, endedUnder } from "./session_ended.js";

/** The same key the notifications service matches by: case, "ё", punctuation and word order do not count. */
export function authorKey(name) {
  const folded = name.normalize("NFKC").toLocaleLowerCase().replaceAll("ё", "е");
  return folded.replace(/[^\p{L}\p{N}]+/gu, " ").trim().split(/\s+/).filter(Boolean).sort().join(" ");
}

function useFollows(patron) {
  return useAsync(
    () => (patron ? fetchAll(`/v1/${patron}/followedAuthors`, { field: "followed_authors" }) : Promise.resolve([])),
    [patron],
  );
}

function useFollowing(patron, follows) {
  const acting = useAction();
  const [error, setError] = useState(null);
  async function follow(author) {
    setError(null);
    try {
      const made = await acting.run({ follow: author }, (request_id) =>
        api(`/v1/${patron}/followedAuthors`, { method: "POST", body: { author }, query: { request_id } }),
      );
      if (made) {
        follows.reload();
        announce(t("follow.added", { author }));
      }
      return Boolean(made);
    } catch (failure) {
      if (failure.reason === "ALREADY_FOLLOWING") follows.reload(); // followed in another tab: show it so
      setError(failure);
      return false;
    }
  }
  async function unfollow(followed) {
    setError(null);
    try {
      const done = await acting.run({ unfollow: followed.name }, () => api(`/v1/${followed.name}`, { method: "DELETE" }));
      follows.reload();
      if (done === undefined) return false; // a second press while the first is on its way
      announce(t("follow.removed", { author: followed.author }));
      return true;
    } catch (failure) {
      if (failure.status === 404) follows.reload();
      else setError(failure);
      return failure.status === 404; // gone already: its item leaves the list all the same
    }
  }
  return { follow, unfollow, error, busy: acting.busy };
}

/** On a book's page: "Follow <author>" or "Following" for each of its authors, for a signed-in reader. One
 * button per author whatever the state, only its words changing, so that the focus stays on it (finding A16:
 * the button pressed was replaced by another, or disabled, and the focus fell to <body>); the result is said. */
export function FollowAuthors({ authors }) {
  const patron = session.user?.name;
  const follows = useFollows(patron);
  const { follow, unfollow, error, busy } = useFollowing(patron, follows);
  if (!patron && endedUnder(error)) return html`<${SessionEndedNotice} text=${t("follow.not_done_session_ended")} />`;
  if (!patron || !authors?.length || session.isRestricted()) return null;
  const byKey = new Map((follows.data || []).map((followed) => [authorKey(followed.author), followed]));
  return html`<div class="card" data-testid="follow-authors">
    <p class="muted">${t("follow.book_hint")}</p>
    ${authors.map((author) => {
      const followed = byKey.get(authorKey(author));
      const waiting = busy || follows.loading;
      const toggle = () => !waiting && (followed ? unfollow(followed) : follow(author));
      return html`<p key=${author} class="follow-line">
        ${followed ? html`<span data-testid="following">${t("follow.following", { author })}</span>` : null}
        <button type="button" class=${followed ? "button small quiet" : "button small"} onClick=${toggle}
          aria-disabled=${waiting ? "true" : undefined} aria-label=${followed ? t("follow.unfollow_named", { author }) : undefined}>
          ${followed ? t("follow.unfollow") : t("follow.follow", { author })}
        </button>
      </p>`;
    })}
    <${ErrorNotice} error=${error || follows.error} />
  </div>`;
}

/** On the account page: the authors the reader follows, "Unfollow", and a field to follow one by name. */
export function FollowedAuthors({ patron }) {
  const follows = useFollows(patron);
  const { follow, unfollow, error, busy } = useFollowing(patron, follows);
  const [name, setName] = useState("");
  const [added, setAdded] = useState("");
  // A later action replaces the notice of the last (finding D4: "You now follow X" stayed after unfollowing X).
  // The author's item (and the button pressed) leaves the list: the focus stays in the section (finding A16).
  const stopFollowing = async (followed) => {
    if (busy) return;
    setAdded("");
    if (await unfollow(followed)) focusLater("follows-heading");
  };
  async function add(event) {
    event.preventDefault();
    setAdded("");
    const author = name.trim();
    if (author && (await follow(author))) {
      setAdded(author);
      setName("");
    }
  }
  const list = follows.data || [];
  return html`<section aria-labelledby="follows-heading" data-testid="followed-authors">
    <h2 id="follows-heading">${t("follow.heading")}</h2>
    <p class="muted">${t("follow.hint")}</p>
    ${follows.loading && !follows.data && html`<${Loading} />`}
    ${follows.data && !list.length && html`<p>${t("follow.none")}</p>`}
    <ul class="results">
      ${list.map(
        (followed) => html`<li class="result" key=${followed.name}>
          <strong>${followed.author}</strong>
          <button type="button" class="button small quiet" aria-disabled=${busy ? "true" : undefined} onClick=${() => stopFollowing(followed)}
            aria-label=${t("follow.unfollow_named", { author: followed.author })}>${t("follow.unfollow")}</button>
        </li>`,
      )}
    </ul>
    ${!session.isRestricted() &&
    html`<form class="card form-narrow" onSubmit=${add}>
      <${Field} id="follow-author" label=${t("follow.author")} hint=${t("follow.author_hint")} value=${name}
        onInput=${setName} maxlength="200" required />
      ${added && html`<${Notice}>${t("follow.added", { author: added })}<//>`}
      <${ErrorNotice} error=${error || follows.error} />
      <button class="button" type="submit" aria-disabled=${busy ? "true" : undefined}>${t("follow.submit")}</button>
    </form>`}
  </section>`;
}
