"""The bootstrap admin is made into a library with no admin at all, never again once one exists: renaming it
re-armed it, and the next restart made a second admin with the password still in the Secret."""

from __future__ import annotations

from dataclasses import replace

from services.users.app import admins

BOOTSTRAP = admins.BootstrapAdmin("admin@athenaeum.local", "the-first-admin-password")


async def test_a_renamed_bootstrap_admin_is_not_made_again_at_the_next_start(db, clock, passwords) -> None:
    await admins.bootstrap_admin(BOOTSTRAP, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    (admin,) = db.users.values()
    admin.profile = replace(admin.profile, email="head.librarian@example.org")  # the first admin's real address
    await admins.bootstrap_admin(BOOTSTRAP, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert [user.profile.email for user in db.users.values()] == ["head.librarian@example.org"]


async def test_no_bootstrap_admin_where_another_admin_exists(db, clock, passwords) -> None:
    restored = admins.RestoreAdmin("boss@example.org", "a-strong-password-of-the-boss")
    await admins.restore_admin(restored, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    await admins.bootstrap_admin(BOOTSTRAP, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert [user.profile.email for user in db.users.values()] == ["boss@example.org"]
