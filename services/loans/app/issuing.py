"""The issue saga: users (eligibility) -> loans (PENDING record) -> catalog (check-out) -> loans (ACTIVE).

Never oversells and never leaves a copy out without a loan:
- the PENDING loan is committed before the catalog is asked, so every copy the catalog lends is lent to a
  loan we have on record (the saga's log);
- each catalog step is idempotent per loan: a retry finds the copy the first try took out;
- a refusal after the check-out (limit reached meanwhile, the loan abandoned) marks the loan FAILED first,
  then checks the copy back in (compensation); if that cannot happen now, `compensated` stays false;
- the reconciler (reconciling.py) settles PENDING loans older than the saga timeout and FAILED loans
  not yet compensated, so a crash at any point is repaired;
- the database refuses a second ACTIVE loan of one copy (a unique index), whatever a peer says. When the
  catalog lends a copy still ACTIVE here on a loan whose return was begun, that return reached the catalog
  and was interrupted before the loan was closed: it is finished first (returning.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import tzinfo

from services.loans.app.compensating import compensate, give_up
from services.loans.app.follow_ups import after_commit
from services.loans.app.following_item_types import rules_following
from services.loans.app.peers import Catalog, Users
from services.loans.app.pending import IssueLoan as IssueLoan  # the command, with its use case
from services.loans.app.pending import begin_seen, begin_unseen, begun_unseen, forget, lendable_to
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.returning import finish_return_on_copy
from services.loans.app.saga import LoanOfStep, known_then_read
from services.loans.app.shelf import release_and_pass_on
from services.loans.app.unavailable import explained
from services.loans.domain.borrowing import (
    BOOK,
    BookTitle,
    BorrowingPolicy,
    CopyInfo,
    Eligibility,
    Standing,
    ensure_may_borrow,
)
from services.loans.domain.hold_record import HOLD
from services.loans.domain.holds import Hold
from services.loans.domain.item_types import ANY_ITEM_TYPE
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.rule_keys import RulesBehindCatalog
from services.loans.domain.rules import most_specific, own_rule_types
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import REQUEST_IN_PROGRESS, retry_conflicts
from services.support.runtime.errors import (
    Conflict,
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from services.support.runtime.identity import ME
from services.support.runtime.names import check_reference


def no_fault() -> None:
    """The default of the fault-injection point between the catalog step and the loan's commit: nothing."""


async def issue_loan(
    cmd: IssueLoan,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    users: Users,
    catalog: Catalog,
    policy: BorrowingPolicy,
    currency: str,
    after_checkout: Callable[[], None] = no_fault,
) -> Loan:
    """Lend a copy (by barcode, or any available copy of a book); a retried request_id returns the same loan."""
    cmd.actor.ensure_staff("issue loans")
    if cmd.patron == ME:  # the staff member lending to themselves, as PlaceHold and AssessFine read it
        cmd = replace(cmd, patron=cmd.actor.user)
    check_reference(cmd.patron, "users", field="patron")
    if bool(cmd.barcode) == bool(cmd.book):
        raise InvalidArgument.field("item", "give exactly one of barcode and book")
    if cmd.book:
        BOOK.parse(cmd.book, field="book")
    first = await _first_attempt(cmd, uow)  # the runtime's claim made the id: no loan can carry it yet
    existing = None if first else await _made_earlier(cmd, uow)
    if existing is None:
        begin = _begin_by_barcode if cmd.barcode else _begin_by_book
        try:
            loan, eligibility = await begin(cmd, uow=uow, clock=clock, users=users, catalog=catalog, policy=policy)
        except Conflict as taken:
            # The first attempt the runtime knows of, yet a loan carries its request_id: one the ledger has
            # forgotten (older than its retention) or freed after a failure that followed the loan's commit.
            # No twin runs (the runtime's claim), so it is answered as any retry is.
            if taken.reason != REQUEST_IN_PROGRESS or not first:
                raise
            existing = await _made_earlier(cmd, uow)
            if existing is None:
                raise
    if existing is not None:
        if existing.status != LoanStatus.PENDING:
            return existing
        loan, eligibility = existing, await users.eligibility(existing.patron)  # carry on from the catalog step
    return await _lend(
        loan, eligibility,
        uow=uow, clock=clock, catalog=catalog, policy=policy, currency=currency, after_checkout=after_checkout,
    )  # fmt: skip


