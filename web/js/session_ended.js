// An action refused because the session ended under it (expired, signed out in another window, a new password
// set, the account blocked): on a public page (a book) the page stays, and only the control's own panel said
// "Sign in to …", so the reader could not tell the hold had not been placed (finding P4). Said here in words,
// at once through the app's assertive line, with the way to sign in and come back to the same page.
import { useEffect } from "preact/hooks";
import { html } from "./html.js";
import { announce, useFocusIfLost } from "./a11y.js";
import { t } from "./i18n.js";
import { session } from "./session.js";

const NOTICE = "session-ended-notice";

/** Whether `error` is the refusal of a call whose session ended meanwhile: 401, and signed out now (api()
 * tried to renew the session first, and the refusal of that renewal signed the page out). */
export function endedUnder(error) {
  return error?.status === 401 && !session.user;
}

/** In place of the panel whose action was not done: `text` says what was not done; Sign in comes back here. */
export function SessionEndedNotice({ text }) {
  useEffect(() => announce(`${t("auth.session_ended_title")}. ${text}`, { alert: true }), []);
  useFocusIfLost(NOTICE); // the button pressed is gone with the form
  const next = encodeURIComponent(location.hash.slice(1));
  return html`<div class="notice error" id=${NOTICE} tabindex="-1" data-testid=${NOTICE}>
    <strong>${t("auth.session_ended_title")}</strong>
    <p>${text}</p>
    <a class="button" href=${`#/signin?next=${next}`}>${t("nav.sign_in")}</a>
  </div>`;
}
