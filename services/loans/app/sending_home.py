"""A copy taken off the hold shelf of another branch than its own, that nobody waiting took, is sent home (finding
B2): made AVAILABLE, the book page said "available at MAIN" while it sat on EAST's hold shelf, and no list told EAST
to send it back. Koha transfers such an item to its home branch; Evergreen routes it home at check-in. The catalog
has it IN_TRANSIT with no hold, `sent_home_from` EAST (EAST's hold shelf page lists it, "send home to MAIN"), and
a desk at its own branch makes it AVAILABLE again (coming_home.py). A copy released while in the van (its hold
ended after a desk sent it on: finding F4) goes home the same way, from the branch it is on its way to.

The copy is released (AVAILABLE) first, so that the queue may take it where it sits; only then, untaken, is it
sent home. A crash in between leaves it AVAILABLE, as before this step existed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from services.loans.app.peers import Catalog
from services.loans.domain.holds import Hold
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound

log = logging.getLogger("athenaeum.loans")


async def send_home_untaken(
    hold_shelves: Mapping[str, str], served: Mapping[uuid.UUID, Hold], *, catalog: Catalog
) -> None:
    """Each copy released from a hold shelf (`hold_shelves`: its name, the branch of that hold shelf) that no hold
    `served` took is sent home; the catalog leaves one at its own branch as it is, and refuses one lent or set
    aside meanwhile (nothing to do)."""
    taken = {hold.copy for hold in served.values() if hold.set_aside}
    for copy, branch in hold_shelves.items():
        if copy in taken:
            continue
        try:
            await catalog.send_home(copy=copy, from_branch=branch)
        except (DependencyUnavailable, FailedPrecondition, NotFound) as error:
            log.info("%s, released from the hold shelf at %s, was not sent home: %s", copy, branch, error)
