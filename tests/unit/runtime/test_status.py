import asyncio

import asyncpg
import grpc
from google.rpc import code_pb2, error_details_pb2
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.runtime import errors
from services.support.runtime.status import domain_status, retry_after_header, unexpected_status


def _unpack(status, detail_type):
    for detail in status.details:
        if detail.Is(detail_type.DESCRIPTOR):
            message = detail_type()
            detail.Unpack(message)
            return message
    return None


def test_invalid_argument_carries_a_bad_request_naming_each_field() -> None:
    error = errors.InvalidArgument(
        [
            errors.FieldViolation("book.title", "must not be empty"),
            errors.FieldViolation("book.isbn", "bad check digit"),
        ]
    )
    status = domain_status(error)
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad_request = _unpack(status, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == ["book.title", "book.isbn"]


def test_failed_precondition_carries_its_reason_in_error_info() -> None:
    status = domain_status(errors.FailedPrecondition("too many loans", reason="LOAN_LIMIT_REACHED"))
    assert status.code == code_pb2.FAILED_PRECONDITION
    assert _unpack(status, error_details_pb2.ErrorInfo).reason == "LOAN_LIMIT_REACHED"


def test_each_domain_error_has_its_own_code() -> None:
    cases = {
        errors.NotFound("books/1"): code_pb2.NOT_FOUND,
        errors.AlreadyExists("dup"): code_pb2.ALREADY_EXISTS,
        errors.Conflict("stale"): code_pb2.ABORTED,
        errors.PermissionDenied("no"): code_pb2.PERMISSION_DENIED,
        errors.Unauthenticated("who"): code_pb2.UNAUTHENTICATED,
        errors.Throttled("slow down"): code_pb2.RESOURCE_EXHAUSTED,
        errors.DependencyUnavailable("catalog down"): code_pb2.UNAVAILABLE,
    }
    assert {type(e): domain_status(e).code for e in cases} == {type(e): c for e, c in cases.items()}


def test_unexpected_errors_never_leak_their_message() -> None:
    status = unexpected_status(RuntimeError("password=hunter2"))
    assert status.code == code_pb2.INTERNAL
    assert "hunter2" not in status.message


def test_database_outages_are_retryable_unavailable() -> None:
    assert unexpected_status(OperationalError("select 1", {}, ConnectionError())).code == code_pb2.UNAVAILABLE
    assert unexpected_status(NotImplementedError()).code == code_pb2.UNIMPLEMENTED
    assert grpc.StatusCode.UNAVAILABLE  # grpc imported: the mapping module must stay importable alongside it


def _wrapped(driver_error: BaseException) -> BaseException:
    """How the driver's error reaches the interceptor: wrapped by SQLAlchemy (as DBAPIError.orig)."""
    return DBAPIError("SELECT 1", {}, driver_error)


def test_a_database_restarting_or_gone_is_unavailable_not_internal() -> None:
    for driver_error in (
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    ):
        status = unexpected_status(_wrapped(driver_error))
        assert status.code == code_pb2.UNAVAILABLE, driver_error
        assert "starting" not in status.message and "state 12" not in status.message  # nothing internal leaks


def test_a_database_out_of_disk_space_says_so_instead_of_for_a_moment() -> None:
    cases = {
        asyncpg.exceptions.DiskFullError('could not extend file "base/16389/16797"'): (
            "the library's database is out of disk space; tell the administrator"
        ),
        asyncpg.exceptions.OutOfMemoryError("out of memory"): (
            "the library's database is out of memory; retry later, and tell the administrator if it lasts"
        ),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"): (
            "the library's database has no connection to spare; retry later"
        ),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"): (
            "the database is unavailable for a moment; retry later (with the same request_id)"
        ),
    }
    for driver_error, message in cases.items():
        status = unexpected_status(_wrapped(driver_error))
        assert (status.code, status.message) == (code_pb2.UNAVAILABLE, message), driver_error


def _reason_and_delay(status) -> tuple[str, float | None]:
    info, retry = _unpack(status, error_details_pb2.ErrorInfo), _unpack(status, error_details_pb2.RetryInfo)
    return info.reason if info else "", retry.retry_delay.ToTimedelta().total_seconds() if retry else None


def test_a_database_outage_carries_one_reason_and_a_retry_delay_whatever_the_driver_raised() -> None:
    async def refused_connect() -> BaseException:
        engine = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:9/db", connect_args={"timeout": 2})
        try:
            async with engine.connect():
                pass
        except Exception as error:  # the bare OSError a stopped Postgres gives
            return error
        finally:
            await engine.dispose()
        raise AssertionError("nothing listens on port 9")

    refused = asyncio.run(refused_connect())
    assert isinstance(refused, OSError)
    statuses = [
        unexpected_status(refused),
        unexpected_status(_wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))),
        unexpected_status(_wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection"))),
    ]
    for status in statuses:
        assert status.code == code_pb2.UNAVAILABLE
        assert status.message == "the database is unavailable for a moment; retry later (with the same request_id)"
        assert _reason_and_delay(status) == ("DATABASE_UNAVAILABLE", 1.0)
        assert retry_after_header(status) == (("retry-after", "1"),)


def test_a_full_disk_names_the_database_but_promises_no_quick_retry() -> None:
    status = unexpected_status(_wrapped(asyncpg.exceptions.DiskFullError("could not extend file")))
    assert _reason_and_delay(status) == ("DATABASE_UNAVAILABLE", None)


def test_an_outage_elsewhere_is_retryable_without_blaming_the_database() -> None:
    status = unexpected_status(TimeoutError())
    assert status.code == code_pb2.UNAVAILABLE
    assert "database" not in status.message and "with the same request_id" in status.message
    assert _reason_and_delay(status) == ("TEMPORARILY_UNAVAILABLE", 1.0)


def test_a_serialization_failure_is_a_conflict_to_retry() -> None:
    status = unexpected_status(_wrapped(asyncpg.exceptions.SerializationError("could not serialize access")))
    assert status.code == code_pb2.ABORTED


def test_a_bug_stays_internal() -> None:
    assert (
        unexpected_status(_wrapped(asyncpg.exceptions.UndefinedColumnError("no such column"))).code == code_pb2.INTERNAL
    )
    assert unexpected_status(KeyError("x")).code == code_pb2.INTERNAL


def test_an_error_never_echoes_more_than_a_little_of_the_request() -> None:
    huge = "7" * 1_000_000
    status = domain_status(errors.NotFound(f"copies/{huge}", f"no copy has barcode {huge}", metadata={"barcode": huge}))
    assert len(status.SerializeToString()) < 4_000
