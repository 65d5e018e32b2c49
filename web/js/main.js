// The web client: catalogue for everyone, account for patrons, desk and tools for staff, admin pages.
import { clearAnnouncements, useReplacedUnder } from "./a11y.js";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { LANGUAGES, loadLanguage, t, useLanguage } from "./i18n.js";
import { href, navigate, restoreScroll, useRoute } from "./router.js";
import { session } from "./session.js";
import { deskState } from "./desk_state.js";
import { NotFound, SignInFirst } from "./components.js";
import { CataloguePage } from "./pages/catalogue.js";
import { BookPage } from "./pages/book.js";
import { ForgotPasswordPage, ResetPasswordPage } from "./pages/password_reset.js";
import { RegisterPage, SignInPage } from "./pages/signin.js";
import { AccountPage } from "./pages/account.js";
import { DeskPage } from "./pages/desk.js";
import { PatronPage, PatronsPage } from "./pages/patrons.js";
import { AddBookPage } from "./pages/addbook.js";
import { RulesPage } from "./pages/rules.js";
import { FinesPage } from "./pages/fines.js";
import { HoldShelfPage } from "./pages/holdshelf.js";
import { PullListPage } from "./pages/pulllist.js";
import { UsersPage } from "./pages/users.js";
import { DashboardPage } from "./pages/dashboard.js";
import { AuditPage } from "./pages/audit.js";
import { NewReaderPage } from "./pages/newreader.js";

const PUBLIC = "public";
const SIGNED_IN = "signed-in";
const STAFF = "staff";
const ADMIN = "admin";

// path pattern → [page, who may see it]; ":id" matches one segment.
const ROUTES = [
  ["/", CataloguePage, PUBLIC],
  ["/books/:id", BookPage, PUBLIC],
  ["/signin", SignInPage, PUBLIC],
  ["/register", RegisterPage, PUBLIC],
  ["/forgot-password", ForgotPasswordPage, PUBLIC],
  ["/reset-password", ResetPasswordPage, PUBLIC],
  ["/account", AccountPage, SIGNED_IN],
  ["/desk", DeskPage, STAFF],
  ["/patrons", PatronsPage, STAFF],
  ["/patrons/:id", PatronPage, STAFF],
  ["/patrons-new", NewReaderPage, STAFF],
  ["/audit", AuditPage, STAFF],
  ["/books-new", AddBookPage, STAFF],
  ["/rules", RulesPage, STAFF],
  ["/fines", FinesPage, STAFF],
  ["/holdshelf", HoldShelfPage, STAFF],
  ["/pulllist", PullListPage, STAFF],
  ["/users", UsersPage, ADMIN],
  ["/dashboard", DashboardPage, ADMIN],
];

function match(parts) {
  for (const [pattern, page, audience] of ROUTES) {
    const expected = pattern.split("/").filter(Boolean);
    if (expected.length !== parts.length) continue;
    const params = {};
    if (expected.every((segment, i) => (segment.startsWith(":") ? (params[segment.slice(1)] = parts[i]) : segment === parts[i]))) {
      return { page, audience, params };
    }
  }
  return null;
}

function allowed(audience) {
  if (audience === PUBLIC) return true;
  if (audience === SIGNED_IN) return Boolean(session.user);
  if (audience === STAFF) return session.isStaff();
  return session.isAdmin();
}

function useSession() {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const changed = () => setVersion((version) => version + 1);
    const unsubscribe = session.subscribe(changed);
    changed(); // the session may have changed between the first render and this subscription
    return unsubscribe;
  }, []);
  return session;
}

