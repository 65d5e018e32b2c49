"""The JetStream feed that keeps every loans process's rules cache fresh (data/rule_cache.py)."""

from __future__ import annotations

from nats.aio.msg import Msg

from services.loans.data.rule_cache import RuleCache
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, stream_name, subject

RULE_CHANGED = subject("loans", "circulation_rule_changed")


def invalidate_on_message(cache: RuleCache, message: Msg) -> None:
    """Any rule created, updated or deleted, by any loans process: the matrix is read again."""
    if message.subject == RULE_CHANGED:
        cache.clear()


def rule_cache_follower(cache: RuleCache, link: NatsLink) -> Follower:
    """Follows the rule changes from now on, through NATS restarts (resuming where it stopped); the cache
    serves only while it is up. Run it in the background, not as a health dependency: without it loans
    still serves, reading the rules from the database."""
    follower = Follower(
        link,
        name="rule-cache-invalidation",
        stream=stream_name("loans"),
        subject=RULE_CHANGED,
        handle=lambda message: invalidate_on_message(cache, message),
    )
    cache.trust_while(follower.health.is_up)
    return follower
