"""A deterministic, multilingual demo catalogue as CSV rows in the format of the ImportBooks stream.

Same seed, same library: titles in English, Russian, German and French built from word lists, real-looking
authors, subjects, publishers and years, valid unique ISBN-13s, and 1-4 copies per title spread over branches
(2.7 on average, so 10,000 titles give about 27,000 copies). The copies go to the branches given: a library that
lists its branches (ATHENAEUM_LIBRARY_BRANCHES) refuses a row naming another, and an import is all or nothing.
"""
# ruff: noqa: RUF001, RUF003 (the Russian word lists, and comments on them, are Cyrillic on purpose)

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from typing import Any

HEADER = "isbn,title,subtitle,authors,subjects,publisher,publication_year,language,description,copies"
BRANCHES = ("MAIN", "EAST", "WEST", "NORTH")
"""Where copies go when the library lists no branches (any code is taken then)."""
COPY_WEIGHTS = {1: 1, 2: 3, 3: 4, 4: 2}  # 2.7 copies per title on average
TITLES_PER_IMPORT = 10_000
"""A larger demo goes in several imports: 10,000 titles have at most 40,000 copies, within one import's bounds."""
# An ISBN-13 block of our own (978-5-99999-xxxx-c is as unlikely as any to meet a real book in a demo).
ISBN_BLOCK = 978_599_900_000

RU_SURNAMES = ["Соколов", "Воронцов", "Лебедев", "Орлов", "Морозов", "Белов", "Крылов", "Жуков"]
LANGUAGES: dict[str, dict[str, Any]] = {
    "en": {
        "first": ["James", "Mary", "Oliver", "Emma", "Henry", "Alice", "George", "Ruth", "Arthur", "Clara"],
        "last": ["Whitfield", "Harrow", "Ashby", "Carver", "Lindqvist", "Moreland", "Pike", "Sutton", "Vance"],
        "adjectives": ["Silent", "Hidden", "Last", "Golden", "Broken", "Northern", "Forgotten", "Crimson", "Quiet"],
        "nouns": ["River", "Garden", "Kingdom", "Letter", "Harbour", "Winter", "Orchard", "Lighthouse", "Archive"],
        "patterns": ["The {adj} {noun}", "{noun} of the {adj} {noun2}", "A {noun} in {noun2}", "The {noun} Keeper"],
        "subjects": ["Fiction", "History", "Science", "Poetry", "Travel", "Biography", "Mystery", "Philosophy"],
        "publishers": ["Penguin Books", "Harbour Press", "Oakleaf", "Northgate Publishing"],
        "blurb": "A {adj} story about a {noun} and the people who remember it.",
    },
    "ru": {
        "first": ["Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Михаил", "Татьяна", "Пётр"],
        "women": ["Анна", "Мария", "Ольга", "Елена", "Татьяна"],
        "last": RU_SURNAMES,  # a man's; a woman's is its feminine form (Соколов, Соколова)
        "feminine_last": {name: name + "а" for name in RU_SURNAMES},
        "adjectives": ["Тихий", "Последний", "Северный", "Забытый", "Золотой", "Старый", "Белый", "Дальний"],
        "nouns": ["сад", "берег", "город", "дом", "лес", "архив", "маяк", "остров", "путь"],
        "patterns": ["{adj} {noun}", "{adj} {noun} и {noun2}", "Дорога {through}", "Письма {out_of}"],
        # Whole phrases: the case and the preposition go with the noun (из сада, but с берега, с пути).
        "phrases": {
            "out_of": ["из сада", "с берега", "из города", "из дома", "из леса", "из архива", "с маяка", "с острова"],
            "through": ["через лес", "через город", "через сад", "через остров", "через реку", "через поле"],
        },
        "subjects": ["Художественная литература", "История", "Наука", "Поэзия", "Путешествия", "Философия"],
        "publishers": ["Азбука", "Эксмо", "Наука", "Художественная литература"],
        "blurb": "{adj} рассказ о том, как {noun} меняет судьбы людей.",
    },
    "de": {
        "first": ["Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Sophie"],
        "last": ["Becker", "Hoffmann", "Schulz", "Wagner", "Krüger", "Neumann"],
        "adjectives": ["Stille", "Letzte", "Goldene", "Vergessene", "Dunkle"],
        "nouns": ["Garten", "Fluss", "Brief", "Winter", "Hafen", "Wald"],
        "patterns": ["Der {adj} {noun}", "{noun} und {noun2}", "Im {noun}"],
        "subjects": ["Roman", "Geschichte", "Wissenschaft", "Lyrik"],
        "publishers": ["Suhrkamp", "Rowohlt", "Hanser"],
        "blurb": "Eine {adj} Geschichte über {noun} und Erinnerung.",
    },
    "fr": {
        "first": ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Jules"],
        "last": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard"],
        "adjectives": ["Dernier", "Grand", "Petit", "Silencieux", "Vieux"],
        "nouns": ["jardin", "fleuve", "hiver", "port", "phare", "voyage"],
        "patterns": ["Le {adj} {noun}", "Un {noun} en {noun2}", "Les {noun}s du {noun2}"],
        "subjects": ["Roman", "Histoire", "Sciences", "Poésie"],
        "publishers": ["Gallimard", "Flammarion", "Le Seuil"],
        "blurb": "Une histoire {adj} autour d'un {noun}.",
    },
}
LANGUAGE_WEIGHTS = {"en": 45, "ru": 35, "de": 10, "fr": 10}
CLASSICS = [  # real books, so the demo also answers the searches a newcomer tries first
    ("9780140449136", "Crime and Punishment", "Fyodor Dostoevsky", "Fiction;Classics", "en", 1866),
    ("9785170906307", "Преступление и наказание", "Фёдор Достоевский", "Роман;Классика", "ru", 1866),
    ("9785389062115", "Война и мир", "Лев Толстой", "Роман;Классика", "ru", 1869),
    ("9780199232765", "War and Peace", "Leo Tolstoy", "Fiction;Classics", "en", 1869),
    ("9785170878949", "Мастер и Маргарита", "Михаил Булгаков", "Роман;Классика", "ru", 1967),
    ("9780141439518", "Pride and Prejudice", "Jane Austen", "Fiction;Classics", "en", 1813),
]


