"""Which fields of an account an update mask may name, who may write them, and how a mask applies to a
profile (AIP-134's update_mask; AIP-161's paths into the preferences' map). Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from services.support.runtime.identity import Role
from services.users.domain.profile import Profile

OUTPUT_ONLY_FIELDS = frozenset({"name", "card_number", "create_time", "update_time", "etag"})
READER_FIELDS = frozenset(
    {"email", "display_name", "phone", "notification_preferences", "home_branch", "locale", "time_zone"}
)
PREFERENCES = "notification_preferences"
# A mask may name the preferences whole or one part of them ("notification_preferences.sms_opt_in"), or one
# kind's choice ("notification_preferences.kinds.hold_ready", AIP-161's path into a map with string keys).
PREFERENCE_PARTS = {"email_opt_in": ("email_opt_in",), "sms_opt_in": ("sms_opt_in",), "kinds": ("kind_choices",)}
KINDS = f"{PREFERENCES}.kinds."
LIBRARIAN_FIELDS = READER_FIELDS | {"patron_category", "status", "status_reason", "expire_time"}
ADMIN_FIELDS = LIBRARIAN_FIELDS | {"role"}
WRITABLE_BY = {Role.READER: READER_FIELDS, Role.LIBRARIAN: LIBRARIAN_FIELDS, Role.ADMIN: ADMIN_FIELDS}


def known_path(path: str) -> bool:
    field, _, part = path.partition(".")
    if path.startswith(KINDS):
        return bool(path.removeprefix(KINDS))  # which kinds: kind_choices_violation
    if part:
        return field == PREFERENCES and part in PREFERENCE_PARTS
    return field in ADMIN_FIELDS or field in OUTPUT_ONLY_FIELDS


def profile_fields(mask: frozenset[str]) -> list[str]:
    renamed = {"expire_time": "expire_at"}
    fields: list[str] = []
    for path in mask:
        field, _, part = path.partition(".")
        if path.startswith(KINDS):
            continue  # one kind's choice: with_kind_choices
        if field == PREFERENCES:
            parts = [part] if part else list(PREFERENCE_PARTS)
            fields += [name for each in parts for name in PREFERENCE_PARTS[each]]
        else:
            fields.append(renamed.get(field, field))
    return fields


def named_kinds(mask: frozenset[str]) -> set[str]:
    return {path.removeprefix(KINDS) for path in mask if path.startswith(KINDS)}


def with_kind_choices(profile: Profile, changes: Profile, *, kinds: Collection[str]) -> Profile:
    """`profile` whose choices for `kinds` are those of `changes` (a kind `changes` lacks loses its choice);
    the other kinds keep theirs."""
    kept = [choice for choice in profile.kind_choices if choice.kind not in kinds]
    taken = [choice for choice in changes.kind_choices if choice.kind in kinds]
    if len(kept) == len(profile.kind_choices) and not taken:
        return profile
    return replace(profile, kind_choices=tuple(kept + taken))
