from pydantic import Field

from services.support.runtime.settings import BaseServiceSettings, OfTheLibraryBranches


class CatalogSettings(BaseServiceSettings, OfTheLibraryBranches):
    """Catalog tuning, from ATHENAEUM_* variables like every service setting."""

    book_cache_size: int = Field(10_000, ge=0, description="Books kept by GetBook's cache; 0 turns it off.")
    book_cache_ttl_seconds: float = Field(30.0, gt=0, description="Upper bound on staleness if events are lost.")
    search_cache_bytes: int = Field(
        4 * 2**20, ge=0, description="Bytes of SearchBooks answers kept by its cache; 0 turns it off."
    )
    search_cache_ttl_seconds: float = Field(30.0, gt=0, description="Upper bound on a cached search's staleness.")
    library_branches: str = Field(
        "",
        description="The library's branch codes, separated by commas (e.g. MAIN,EAST; any letter case matches): "
        "a copy's branch, where it is sent home to, must be one of them on a create, an update or an import, or "
        "the call (the import's row) is refused, and is kept in the list's spelling. Empty: any code, trimmed.",
    )