def isbn13(number: int) -> str:
    """A valid ISBN-13 for a 12-digit body."""
    body = f"{number:012d}"
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _copies(rng: random.Random, branches: tuple[str, ...]) -> str:
    count = rng.choices(list(COPY_WEIGHTS), weights=list(COPY_WEIGHTS.values()))[0]
    per_branch: dict[str, int] = {}
    for _ in range(count):
        branch = rng.choice(branches)
        per_branch[branch] = per_branch.get(branch, 0) + 1
    return ";".join(f"{branch}:{n}" for branch, n in per_branch.items())


def _title(rng: random.Random, words: dict[str, Any]) -> str:
    pattern = rng.choice(words["patterns"])
    values = {key: rng.choice(words[source]) for key, source in (("adj", "adjectives"), ("noun", "nouns"))}
    values["noun2"] = rng.choice(words["nouns"])
    for key, phrases in words.get("phrases", {}).items():
        if "{" + key + "}" in pattern:
            values[key] = rng.choice(phrases)
    return str(pattern.format(**values))


def _author(rng: random.Random, words: dict[str, Any]) -> str:
    """A first name and a surname, the surname in the first name's gender where the language has two."""
    first, last = rng.choice(words["first"]), rng.choice(words["last"])
    if first in words.get("women", ()):
        last = words.get("feminine_last", {}).get(last, last)
    return f"{first} {last}"


def _record(rng: random.Random, number: int, branches: tuple[str, ...]) -> list[object]:
    language = rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]
    words = LANGUAGES[language]
    authors = [_author(rng, words) for _ in range(rng.choice((1, 1, 1, 2)))]
    subjects = rng.sample(words["subjects"], k=rng.choice((1, 2, 2, 3)))
    title = _title(rng, words)
    blurb = words["blurb"].format(adj=rng.choice(words["adjectives"]).lower(), noun=rng.choice(words["nouns"]))
    subtitle = f"Vol. {rng.randint(2, 5)}" if rng.random() < 0.08 else ""
    return [
        isbn13(ISBN_BLOCK + number),
        title,
        subtitle,
        ";".join(dict.fromkeys(authors)),
        ";".join(subjects),
        rng.choice(words["publishers"]),
        rng.randint(1850, 2025),
        language,
        blurb,
        _copies(rng, branches),
    ]


def rows(titles: int, *, seed: int = 42, branches: tuple[str, ...] = BRANCHES) -> Iterator[str]:
    """`titles` CSV data rows (no header), the same for the same seed and branches; copies only at `branches`."""
    if not branches:
        raise ValueError("the demo needs at least one branch to put copies at")
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")
    for number in range(titles):
        if number < len(CLASSICS):
            isbn, title, author, subjects, language, year = CLASSICS[number]
            record: list[object] = [isbn, title, "", author, subjects, "", year, language, "", _copies(rng, branches)]
        else:
            record = _record(rng, number, branches)
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(record)
        yield buffer.getvalue()