async def _first_attempt(cmd: IssueLoan, uow: LoansUnitOfWork) -> bool:
    if cmd.request_id is None:
        return False
    async with uow.reading():  # no I/O: the runtime says so
        return uow.requests.is_first_attempt(cmd.request_id)


async def _made_earlier(cmd: IssueLoan, uow: LoansUnitOfWork) -> Loan | None:
    """The live loan an earlier attempt of this request made (None without a request_id)."""
    if cmd.request_id is None:
        return None
    async with uow.reading():
        return await uow.loans.by_request(cmd.request_id)


async def _begin_by_barcode(
    cmd: IssueLoan, *, uow: LoansUnitOfWork, clock: Clock, users: Users, catalog: Catalog, policy: BorrowingPolicy
) -> tuple[Loan, Eligibility]:
    """Unseen when it cannot matter what the copy is (one catalog call fewer: the check-out says); otherwise
    the copy is looked up first: its book (the loan's, and the patron's READY hold on it, which the catalog must
    be told to lend a held copy) and its item type (the limit of its type is checked before it is taken)."""
    try:
        eligibility = await users.eligibility(cmd.patron)
    except DependencyUnavailable:
        await catalog.lookup_copy(cmd.barcode)  # an unknown barcode is still answered NOT_FOUND meanwhile
        raise
    loan = await begin_unseen(cmd, eligibility, uow=uow, clock=clock, policy=policy)
    if loan is None:
        copy = await catalog.lookup_copy(cmd.barcode)
        loan = await begin_seen(cmd, copy.book, copy, eligibility, uow=uow, clock=clock, policy=policy)
    return loan, eligibility


async def _begin_by_book(
    cmd: IssueLoan, *, uow: LoansUnitOfWork, clock: Clock, users: Users, catalog: Catalog, policy: BorrowingPolicy
) -> tuple[Loan, Eligibility]:
    """Both peers asked at once, before anything is recorded: users, and the catalog that the book exists (its
    refusal is answered at once, without waiting for users). The title comes with the check-out."""
    asking_users = asyncio.ensure_future(users.eligibility(cmd.patron))
    asking_users.add_done_callback(_retrieved)
    try:
        await catalog.book_title(cmd.book)
    except BaseException:
        asking_users.cancel()
        raise
    eligibility = await asking_users
    loan = await begin_seen(cmd, cmd.book, None, eligibility, uow=uow, clock=clock, policy=policy)
    return loan, eligibility


def _retrieved(task: asyncio.Future[Eligibility]) -> None:
    """A users answer nobody awaits (the catalog refused first) is dropped without an 'unretrieved' warning."""
    if not task.cancelled():
        task.exception()


def _selector(loan: Loan) -> tuple[str, str]:
    if loan.requested_copy:
        return "copy", loan.requested_copy
    return ("barcode", loan.barcode) if loan.barcode else ("book", loan.book)


async def _lend(
    loan: Loan,
    eligibility: Eligibility,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    policy: BorrowingPolicy,
    currency: str,
    after_checkout: Callable[[], None],
) -> Loan:
    selector = _selector(loan)
    try:
        # By book the catalog picks the copy: one of a type the patron may borrow (one named is checked here).
        item_types = await lendable_to(eligibility, uow=uow) if selector[0] == "book" else ANY_ITEM_TYPE
        copy = await catalog.check_out(selector=selector, loan=loan.name, hold=loan.hold, item_types=item_types)
    except (FailedPrecondition, NotFound, InvalidArgument) as refusal:
        if isinstance(refusal, NotFound) and begun_unseen(loan):
            await forget(loan.id, uow=uow)
        else:
            await give_up(loan.id, refusal.reason, uow=uow, clock=clock, copy_out=False)
        if isinstance(refusal, FailedPrecondition):
            raise await explained(refusal, loan, uow=uow, catalog=catalog) from None
        raise
    # DependencyUnavailable: the outcome is unknown; the loan stays PENDING for a retry or the reconciler.
    after_checkout()
    # The check-out answers the title (a catalog that does not, e.g. mid-upgrade, is asked for the book).
    if not copy.book_title:
        found = await _title_or_blank(copy.book, catalog)
        copy = replace(copy, book_title=found.title, book_language=found.language)
    title = copy.book_title
    current = known_then_read(loan)
    try:
        await rules_following(copy.item_type, copy.item_type_renamed_at, uow=uow, catalog=catalog)
        # The copy is out: a lost race here is repeated, never answered (ABORTED would leave it out until
        # the reconciler's next pass, with the client told nothing happened).
        lent, hold = await _activate_past_a_begun_return(
            lambda: _activate(current, loan.patron, copy, eligibility, title, uow=uow, clock=clock, policy=policy),
            copy.name,
            uow=uow,
            currency=currency,
            zone=policy.time_zone,
        )
    except (FailedPrecondition, RulesBehindCatalog) as refusal:
        # Refused (or the rules still behind a rename of the copy's type): the copy goes back, nothing is lent.
        await give_up(loan.id, refusal.reason, uow=uow, clock=clock, copy_out=True)
        await compensate(loan.id, copy.name, uow=uow, clock=clock, catalog=catalog)
        raise
    if hold is not None and hold.copy_left_on_shelf:  # staff lent another copy: the held one goes on
        passed_on = release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=policy.time_zone)
        await after_commit(passed_on, lent.name)
    return lent