function Header({ route }) {
  const [lang, setLanguage] = useLanguage();
  const current = (path) => (route.path === path || route.path.startsWith(`${path}/`) ? "page" : undefined);
  const link = (path, label) => html`<a href=${href(path)} aria-current=${current(path)}>${label}</a>`;
  const user = session.user;
  async function signOut() {
    await session.signOut();
    deskState.clear(); // the next one to sign in on this PC starts with an empty desk
    navigate("/");
  }
  return html`<header class="site-header">
    <div class="bar">
      <a class="brand" href="#/"><img src="/icon.svg" alt="" />${t("app.name")}</a>
      <nav class="site-nav" aria-label=${t("nav.label")}>
        ${link("/", t("nav.catalogue"))}
        ${user && link("/account", t("nav.account"))}
        ${session.isStaff() && [
          link("/desk", t("nav.desk")),
          link("/patrons", t("nav.patrons")),
          link("/books-new", t("nav.add_book")),
          link("/rules", t("nav.rules")),
          link("/fines", t("nav.fines")),
          link("/holdshelf", t("nav.holdshelf")),
          link("/pulllist", t("nav.pulllist")),
          link("/audit", t("nav.audit")),
        ]}
        ${session.isAdmin() && [link("/users", t("nav.users")), link("/dashboard", t("nav.dashboard"))]}
      </nav>
      <div class="account-bar">
        <div class="lang-switch" role="group" aria-label=${t("nav.language")}>
          ${LANGUAGES.map(
            (code) => html`<button type="button" lang=${code} aria-pressed=${code === lang ? "true" : "false"} onClick=${() => setLanguage(code)}>
              ${code.toUpperCase()}
            </button>`,
          )}
        </div>
        ${user
          ? html`<span class="who">${user.display_name || user.email}</span>
              <button type="button" class="button quiet small" onClick=${signOut}>${t("nav.sign_out")}</button>`
          : html`<a class="button quiet small" href="#/signin">${t("nav.sign_in")}</a>`}
      </div>
    </div>
  </header>`;
}

function App() {
  const route = useRoute();
  useSession();
  useLanguage();
  const found = match(route.parts);
  // The page shown a moment ago at this very path, now refused: the session ended under it (finding A20).
  const endedUnder = useReplacedUnder(route.path, Boolean(session.ready && found && allowed(found.audience)));

  // A new page: start at the top (or, Back to a page already seen, where the reader was: restoreScroll) and
  // put the keyboard and screen-reader focus on its heading, unless the page has already put it somewhere
  // useful (the desk's barcode field).
  useEffect(() => {
    clearAnnouncements();
    restoreScroll();
    const main = document.getElementById("main");
    if (main && !main.contains(document.activeElement)) (main.querySelector("h1") || main).focus({ preventScroll: true });
  }, [route.path]);

  let content;
  if (!session.ready) content = html`<p class="loading" role="status">${t("common.loading")}</p>`;
  else if (!found) content = html`<${NotFound} />`;
  else if (!allowed(found.audience) && !session.user && session.reconnecting) content = null; // the notice says it
  else if (!allowed(found.audience)) content = html`<${SignInFirst} staff=${found.audience !== SIGNED_IN} ended=${session.ended || endedUnder} under=${endedUnder} />`;
  // Keyed by its path: another book (or patron) is a new page, with none of the last one's state (a hold
  // placed on one book showed on the next book opened).
  else content = html`<${found.page} key=${route.path} route=${route} params=${found.params} />`;

  return html`<a class="skip-link" href="#main" onClick=${skipToMain}>${t("nav.skip")}</a>
    <${Header} route=${route} />
    <main id="main" tabindex="-1">
      ${session.reconnecting && html`<div class="notice info" role="status" data-state="reconnecting">${t("auth.reconnecting")}</div>`}
      ${content}
    </main>
    <footer>${t("app.footer")}</footer>`;
}

function skipToMain(event) {
  event.preventDefault(); // the hash is the router's: move focus without navigating
  document.getElementById("main").focus();
}

await loadLanguage();
const root = document.getElementById("app");
root.replaceChildren(); // index.html's "loading" line: Preact would render beside it, not over it
render(html`<${App} />`, root);
await session.start();
