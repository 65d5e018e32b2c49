"""Who asks: a signed-in user with their role, or the system (a peer service, the scheduler). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from services.support.runtime.errors import PermissionDenied
from services.support.runtime.identity import ME, Role
from services.support.runtime.names import check_reference


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user, or the system when `role` is None."""

    user: str = ""
    role: Role | None = None
    """None: a peer service or the scheduler acting on its own; the mesh already decided it may."""

    @property
    def is_staff(self) -> bool:
        return self.role != Role.READER

    def ensure_may_act_for(self, patron: str, what: str) -> None:
        """Readers see and change only their own loans, holds and fines."""
        if not self.is_staff and patron != self.user:
            raise PermissionDenied(f"a reader may not {what} of another patron", reason="NOT_YOUR_RECORD")

    def ensure_staff(self, what: str) -> None:
        if not self.is_staff:
            raise PermissionDenied(f"only library staff may {what}", reason="STAFF_ONLY")

    def ensure_not_own(self, patron: str, what: str) -> None:
        """Segregation of duties over money: staff may not forgive what they owe themselves (Koha and Evergreen
        gate write-offs behind a permission of their own); another staff member does it."""
        if self.user and patron == self.user:
            raise PermissionDenied(
                f"staff may not {what} on their own account: another staff member must", reason="OWN_ACCOUNT"
            )

    def ensure_admin(self, what: str = "change circulation rules") -> None:
        if self.role not in (Role.ADMIN, None):
            raise PermissionDenied(f"only an admin may {what}", reason="ADMIN_ONLY")


SYSTEM = Actor()


def patron_scope(parent: str, actor: Actor, what: str) -> str:
    """The patron a list is about ("" = everyone, staff only); "users/me" is the caller."""
    patron = actor.user if parent == ME else parent
    if patron:
        check_reference(patron, "users", field="parent")
        actor.ensure_may_act_for(patron, f"list the {what}")
    elif not actor.is_staff:
        raise PermissionDenied(f"a reader may list only their own {what}", reason="NOT_YOUR_RECORD")
    return patron
