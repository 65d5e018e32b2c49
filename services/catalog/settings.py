from pydantic import Field

from services.support.runtime.settings import BaseServiceSettings


class CatalogSettings(BaseServiceSettings):
    """Catalog tuning, from ATHENAEUM_* variables like every service setting."""

    book_cache_size: int = Field(10_000, ge=0, description="Books kept by GetBook's cache; 0 turns it off.")
    book_cache_ttl_seconds: float = Field(30.0, gt=0, description="Upper bound on staleness if events are lost.")
    search_cache_bytes: int = Field(
        4 * 2**20, ge=0, description="Bytes of SearchBooks answers kept by its cache; 0 turns it off."
    )
    search_cache_ttl_seconds: float = Field(30.0, gt=0, description="Upper bound on a cached search's staleness.")
