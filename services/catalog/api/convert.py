"""Proto <-> domain conversions of the catalog (shared by the servicer and the event encoder)."""

from __future__ import annotations

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.app.books import SearchResults
from services.catalog.app.search_queries import Hit, Search, SearchFilters
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemType
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.paging import Page
from services.support.runtime.wire import timestamp

_STATUS_PREFIX = "COPY_STATUS_"


def book_to_proto(book: Book) -> catalog_pb2.Book:
    d = book.details
    return catalog_pb2.Book(
        name=book.name,
        isbn=d.isbn,
        title=d.title,
        subtitle=d.subtitle,
        authors=d.authors,
        subjects=d.subjects,
        publisher=d.publisher,
        publication_year=d.publication_year,
        language=d.language,
        description=d.description,
        cover_url=d.cover_url,
        create_time=timestamp(book.created_at),
        update_time=timestamp(book.updated_at),
        total_copies=book.total_copies,
        available_copies=book.available_copies,
        etag=book.etag,
        reference_copies=book.reference_copies,
    )


def details_from_proto(book: catalog_pb2.Book) -> BookDetails:
    return BookDetails(
        title=book.title,
        isbn=book.isbn,
        subtitle=book.subtitle,
        authors=tuple(book.authors),
        subjects=tuple(book.subjects),
        publisher=book.publisher,
        publication_year=book.publication_year,
        language=book.language,
        description=book.description,
        cover_url=book.cover_url,
    )


def status_to_proto(status: CopyStatus) -> catalog_pb2.CopyStatus.ValueType:
    return catalog_pb2.CopyStatus.Value(_STATUS_PREFIX + status.value)


def status_from_proto(value: catalog_pb2.CopyStatus.ValueType) -> CopyStatus | None:
    """None for COPY_STATUS_UNSPECIFIED; INVALID_ARGUMENT for a number the API does not define (a new copy
    with one was quietly made AVAILABLE)."""
    if not value:
        return None
    if value not in catalog_pb2.CopyStatus.values():
        raise InvalidArgument.field("copy.status", "is not a copy status this API defines")
    return CopyStatus(catalog_pb2.CopyStatus.Name(value).removeprefix(_STATUS_PREFIX))


def copy_to_proto(copy: Copy) -> catalog_pb2.Copy:
    d = copy.details
    return catalog_pb2.Copy(
        name=copy.name,
        barcode=d.barcode,
        branch=d.branch,
        shelf_location=d.shelf_location,
        item_type=d.item_type,
        status=status_to_proto(copy.status),
        current_loan=copy.current_loan,
        current_hold=copy.current_hold,
        call_number=d.call_number,
        create_time=timestamp(copy.created_at),
        update_time=timestamp(copy.updated_at),
        etag=copy.etag,
        book_title=copy.book_title,
        book_language=copy.book_language,
        sent_for_hold=copy.sent_for_hold,
        sent_home_from=copy.sent_home_from,
        not_for_loan=copy.not_for_loan,
        item_type_rename_time=timestamp(copy.item_type_renamed_at),
    )


def copy_details_from_proto(copy: catalog_pb2.Copy) -> CopyDetails:
    return CopyDetails(
        barcode=copy.barcode,
        branch=copy.branch,
        shelf_location=copy.shelf_location,
        item_type=copy.item_type,
        call_number=copy.call_number,
    )


def search_from_proto(request: catalog_pb2.SearchBooksRequest) -> Search:
    f = request.filters
    filters = SearchFilters(
        authors=tuple(a for a in f.authors if a.strip()),
        subjects=tuple(s for s in f.subjects if s.strip()),
        language=f.language.strip(),
        publisher=f.publisher.strip(),
        min_year=f.min_publication_year,
        max_year=f.max_publication_year,
        available_only=f.available_only,
    )
    return Search(text=request.query, filters=filters, facets=tuple(request.facets))


def search_results_to_proto(found: SearchResults) -> catalog_pb2.SearchBooksResponse:
    return catalog_pb2.SearchBooksResponse(
        results=[_hit_to_proto(hit) for hit in found.page.items],
        facets=[
            catalog_pb2.Facet(field=name, values=[catalog_pb2.FacetValue(value=v, count=n) for v, n in values])
            for name, values in found.facets.items()
        ],
        next_page_token=found.page.next_page_token,
        total_size=found.page.total_size,
    )


def _hit_to_proto(hit: Hit) -> catalog_pb2.SearchResult:
    return catalog_pb2.SearchResult(book=book_to_proto(hit.book), score=hit.score, highlights=hit.highlights)


def books_to_proto(page: Page[Book]) -> catalog_pb2.ListBooksResponse:
    return catalog_pb2.ListBooksResponse(
        books=[book_to_proto(b) for b in page.items], next_page_token=page.next_page_token, total_size=page.total_size
    )


def copies_to_proto(page: Page[Copy]) -> catalog_pb2.ListCopiesResponse:
    return catalog_pb2.ListCopiesResponse(
        copies=[copy_to_proto(c) for c in page.items], next_page_token=page.next_page_token, total_size=page.total_size
    )


def item_type_to_proto(kind: ItemType) -> catalog_pb2.ItemType:
    return catalog_pb2.ItemType(
        name=kind.name,
        code=kind.code,
        description=kind.description,
        not_for_loan=kind.not_for_loan,
        create_time=timestamp(kind.created_at),
        update_time=timestamp(kind.updated_at),
        etag=kind.etag,
    )


def item_types_to_proto(page: Page[ItemType]) -> catalog_pb2.ListItemTypesResponse:
    return catalog_pb2.ListItemTypesResponse(
        item_types=[item_type_to_proto(k) for k in page.items],
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )
