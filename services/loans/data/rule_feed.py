"""The JetStream feeds that keep every loans process's whole-table caches fresh: the rules (data/rule_cache.py)
and the closed days (data/calendar_cache.py)."""

from __future__ import annotations

from nats.aio.msg import Msg

from services.loans.data.rule_cache import RuleCache
from services.support.runtime.followed_cache import FollowedCache
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, stream_name, subject

RULE_CHANGED = subject("loans", "circulation_rule_changed")


def invalidate_on_message(cache: RuleCache, message: Msg) -> None:
    """Any rule created, updated or deleted, by any loans process: the matrix is read again."""
    dropped_by(RULE_CHANGED, cache, message)


def rule_cache_follower(cache: RuleCache, link: NatsLink) -> Follower:
    """Follows the rule changes from now on, through NATS restarts (resuming where it stopped); the cache
    serves only while it is up. Run it in the background, not as a health dependency: without it loans
    still serves, reading the rules from the database."""
    return dropping_follower(cache, link, name="rule-cache-invalidation", on=RULE_CHANGED)


def dropped_by(changed: str, cache: FollowedCache, message: Msg) -> None:
    if message.subject == changed:
        cache.clear()


def dropping_follower(cache: FollowedCache, link: NatsLink, *, name: str, on: str) -> Follower:
    """A follower of the loans stream's `on` subject that drops `cache` at each message; the cache is trusted
    only while the follower is up."""
    follower = Follower(
        link, name=name, stream=stream_name("loans"), subject=on, handle=lambda message: dropped_by(on, cache, message)
    )
    cache.trust_while(follower.health.is_up)
    return follower
