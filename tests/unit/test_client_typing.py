"""The Python client's README pattern is typed: mypy --strict sees the item type `pages` / `apages` yield, and
refuses a method that is not paged or a request of another method (they were `Iterator[Any]` and took any
pair). Checked as a user of the installed package sees it: the package's own modules are not reported."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SOURCE = ROOT / "clients/python/src"

EXAMPLE = """
from athenaeum_client import AsyncClient, Cancelled, Client, apages, catalog, loans, pages

with Client("127.0.0.1:8380") as client:
    for book in pages(client.catalog.list_books, catalog.ListBooksRequest(page_size=5)):
        reveal_type(book)
        print(book.titel)  # line 6: a typo
        n: int = book.title  # line 7: a str
    pages(client.catalog.get_book, catalog.GetBookRequest(name="books/x"))  # line 8: not paged
    pages(client.catalog.list_books, catalog.ListCopiesRequest())  # line 9: another method's request
    for anything in pages(client.catalog.list_books, catalog.ListBooksRequest(), field="books"):
        reveal_type(anything)


async def main() -> None:
    async with AsyncClient("127.0.0.1:8380") as aclient:
        async for loan in apages(aclient.loans.list_loans, loans.ListLoansRequest(parent="users/me")):
            reveal_type(loan)


print(Cancelled)
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[str]]:
    folder = tmp_path_factory.mktemp("client-typing")
    (folder / "example.py").write_text(textwrap.dedent(EXAMPLE).lstrip("\n"))
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent"]
    command += ["--config-file", os.devnull, "--cache-dir", str(folder / ".mypy_cache"), "example.py"]
    environment = {**os.environ, "MYPYPATH": str(CLIENT_SOURCE)}
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=environment, check=False)
    by_line: dict[int, list[str]] = {}
    for match in re.finditer(r"^example\.py:(\d+): (error|note): (.*)$", result.stdout, re.MULTILINE):
        if not match[3].startswith("    "):  # the listing of overloads under an error
            by_line.setdefault(int(match[1]), []).append(match[3])
    return by_line


def test_the_items_have_the_type_of_the_responses_list(mypy_output: dict[int, list[str]]) -> None:
    assert mypy_output[5] == ['Revealed type is "athenaeum_client.generated.athenaeum.catalog.v1.Book"']
    assert mypy_output[17] == ['Revealed type is "athenaeum_client.generated.athenaeum.loans.v1.Loan"']
    assert mypy_output[11] == ['Revealed type is "Any"']  # with field=, any list of the response


def test_mistakes_in_the_readme_pattern_are_type_errors(mypy_output: dict[int, list[str]]) -> None:
    assert any('"Book" has no attribute "titel"' in line for line in mypy_output[6])
    assert any("Incompatible types in assignment" in line for line in mypy_output[7])
    assert any('No overload variant of "pages"' in line for line in mypy_output[8])
    assert any("ListCopiesRequest" in line for line in mypy_output[9])


def test_nothing_else_is_reported(mypy_output: dict[int, list[str]]) -> None:
    """`Cancelled` is exported like the other ApiError subclasses; the rest of the example is clean."""
    assert set(mypy_output) == {5, 6, 7, 8, 9, 11, 17}, mypy_output
