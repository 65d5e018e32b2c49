"""The caches' look-ups on /metrics, read from the caches' own counts at scrape time."""

from services.support.runtime.followed_cache import FollowedCache
from services.support.runtime.telemetry import CacheCollector


class Counted(FollowedCache):
    def _drop_all(self) -> None:
        pass


def test_each_watched_cache_reports_its_hits_and_misses_by_name() -> None:
    collector, books, rules = CacheCollector(), Counted(), Counted()
    collector.watch("books", books)
    collector.watch("rules", rules)
    books.hits, books.misses, rules.misses = 7, 2, 1
    [family] = collector.collect()
    samples = {(s.name, s.labels["cache"], s.labels["result"]): s.value for s in family.samples}
    assert samples == {
        ("athenaeum_cache_lookups_total", "books", "hit"): 7,
        ("athenaeum_cache_lookups_total", "books", "miss"): 2,
        ("athenaeum_cache_lookups_total", "rules", "hit"): 0,
        ("athenaeum_cache_lookups_total", "rules", "miss"): 1,
    }
