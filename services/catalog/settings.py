from services.runtime.settings import BaseServiceSettings


class CatalogSettings(BaseServiceSettings):
    """Catalog has no settings of its own yet; search and cache tuning will live here."""
