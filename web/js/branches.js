// Branch codes as staff type them: the server compares them trimmed and in any letter case ("east" is EAST), so
// the pages that filter by branch compare and show them so too.

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
