"""The writable fields of an account, and what makes them valid. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import StrEnum

from services.support.runtime.clock import end_of_local_day
from services.support.runtime.errors import FieldViolation, InvalidArgument
from services.support.runtime.identity import Role
from services.support.runtime.text import ONE_LINE_MESSAGE, is_one_line
from services.users.domain.validation import (
    category_violation,
    kind_choices_violation,
    locale_violation,
    normalize_email,
    phone_digits,
    phone_violation,
    time_zone_violation,
)

MAX_DISPLAY_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class KindChoice:
    """The channels one kind of notification may use (NotificationPreferences.kinds)."""

    kind: str
    email: bool
    sms: bool


class UserStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True, slots=True)
class Profile:
    """The fields of an account that can be written (by whom: see update_mask.WRITABLE_BY)."""

    email: str
    display_name: str = ""
    phone: str = ""
    patron_category: str = "ADULT"
    role: Role = Role.READER
    status: UserStatus = UserStatus.ACTIVE
    status_reason: str = ""
    home_branch: str = ""
    expire_at: datetime | None = None
    """The last second of the membership: the end of a day of the library's (see `lasting_to_the_end_of_day`)."""
    email_opt_in: bool = True
    sms_opt_in: bool = False
    kind_choices: tuple[KindChoice, ...] = ()
    """Per kind of notification, sorted by kind; a kind not listed follows the two switches."""
    locale: str = ""
    """The language of the user's notifications ("en", "ru"); "" for the library's default."""
    time_zone: str = ""
    """IANA zone the user's notifications show times in; "" for the library's."""

    def effective_status(self, now: datetime) -> UserStatus:
        """EXPIRED as soon as `expire_at` passes, even before anyone stores the new status."""
        expired = self.expire_at is not None and self.expire_at <= now
        if self.status == UserStatus.ACTIVE and expired:
            return UserStatus.EXPIRED
        return self.status

    def lasting_to_the_end_of_day(self, zone: tzinfo) -> Profile:
        """A copy whose membership lasts to the end (23:59:59) of the library's day, in its time `zone`, on which
        `expire_at` falls: an expiry is a date (Koha's, Evergreen's are), and a loan's hard due date ends with its
        day too. Kept to the instant, "31 Dec" given as 2027-12-31T00:00:00Z ended a New York membership at 19:00
        on 30 Dec, refusing sign-in, issues and holds from that evening. The day is the instant's date there."""
        if self.expire_at is None:
            return self
        return replace(self, expire_at=end_of_local_day(self.expire_at, zone))

    def violations(self, *, prefix: str = "user.", given: frozenset[str] | None = None) -> list[FieldViolation]:
        """Every bad field, named as the request names it (`user.email`, or `email` with prefix=""). A rule newer
        than the data (a display name on one line) holds for the fields `given` (None: all of them): an account
        stored before it keeps its name until someone edits that."""
        violations: list[FieldViolation] = []
        try:
            normalize_email(self.email, field=f"{prefix}email")
        except InvalidArgument as error:
            violations.extend(error.violations)
        for check in (
            phone_violation(self.phone, field=f"{prefix}phone"),
            category_violation(self.patron_category, field=f"{prefix}patron_category"),
            locale_violation(self.locale, field=f"{prefix}locale"),
            time_zone_violation(self.time_zone, field=f"{prefix}time_zone"),
            kind_choices_violation(
                [choice.kind for choice in self.kind_choices], field=f"{prefix}notification_preferences.kinds"
            ),
        ):
            if check is not None:
                violations.append(check)
        if len(self.display_name) > MAX_DISPLAY_NAME_LENGTH:
            violations.append(
                FieldViolation(f"{prefix}display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
            )
        elif (given is None or "display_name" in given) and not is_one_line(self.display_name.strip()):
            violations.append(FieldViolation(f"{prefix}display_name", ONE_LINE_MESSAGE))
        return violations

    def validated(self, *, given: frozenset[str] | None = None) -> Profile:
        """A cleaned copy, or InvalidArgument naming every bad field (see `violations` for `given`)."""
        if violations := self.violations(given=given):
            raise InvalidArgument(violations)
        email = normalize_email(self.email)
        return replace(
            self,
            email=email,
            display_name=self.display_name.strip(),
            phone=phone_digits(self.phone),  # stored as E.164, however it was written
            home_branch=self.home_branch.strip(),
            kind_choices=tuple(sorted(self.kind_choices, key=lambda choice: choice.kind)),
        )
