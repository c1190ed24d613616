"""The exception tree: every status Primer documents has a named class, chosen from the envelope."""

from __future__ import annotations

import pytest
import yaml

from primer_nb.api import errors
from primer_nb.api.envelope import error_envelope, field_errors_of, parse_envelope, validation_group
from primer_nb.api.errors import STATUS_ERRORS, FieldError, PrimerAPIError, error_class, error_from_response

from .conftest import REFERENCE

# Statuses documented outside the OpenAPI files: 401/403/404/409 on the API responses page,
# 410 for an end-of-life version on the lifecycle page, 504 for the 90 s limit, and the
# 429/5xx every HTTP client meets (behaviour reference §2, §8, §10).
DOCUMENTED_ELSEWHERE = {401, 403, 404, 409, 410, 413, 415, 429, 500, 502, 503, 504}


def _spec_statuses() -> set[int]:
    found: set[int] = set()
    for name in ("primer-client-session-api-api-openapi.yml", "primer-payments-api-api-openapi.yml"):
        path = REFERENCE / "primer-openapi" / name
        if not path.exists():
            pytest.skip(f"Primer's spec is not beside the project: {path}")
        for item in yaml.safe_load(path.read_text())["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict):
                    found |= {int(code) for code in operation.get("responses", {}) if str(code).isdigit()}
    return {code for code in found if code >= 400}


def test_every_documented_error_status_maps_to_a_named_class():
    statuses = _spec_statuses() | DOCUMENTED_ELSEWHERE
    assert {400, 404, 409, 422} <= statuses  # what the two spec files document
    for status in sorted(statuses):
        cls = error_class(status, None)
        assert cls is not PrimerAPIError and issubclass(cls, PrimerAPIError), status
        assert cls.__doc__ and str(status) in cls.__doc__, f"{cls.__name__} should say it covers {status}"
    assert set(STATUS_ERRORS) == statuses


@pytest.mark.parametrize(
    ("status", "error_id", "expected"),
    [
        (400, "ClientSessionValidationError", errors.SessionError),
        (400, "MetadataContainsEmptyKey", errors.InvalidRequestError),
        (400, "TransactionRequestIdempotencyKeyAlreadyExists", errors.IdempotencyError),
        (409, "IdempotencyKeyAlreadyExists", errors.IdempotencyError),
        (410, None, errors.VersionGoneError),
        (422, "RequestValidationError", errors.InvalidRequestError),
        (429, "TooManyRequests", errors.RateLimitError),
        (504, "RequestTimeout", errors.ServerError),
        (599, None, errors.ServerError),
        (418, None, PrimerAPIError),
        (400, "InvalidPaymentStatus", errors.PaymentStateError),
        (400, "PaymentAlreadyAuthorized", errors.PaymentStateError),
        (400, "PaymentIsNotAuthorizedYet", errors.PaymentStateError),
        (400, "IncorrectPaymentAuthorizationType", errors.PaymentStateError),
        (409, "PaymentAlreadyRefunded", errors.PaymentStateError),
        (400, "PaymentError", errors.InvalidRequestError),
        (422, "UnprocessableRefundAmount", errors.InvalidRequestError),
        (404, "PaymentNotFoundError", errors.NotFoundError),
        (404, "EntityNotFound", errors.NotFoundError),
        (500, "InvalidPaymentStatus", errors.ServerError),  # an errorId refines its own statuses only
    ],
)
def test_the_error_id_refines_the_status(status, error_id, expected):
    payload = error_envelope(error_id or "X", "d", "1234567890", "fix it") if error_id else "<html>"
    error = error_from_response(status, payload)
    assert type(error) is expected
    assert error.status_code == status and error.error_id == error_id


def test_the_envelope_round_trips_through_build_and_parse():
    group = validation_group("ClientSessionAPIRequest", [FieldError("$.amount", "must be >= 0")])
    body = error_envelope("RequestValidationError", "bad", "1234567890", "fix $.amount", [group])
    fields = parse_envelope(body)
    assert fields is not None
    assert (fields.error_id, fields.description, fields.diagnostics_id) == (
        "RequestValidationError",
        "bad",
        "1234567890",
    )
    assert field_errors_of(fields.validation_errors) == [FieldError("$.amount", "must be >= 0")]
    assert parse_envelope({"message": "proxy"}) is None and parse_envelope("text") is None
    assert field_errors_of(["a plain string group"]) == [FieldError("$", "a plain string group")]
    raised = error_from_response(422, body, method="POST", url="/client-session")
    assert "$.amount: must be >= 0" in str(raised) and "1234567890" in str(raised)


def test_payment_errors_name_the_payment_and_its_status():
    body = error_envelope("InvalidPaymentStatus", "A payment with status AUTHORIZED cannot be refunded.", "1234567890",
                          "refund needs a payment in status SETTLED")  # fmt: skip
    body["error"].update(paymentId="pay<1>", paymentStatus="AUTHORIZED")
    error = error_from_response(400, body, method="POST", url="/payments/pay%3C1%3E/refund")
    assert isinstance(error, errors.PaymentStateError) and isinstance(error, errors.InvalidRequestError)
    assert (error.payment_id, error.payment_status) == ("pay<1>", "AUTHORIZED")
    assert "payment pay<1> is AUTHORIZED" in str(error)
    assert "<code>pay&lt;1&gt;</code> is <b>AUTHORIZED</b>" in error._repr_html_()
    plain = error_from_response(400, error_envelope("PaymentError", "x", "1234567890"))
    assert plain.payment_id is None and "payment " not in str(plain)
