// Branch codes as staff type them: the server compares them trimmed and in any letter case ("east" is EAST), so
// the pages that filter by branch compare and show them so too.

import { api } from "./api.js";
import { useAsync } from "./components.js";

/** Whether two branch codes name the same branch. */
export function sameBranch(a, b) {
  return (a || "").trim().toLowerCase() === (b || "").trim().toLowerCase();
}

/** The branches among `codes`, each once, spelt as first given (give the librarian's own branch first, so a hold
 * typed "east" shows as the EAST the rest of the page uses); and `spelt(code)`, any code so spelt. `library`: the
 * library's own branches when it lists them (ListLibraryBranches): they come first, in the list's order and
 * spelling, and only codes outside it are sorted after them (holds of a branch the list no longer names). */
export function branchChoices(codes, collator, library = []) {
  const key = (code) => code.toLowerCase();
  const spelling = new Map();
  for (const code of [...library, ...codes].map((code) => (code || "").trim()).filter(Boolean)) {
    if (!spelling.has(key(code))) spelling.set(key(code), code);
  }
  const spelt = (code) => spelling.get(key((code || "").trim())) || code;
  const listed = [...new Set(library.map(spelt))];
  const others = [...spelling.values()].filter((code) => !listed.includes(code)).sort(collator.compare);
  return { list: [...listed, ...others], spelt };
}

let library = null;

/** The library's branches (ListLibraryBranches, GET /v1/branches; any signed-in user may ask), asked once per
 * page load and kept: `{ listed, codes }`, the codes in the list's order; `listed` false (no codes) when the
 * library lists none, or when the answer did not come (asked again next time), and a branch is free text. */
export function libraryBranches() {
  library ??= api("/v1/branches").then(
    (data) => ({ listed: Boolean(data.listed), codes: data.branches || [] }),
    () => {
      library = null; // asked again on the next page: a refusal is not kept
      return { listed: false, codes: [] };
    },
  );
  return library;
}

/** The library's branches for a page that asks for one (a reader's pickup branch); null while asked, or when
 * nobody is signed in (`signedIn` false: the server answers only a signed-in user). */
export function useLibraryBranches(signedIn = true) {
  const found = useAsync(() => (signedIn ? libraryBranches() : Promise.resolve(null)), [signedIn]);
  return found.data;
}

let seen = null;
const MOST_PAGES_OF_HOLDS = 10;

/** The branch codes the holds of one status name (pickup, copy, hold shelf), from at most
 * MOST_PAGES_OF_HOLDS pages of them. */
async function branchesOfHolds(status) {
  const codes = [];
  let token = "";
  for (let page = 0; page < MOST_PAGES_OF_HOLDS; page += 1) {
    const data = await api("/v1/holds", { query: { status, page_size: 100, page_token: token } });
    for (const hold of data.holds || []) codes.push(hold.pickup_branch, hold.copy_branch, hold.hold_shelf_branch);
    token = data.next_page_token || "";
    if (!token) break;
  }
  return codes;
}

/** The branches for the lists' branch choices: `{ listed, codes }`. The library's own when it lists them
 * (`listed`, in the list's order); else those the library's holds name: those of the holds set aside (in
 * transit, on hold shelves; up to a thousand of each), asked once per page load and kept. The lists themselves
 * are filtered by branch at the server, so their own rows name only the branch shown: without these, a
 * librarian could not choose another. */
export function useBranchesInUse() {
  const found = useAsync(() => {
    seen ??= libraryBranches().then((library) =>
      library.listed
        ? library
        : Promise.all(["HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_READY"].map(branchesOfHolds)).then(
            (lists) => ({ listed: false, codes: lists.flat() }),
            () => {
              seen = null; // asked again on the next page: a refusal is not kept
              return { listed: false, codes: [] };
            },
          ),
    );
    return seen;
  }, []);
  return found.data || { listed: false, codes: [] };
}