async def _activate_past_a_begun_return(
    activate: Callable[[], Awaitable[tuple[Loan, Hold | None]]],
    copy: str,
    *,
    uow: LoansUnitOfWork,
    currency: str,
    zone: tzinfo,
) -> tuple[Loan, Hold | None]:
    """Activate; if the copy is still ACTIVE here on a loan whose return was begun, finish that return (the
    catalog has the copy back, it has just lent it to us) and activate again."""
    try:
        return await retry_conflicts(activate)
    except FailedPrecondition as refusal:
        if refusal.reason != "COPY_ALREADY_ON_LOAN":
            raise
        if not await finish_return_on_copy(copy, uow=uow, currency=currency, zone=zone):
            raise
    return await retry_conflicts(activate)


async def _title_or_blank(book: str, catalog: Catalog) -> BookTitle:
    """The copy is out: a title the catalog cannot give now must not fail the loan (it is display only)."""
    try:
        return await catalog.book_title(book)
    except (DependencyUnavailable, NotFound):
        return BookTitle("")


async def _hold_filled(loan: Loan, standing: Standing, uow: LoansUnitOfWork) -> Hold | None:
    """The hold the loan was begun for, else the patron's own hold on the book (still WAITING, or made READY
    meanwhile): it is filled by this loan, not left to trap the next copy for them. Not looked for when the
    standing, read under the patron's lock, counts no hold of theirs (a statement fewer for most issues)."""
    if loan.hold:
        return await uow.holds.get(HOLD.parse_id(loan.hold))
    if standing.active_holds == 0:
        return None
    return await uow.holds.active_for(loan.patron, loan.book)


async def _activate(
    current: LoanOfStep,
    patron: str,
    copy: CopyInfo,
    eligibility: Eligibility,
    title: str,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    policy: BorrowingPolicy,
) -> tuple[Loan, Hold | None]:
    """The copy is ours: re-check the limit for its item type under the patron's lock, then commit ACTIVE
    (and the patron's hold on the book FULFILLED, which it returns)."""
    now = clock.now()
    async with uow:
        await uow.loans.lock_patron(patron)  # always the patron's lock first, then the loan's row
        loan = await current(uow)
        if loan.status == LoanStatus.ACTIVE and loan.copy == copy.name:
            return loan, None  # a concurrent retry of the same request finished it first
        if loan.status != LoanStatus.PENDING:  # the reconciler gave up on it (it puts the copy back)
            raise Conflict(f"the issue of {loan.name} was abandoned; retry it", reason="ISSUE_ABANDONED")
        rules = await uow.rules.in_force(item_type=copy.item_type, renamed_at=copy.item_type_renamed_at)
        rule = most_specific(rules, eligibility.patron_category, copy.item_type)
        besides = own_rule_types(rules, eligibility.patron_category)
        standing = await uow.loans.standing(loan.patron, item_type=rule.terms.item_type, now=now, besides=besides)
        ensure_may_borrow(eligibility, standing, rule.terms, policy)
        rule.terms.ensure_lends_at(now, policy.time_zone)  # a term ended since the rule was set: born overdue
        closed = await uow.closed_days.in_force()  # cached as the rules are: no round trip per issue
        loan.activate(copy, rule=rule, book_title=title, now=now, zone=policy.time_zone, closed=closed)
        hold = await _hold_filled(loan, standing, uow)
        if hold is not None:
            hold.fulfil(loan.name, copy=copy.name, now=now)
            await uow.holds.save(hold)
        await uow.loans.save(loan)
        await uow.commit()
    return loan, hold
