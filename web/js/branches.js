// Branch codes as staff type them: the server compares them trimmed and in any letter case ("east" is EAST), so
// the pages that filter by branch compare and show them so too.

import { api } from "./api.js";
import { useAsync } from "./components.js";

/** Whether two branch codes name the same branch. */
export function sameBranch(a, b) {
  return (a || "").trim().toLowerCase() === (b || "").trim().toLowerCase();
}

/** The branches among `codes`, each once, sorted, spelt as first given (give the librarian's own branch first,
 * so a hold typed "east" shows as the EAST the rest of the page uses); and `spelt(code)`, any code so spelt. */
export function branchChoices(codes, collator) {
  const spelling = new Map();
  for (const code of codes.map((code) => (code || "").trim()).filter(Boolean)) {
    if (!spelling.has(code.toLowerCase())) spelling.set(code.toLowerCase(), code);
  }
  const spelt = (code) => spelling.get((code || "").trim().toLowerCase()) || code;
  return { list: [...spelling.values()].sort(collator.compare), spelt };
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

/** The branches the library's holds name, for the lists' branch choices: those of the holds set aside (in
 * transit, on hold shelves; up to a thousand of each), asked once per page load and kept. The lists themselves
 * are filtered by branch at the server, so their own rows name only the branch shown: without these, a
 * librarian could not choose another. (The library's own list of branches is a setting the services read, not
 * yet one the web can ask for.) */
export function useBranchesInUse() {
  const found = useAsync(() => {
    seen ??= Promise.all(["HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_READY"].map(branchesOfHolds)).then(
      (lists) => lists.flat(),
      () => {
        seen = null; // asked again on the next page: a refusal is not kept
        return [];
      },
    );
    return seen;
  }, []);
  return found.data || [];
}
