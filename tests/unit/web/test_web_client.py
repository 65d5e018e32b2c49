"""The web client's files, without a browser: vendored modules are npm's bytes, every import resolves to a
file the edge serves, and both languages say everything the pages ask for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.support.devtools import webvendor
from services.support.mesh.envoy_web import WEB_SOURCE, web_files

JS_FILES = sorted((WEB_SOURCE / "js").rglob("*.js"))
LANGUAGES = ("en", "ru")
# Keys built at run time from an API enum or an error: t(`reason.${…}`) and the like.
DYNAMIC_PREFIXES = (
    "reason.",
    "code.",
    "copy_status.",
    "fine_kind.",
    "fine_status.",
    "user_status.",
    "hold_status.",
    "channel.",
    "role.",
    "rules.",
    "fines.status_filter.",  # the fines page's status filter, by the status each option names
    "event_type.",  # the audit trail's event types, by the type each event names
    "audit.category.",
    "account.restricted.",
)
PLURAL_FORMS = {"en": {"one", "other"}, "ru": {"one", "few", "many", "other"}}


def dictionary(language: str) -> dict[str, str]:
    text = (WEB_SOURCE / "i18n" / f"{language}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$', text, re.MULTILINE))


def keys_used() -> tuple[set[str], set[str]]:
    """Literal keys of t("…") (and tParts("…")) and the base keys of tn("…", n) in the pages."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in JS_FILES)
    return set(re.findall(r'\bt(?:Parts)?\("([\w.]+)"', source)), set(re.findall(r'\btn\("([\w.]+)"', source))


def test_vendored_modules_are_the_pinned_npm_files_byte_for_byte() -> None:
    assert webvendor.mismatches() == [], "run: python -m services.support.devtools.webvendor"


def test_the_manifest_pins_exact_versions_and_integrity() -> None:
    for package in webvendor.load_manifest():
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version), package
        assert package.integrity.startswith("sha512-"), package


def test_the_import_map_names_exactly_the_vendored_modules() -> None:
    index = (WEB_SOURCE / "index.html").read_text(encoding="utf-8")
    (raw,) = re.findall(r'<script type="importmap">(.*?)</script>', index, re.DOTALL)
    imports = json.loads(raw)["imports"]
    vendored = {
        f"/vendor/{file.target}" for p in webvendor.load_manifest() for file in p.files if file.target.endswith(".mjs")
    }
    assert set(imports.values()) == vendored
    served = {f"/{path}" for path in web_files()}
    assert vendored <= served


@pytest.mark.parametrize("path", JS_FILES, ids=lambda path: str(path.relative_to(WEB_SOURCE)))
def test_every_relative_import_is_a_file_the_edge_serves(path: Path) -> None:
    served = set(web_files())
    imports = re.findall(r'from "(\.{1,2}/[^"]+)"', path.read_text(encoding="utf-8"))
    for target in imports:
        relative = (path.parent / target).resolve().relative_to(WEB_SOURCE.resolve()).as_posix()
        assert relative in served, f"{path.name} imports {target}, which the edge does not serve"


def test_bare_imports_are_only_the_ones_the_import_map_resolves() -> None:
    bare = {name for path in JS_FILES for name in re.findall(r'from "([^./][^"]*)"', path.read_text(encoding="utf-8"))}
    assert bare <= {"preact", "preact/hooks", "htm"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_a_page_asks_for_is_translated(language: str) -> None:
    words = dictionary(language)
    plain, counted = keys_used()
    missing = {key for key in plain if key not in words}
    missing |= {f"{key}.{form}" for key in counted for form in PLURAL_FORMS[language] if f"{key}.{form}" not in words}
    assert missing == set()


def test_both_languages_have_the_same_keys_apart_from_plural_forms() -> None:
    def singular(keys: set[str]) -> set[str]:
        return {re.sub(r"\.(one|few|many|other)$", "", key) for key in keys}

    english, russian = (set(dictionary(language)) for language in LANGUAGES)
    assert singular(english) == singular(russian)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_across_languages(language: str) -> None:
    english, other = dictionary("en"), dictionary(language)
    for key, text in other.items():
        base = re.sub(r"\.(one|few|many|other)$", ".other", key)
        reference = english.get(key) or english.get(base, "")
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", reference)), key


def test_a_russian_sentence_ending_in_a_date_adds_no_full_stop_after_it() -> None:
    """A Russian date ends in «г.» (13 дек. 2026 г.): «…до {date}.» read «…до 13 дек. 2026 г..»."""  # noqa: RUF002
    assert {key: text for key, text in dictionary("ru").items() if "{date}." in text} == {}


def test_every_dictionary_key_is_used_by_a_page() -> None:
    plain, counted = keys_used()
    unused = {
        key
        for key in dictionary("en")
        if key not in plain
        and re.sub(r"\.(one|other)$", "", key) not in counted
        and not key.startswith(DYNAMIC_PREFIXES)
    }
    assert unused == set()


def test_the_refusal_reasons_the_desk_meets_are_said_in_plain_words() -> None:
    for language in LANGUAGES:
        words = dictionary(language)
        for reason in (
            "LOAN_LIMIT_REACHED",
            "NOT_FOR_LOAN",
            "FINES_LIMIT_EXCEEDED",
            "COPY_NOT_AVAILABLE",
            "PATRON_NOT_ELIGIBLE",
            "TOO_MANY_OVERDUE_LOANS",
            "COPY_HELD_FOR_ANOTHER_HOLD",
            "BARCODE_NOT_FOUND",
            "COPY_NOT_ON_LOAN",
            "COPY_NOT_HELD",  # receiving a copy for a hold
            "HARD_DUE_DATE_PASSED",
            "ACCOUNT_DEACTIVATED",  # said at sign-in
            "ACCOUNT_RESTRICTED",  # a blocked or expired reader trying to change something
            "ACCOUNT_HAS_LOANS",  # closing an account
            "ACCOUNT_HAS_FINES",
            "LOANS_UNAVAILABLE",
            "LAST_ADMIN",
        ):
            assert f"reason.{reason}" in words, (language, reason)


def test_no_page_writes_tokens_to_web_storage() -> None:
    for path in JS_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "localStorage.setItem" in line or "sessionStorage.setItem" in line:
                assert "token" not in line.lower(), f"{path.name}: {line.strip()}"
