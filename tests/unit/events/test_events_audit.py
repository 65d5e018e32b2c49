"""The audit trail reads any context's payload by rules that know no context."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.field_mask_pb2 import FieldMask

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.loans.v1 import events_pb2 as loans_events
from athenaeum.loans.v1 import resources_pb2
from athenaeum.notifications.v1 import events_pb2 as notifications_events
from athenaeum.notifications.v1 import notifications_pb2
from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2
from services.events.api.audit import Unreadable, audit_of, flatten, trace_id
from services.events.domain.audit import audit_record
from services.events.domain.model import Category
from services.support.runtime.identity import ANONYMOUS
from services.support.runtime.messaging import ACTOR_HEADER, EVENT_TYPE_HEADER
from services.support.runtime.wire import timestamp

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
EVENT_ID = "6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def headers_for(payload: object, **extra: str) -> dict[str, str]:
    return {EVENT_TYPE_HEADER: payload.DESCRIPTOR.full_name, "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01", **extra}  # type: ignore[attr-defined]


def test_a_loan_event_is_recorded_with_its_subject_actor_resources_and_trace() -> None:
    loan = resources_pb2.Loan(
        name="loans/1", patron="users/ada", book="books/9", copy="books/9/copies/3", due_time=timestamp(NOW)
    )
    payload = loans_events.LoanIssued(event_id=EVENT_ID, occur_time=timestamp(NOW), loan=loan)
    record = audit_of(
        "athenaeum.loans.loan_issued.v1",
        payload.SerializeToString(),
        headers_for(payload, **{ACTOR_HEADER: "users/librarian"}),
        now=NOW,
    )
    assert (record.type, record.category, record.source) == ("athenaeum.loans.loan_issued", Category.AUDIT, "loans")
    assert (record.subject, record.actor, record.trace_id) == ("loans/1", "users/librarian", TRACE)
    assert str(record.id) == EVENT_ID and record.occur_time == NOW
    assert record.attributes["loan.patron"] == "users/ada"
    assert record.attributes["loan.due_time"] == "2026-12-01T12:00:00Z"
    assert {"loans/1", "users/ada", "books/9", "books/9/copies/3"} <= set(record.resources)
    assert "event_id" not in record.attributes and "occur_time" not in record.attributes


def test_a_by_field_of_the_payload_names_the_actor() -> None:
    payload = loans_events.FineWaived(
        event_id=EVENT_ID, fine=resources_pb2.Fine(name="fines/1"), waived_by="users/boss"
    )
    record = audit_of("athenaeum.loans.fine_waived.v1", payload.SerializeToString(), headers_for(payload), now=NOW)
    assert (record.actor, record.subject) == ("users/boss", "fines/1")
    assert record.occur_time == NOW  # no occur_time in the payload: when it was read


def test_an_anonymous_call_on_an_account_is_the_accounts_own_and_a_job_is_the_services() -> None:
    registered = users_events.UserLoggedIn(event_id=EVENT_ID, name="users/ada")
    data = registered.SerializeToString()
    assert (
        audit_of(
            "athenaeum.users.user_logged_in.v1", data, headers_for(registered, **{ACTOR_HEADER: ANONYMOUS}), now=NOW
        ).actor
        == "users/ada"
    )
    assert (
        audit_of("athenaeum.users.user_logged_in.v1", data, headers_for(registered), now=NOW).actor == "services/users"
    )
    failed = users_events.UserLoginFailed(event_id=EVENT_ID, email="x@example.org", reason="wrong_password")
    anonymous = audit_of(
        "athenaeum.users.user_login_failed.v1",
        failed.SerializeToString(),
        headers_for(failed, **{ACTOR_HEADER: ANONYMOUS}),
        now=NOW,
    )
    assert (anonymous.actor, anonymous.subject) == ("", "")
    against = users_events.UserLoginFailed(
        event_id=EVENT_ID, email="ada@example.org", reason="wrong_password", name="users/ada"
    )
    named = audit_of(
        "athenaeum.users.user_login_failed.v1",
        against.SerializeToString(),
        headers_for(against, **{ACTOR_HEADER: ANONYMOUS}),
        now=NOW,
    )
    assert named.subject == "users/ada" and "users/ada" in named.resources  # found by the account (A10)
    assert "ada@example.org" not in repr(named.attributes)  # the email typed is personal data: left out


def test_repeated_fields_masks_and_enums_flatten_to_text() -> None:
    book = catalog_pb2.Book(name="books/9", authors=["Bulgakov", "Гоголь"], title="x")
    payload = catalog_events.BookUpdated(
        event_id=EVENT_ID, book=book, update_mask=FieldMask(paths=["title", "authors"])
    )
    flat = dict(flatten(payload))
    assert flat["book.authors"] == '["Bulgakov", "Гоголь"]'
    assert flat["update_mask"] == "title,authors"
    status = catalog_events.CopyStatusChanged(
        event_id=EVENT_ID, name="books/9/copies/1", status=catalog_pb2.COPY_STATUS_ON_LOAN
    )
    assert dict(flatten(status))["status"] == "COPY_STATUS_ON_LOAN"


def test_a_notifications_personal_data_stays_out_of_the_trail_and_what_happened_stays_in() -> None:
    sent = notifications_pb2.Notification(
        name="notifications/7",
        channel=notifications_pb2.NOTIFICATION_CHANNEL_EMAIL,
        recipient="users/ada",
        address="ada@example.org",
        params={"title": "The Master and Margarita", "patron_name": "Ada"},
        subject="Your hold is ready",
        body="Dear Ada, The Master and Margarita waits for you.",
        status=notifications_pb2.NOTIFICATION_STATUS_SENT,
        kind="hold_ready",
    )
    payload = notifications_events.NotificationSent(event_id=EVENT_ID, occur_time=timestamp(NOW), notification=sent)
    record = audit_of(
        "athenaeum.notifications.notification_sent.v1", payload.SerializeToString(), headers_for(payload), now=NOW
    )
    assert record.subject == "notifications/7" and "users/ada" in record.resources
    assert record.attributes["notification.kind"] == "hold_ready"
    assert record.attributes["notification.status"] == "NOTIFICATION_STATUS_SENT"
    kept = " ".join([*record.attributes, *record.attributes.values()])
    assert "ada@example.org" not in kept and "Margarita" not in kept and "Dear Ada" not in kept
    assert not {"notification.address", "notification.subject", "notification.body"} & set(record.attributes)


def test_an_account_s_contact_data_and_name_stay_out_of_the_trail() -> None:
    """Every account's email, phone and name were kept in AUDIT rows (which never expire), readable by staff."""
    user = users_pb2.User(
        name="users/ada", email="ada@example.org", phone="+79991234567", display_name="Ada Lovelace",
        patron_category="ADULT", role=users_pb2.USER_ROLE_READER,
    )  # fmt: skip
    payload = users_events.UserRegistered(event_id=EVENT_ID, occur_time=timestamp(NOW), user=user)
    record = audit_of("athenaeum.users.user_registered.v1", payload.SerializeToString(), headers_for(payload), now=NOW)
    assert record.subject == "users/ada" and record.attributes["user.patron_category"] == "ADULT"
    kept = " ".join([*record.attributes, *record.attributes.values()])
    assert "ada@example.org" not in kept and "+7999" not in kept and "Lovelace" not in kept


def test_a_message_that_is_not_a_domain_event_is_unreadable() -> None:
    payload = loans_events.LoanIssued(event_id=EVENT_ID)
    for subject, data, headers in (
        ("athenaeum.loans.loan_issued.v1", payload.SerializeToString(), {}),
        ("athenaeum.loans.loan_issued.v1", b"\xff\xff", headers_for(payload)),
        ("athenaeum.loans.loan_issued.v1", b"", {EVENT_TYPE_HEADER: "no.such.Type"}),
        ("elsewhere", payload.SerializeToString(), headers_for(payload)),
    ):
        try:
            audit_of(subject, data, headers, now=NOW)
        except Unreadable:
            continue
        raise AssertionError(f"{subject} {headers} was read")


def test_attributes_are_capped_and_a_foreign_event_id_gets_a_stable_uuid() -> None:
    fields = [(f"k{i}", "v" * 5000) for i in range(100)]
    record = audit_record(
        event_id="not-a-uuid", type="athenaeum.x.y", context="x", occur_time=NOW, record_time=NOW, fields=fields
    )
    assert len(record.attributes) == 64 and max(map(len, record.attributes.values())) == 1024
    again = audit_record(
        event_id="not-a-uuid", type="athenaeum.x.y", context="x", occur_time=NOW, record_time=NOW, fields=[]
    )
    assert record.id == again.id


def test_a_trace_id_comes_from_traceparent_only_when_valid() -> None:
    assert trace_id({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}) == TRACE
    assert trace_id({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}) == ""
    assert trace_id({}) == ""


def test_a_number_at_zero_and_a_flag_at_false_are_kept_and_nothing_unset_is_invented() -> None:
    """proto3 leaves zeros out of ListFields: the last copy's loan showed no `available_copies`, a channel
    switched off showed nothing, and an auditor could not tell them from not reported."""
    status = catalog_events.CopyStatusChanged(
        event_id=EVENT_ID, name="books/9/copies/1", book="books/9", status=catalog_pb2.COPY_STATUS_ON_LOAN
    )
    flat = dict(flatten(status))
    assert flat["available_copies"] == "0" and "loan" not in flat and "previous_status" not in flat
    choices = users_pb2.NotificationPreferences(email_opt_in=True, kinds={"due_soon": users_pb2.ChannelChoice()})
    user = users_pb2.User(name="users/ada", notification_preferences=choices)
    payload = users_events.UserUpdated(event_id=EVENT_ID, occur_time=timestamp(NOW), user=user, updated_by="users/ada")
    record = audit_of("athenaeum.users.user_updated.v1", payload.SerializeToString(), headers_for(payload), now=NOW)
    assert record.attributes["user.notification_preferences.email_opt_in"] == "true"
    assert record.attributes["user.notification_preferences.sms_opt_in"] == "false"
    assert record.attributes["user.notification_preferences.kinds.due_soon.email"] == "false"
    assert "update_mask" not in record.attributes and "user.role" not in record.attributes  # unset, UNSPECIFIED


def test_an_event_about_a_copy_is_found_by_its_book() -> None:
    """A copy_created names only "books/9/copies/3": `resource = "books/9"` (who did what to this book) missed it."""
    copy = catalog_pb2.Copy(name="books/9/copies/3", barcode="000123")
    payload = catalog_events.CopyCreated(event_id=EVENT_ID, occur_time=timestamp(NOW), copy=copy)
    record = audit_of("athenaeum.catalog.copy_created.v1", payload.SerializeToString(), headers_for(payload), now=NOW)
    assert record.subject == "books/9/copies/3"
    assert set(record.resources) == {"books/9/copies/3", "books/9"}
    many = [(f"k{i}", f"books/{i}/copies/{i}") for i in range(40)]
    capped = audit_record(event_id=EVENT_ID, type="athenaeum.x.y", context="x", occur_time=NOW, record_time=NOW,
                          fields=many)  # fmt: skip
    assert len(capped.resources) == 32
