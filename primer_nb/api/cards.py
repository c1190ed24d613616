"""Card numbers: the Luhn check, the network a number belongs to, and Primer's sandbox test cards.

Primer's sandbox only takes test card numbers: "For PCI-compliance reasons,
only test card numbers are allowed in Sandbox. A payment will fail if a
non-test card number is used" (Primer Sandbox Processor page). Each test card
leads to one documented outcome: authorized, generic decline, generic fail, or
a 3DS flow (challenge, frictionless success, frictionless failure; Primer's
"Testing 3D Secure" page). :data:`TEST_CARDS` lists them with the page they
come from; :func:`card_scenario` says what any number will do.

Nothing here keeps a card number: callers derive the public parts
(:func:`public_card`) and the scenario at tokenization and drop the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "SANDBOX_PROCESSOR_PAGE",
    "TEST_CARDS",
    "TEST_CARD_NAMES",
    "THREE_DS_PAGE",
    "CardScenario",
    "PublicCard",
    "TestCard",
    "ThreeDSOutcome",
    "card_instrument",
    "card_network",
    "card_scenario",
    "expiry_problem",
    "luhn_valid",
    "network_display_name",
    "public_card",
    "resolve_card_number",
]

SANDBOX_PROCESSOR_PAGE = "https://primer.io/docs/testing/primer-sandbox-processor"
THREE_DS_PAGE = "https://primer.io/docs/testing/3d-secure"

Authorization = Literal["AUTHORIZED", "DECLINED", "FAILED"]
ThreeDSOutcome = Literal["CHALLENGE", "FRICTIONLESS_SUCCESS", "FRICTIONLESS_FAILURE"]
Funding = Literal["CREDIT", "DEBIT", "UNKNOWN"]


@dataclass(frozen=True)
class TestCard:
    """One of Primer's sandbox test cards and what it does."""

    __test__ = False  # not a pytest test class, whatever its name says

    number: str
    networks: tuple[str, ...]
    """Card networks, the first being the default (co-badged cards have two)."""
    authorization: Authorization
    """What the sandbox processor answers when asked to authorize."""
    three_ds: ThreeDSOutcome | None
    """What the 3DS provider does with the card, when 3DS is performed."""
    funding: Funding
    scenario: str
    source: str


def _card(
    number: str,
    networks: tuple[str, ...],
    authorization: Authorization,
    scenario: str,
    source: str,
    *,
    three_ds: ThreeDSOutcome | None = None,
    funding: Funding = "UNKNOWN",
) -> TestCard:
    return TestCard(number, networks, authorization, three_ds, funding, scenario, source)


_VISA, _MC, _CB = ("VISA",), ("MASTERCARD",), ("CARTES_BANCAIRES",)
_SANDBOX = SANDBOX_PROCESSOR_PAGE

TEST_CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        _card("4111111111111111", _VISA, "AUTHORIZED", "Success", SANDBOX_PROCESSOR_PAGE, funding="DEBIT"),
        _card("4242424242424242", _VISA, "AUTHORIZED", "Success", SANDBOX_PROCESSOR_PAGE, funding="CREDIT"),
        _card("5252525252525258", _MC, "AUTHORIZED", "Success", SANDBOX_PROCESSOR_PAGE, funding="DEBIT"),
        _card("5555555555554444", _MC, "AUTHORIZED", "Success", SANDBOX_PROCESSOR_PAGE, funding="CREDIT"),
        _card("4035500000000000", ("VISA", *_CB), "AUTHORIZED", "Success (co-badged)", _SANDBOX),
        _card("5132000000000000", ("MASTERCARD", *_CB), "AUTHORIZED", "Success (co-badged)", _SANDBOX),
        _card("4970000000000008", _CB, "AUTHORIZED", "Success", SANDBOX_PROCESSOR_PAGE),
        _card("4000000000000002", _VISA, "DECLINED", "Generic decline", SANDBOX_PROCESSOR_PAGE),
        _card("5100000000000008", _MC, "DECLINED", "Generic decline", SANDBOX_PROCESSOR_PAGE),
        # Also the 3DS page's "frictionless successful" card for iOS and Android: both
        # pages hold, 3DS passes without a challenge and then the processor fails it.
        _card("4000000000000010", _VISA, "FAILED", "Generic fail", SANDBOX_PROCESSOR_PAGE,
              three_ds="FRICTIONLESS_SUCCESS"),
        _card("5100000000000016", _MC, "FAILED", "Generic fail", SANDBOX_PROCESSOR_PAGE),
        _card("4916994064252017", _VISA, "AUTHORIZED", "3DS challenge (web)", THREE_DS_PAGE,
              three_ds="CHALLENGE"),
        _card("4000000000000051", _VISA, "AUTHORIZED", "3DS challenge (iOS, Android)", THREE_DS_PAGE,
              three_ds="CHALLENGE"),
        _card("5306889942833340", _MC, "AUTHORIZED", "3DS challenge (web)", THREE_DS_PAGE,
              three_ds="CHALLENGE"),
        _card("5267648608924299", _MC, "AUTHORIZED", "3DS challenge (iOS, Android)", THREE_DS_PAGE,
              three_ds="CHALLENGE"),
        _card("4929251897047956", _VISA, "AUTHORIZED", "3DS frictionless success (web)", THREE_DS_PAGE,
              three_ds="FRICTIONLESS_SUCCESS"),
        _card("5512459816707531", _MC, "AUTHORIZED", "3DS frictionless success (web)", THREE_DS_PAGE,
              three_ds="FRICTIONLESS_SUCCESS"),
        _card("5333259155643223", _MC, "AUTHORIZED", "3DS frictionless success (iOS, Android)",
              THREE_DS_PAGE, three_ds="FRICTIONLESS_SUCCESS"),
        _card("4716429323842524", _VISA, "AUTHORIZED", "3DS frictionless failure (web)", THREE_DS_PAGE,
              three_ds="FRICTIONLESS_FAILURE"),
        _card("4000000000000044", _VISA, "AUTHORIZED", "3DS frictionless failure (iOS, Android)",
              THREE_DS_PAGE, three_ds="FRICTIONLESS_FAILURE"),
        _card("5487971631330522", _MC, "AUTHORIZED", "3DS frictionless failure (web)", THREE_DS_PAGE,
              three_ds="FRICTIONLESS_FAILURE"),
        _card("5328720384582224", _MC, "AUTHORIZED", "3DS frictionless failure (iOS, Android)",
              THREE_DS_PAGE, three_ds="FRICTIONLESS_FAILURE"),
    )
}  # fmt: skip
"""Primer's sandbox test cards by number (CVV: any 3 digits; expiry: any future date)."""


TEST_CARD_NAMES: dict[str, str] = {
    "success": "4111111111111111",
    "decline": "4000000000000002",
    "failure": "5100000000000016",
    "3ds-challenge": "4000000000000051",
    "3ds-frictionless": "5333259155643223",
    "3ds-failure": "4000000000000044",
}
"""Short names for one test card of each outcome (``card="decline"`` wherever the kit takes a card).

The 3DS cards behave as named only when 3DS runs (the dashboard enables it and
the payment's customer has an email address and a billing address); otherwise
they authorize like ``success``.
"""


def resolve_card_number(card: str) -> str:
    """A card number from a name of :data:`TEST_CARD_NAMES` (``"3ds"`` is ``"3ds-challenge"``) or a number.

    Spaces and dashes in a number are dropped; anything else is returned as given,
    for the tokenization's validation to judge.
    """
    name = card.strip().lower()
    if name == "3ds":
        name = "3ds-challenge"
    if name in TEST_CARD_NAMES:
        return TEST_CARD_NAMES[name]
    return card.replace(" ", "").replace("-", "")


def card_instrument(card: str, today: date, cardholder_name: str | None = None) -> dict[str, str]:
    """A ``paymentInstrument`` for a test card name or number: CVV ``123``, expiry December in three years.

    Primer's sandbox takes any 3-digit CVV and any future expiry date.
    """
    instrument = {
        "number": resolve_card_number(card),
        "cvv": "123",
        "expirationMonth": "12",
        "expirationYear": str(today.year + 3),
    }
    if cardholder_name:
        instrument["cardholderName"] = cardholder_name
    return instrument


@dataclass(frozen=True)
class CardScenario:
    """What a card number will do in the sandbox; stored with a payment method token instead of the number."""

    authorization: Literal["AUTHORIZED", "DECLINED", "FAILED", "NOT_A_TEST_CARD"]
    three_ds: ThreeDSOutcome | None = None

    def as_json(self) -> dict[str, str | None]:
        """The scenario as JSON (for storage)."""
        return {"authorization": self.authorization, "threeDS": self.three_ds}

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> CardScenario:
        """Read back :meth:`as_json`."""
        return cls(data["authorization"], data.get("threeDS"))  # type: ignore[arg-type]


def card_scenario(number: str) -> CardScenario:
    """What the sandbox does with ``number``: a test card's outcome, or a failure for any other card."""
    card = TEST_CARDS.get(number)
    if card is None:
        return CardScenario("NOT_A_TEST_CARD")
    return CardScenario(card.authorization, card.three_ds)


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits only) passes the Luhn checksum."""
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# (network, lowest prefix, highest prefix), compared on the number's first digits.
_RANGES: tuple[tuple[str, int, int], ...] = (
    ("AMEX", 34, 34), ("AMEX", 37, 37),
    ("MIR", 2200, 2204),
    ("MASTERCARD", 2221, 2720), ("MASTERCARD", 51, 55),
    ("DINERS_CLUB", 300, 305), ("DINERS_CLUB", 36, 36), ("DINERS_CLUB", 38, 39),
    ("JCB", 3528, 3589),
    ("DISCOVER", 6011, 6011), ("DISCOVER", 644, 649), ("DISCOVER", 65, 65),
    ("UNIONPAY", 62, 62),
    ("MAESTRO", 50, 50), ("MAESTRO", 56, 58), ("MAESTRO", 6304, 6304), ("MAESTRO", 6759, 6759),
    ("VISA", 4, 4),
)  # fmt: skip


def card_network(number: str) -> str:
    """The card network of ``number`` from its leading digits (``CardNetworkEnum``; ``OTHER`` if unknown)."""
    card = TEST_CARDS.get(number)
    if card is not None:
        return card.networks[0]
    for network, low, high in _RANGES:
        width = len(str(low))
        if len(number) >= width and low <= int(number[:width]) <= high:
            return network
    return "OTHER"


_DISPLAY = {
    "VISA": "Visa", "MASTERCARD": "Mastercard", "AMEX": "American Express", "DISCOVER": "Discover",
    "DINERS_CLUB": "Diners Club", "JCB": "JCB", "MAESTRO": "Maestro", "UNIONPAY": "UnionPay",
    "MIR": "Mir", "CARTES_BANCAIRES": "Cartes Bancaires", "OTHER": "Other",
}  # fmt: skip


def network_display_name(network: str) -> str:
    """The human name Primer returns in ``paymentMethodData.network`` (``"Visa"`` for ``VISA``)."""
    return _DISPLAY.get(network, network.replace("_", " ").title())


def expiry_problem(month: int, year: int, today: date) -> str | None:
    """Why an expiry date cannot be used on ``today``, or ``None`` (a card is good to its month's end)."""
    if not 1 <= month <= 12:
        return f"the expiry month must be 01 to 12, got {month:02d}"
    if (year, month) < (today.year, today.month):
        return f"the card expired at the end of {month:02d}/{year}; use a future expiry date (any will do)"
    return None


@dataclass(frozen=True)
class PublicCard:
    """What Primer returns about a tokenized card: never the number or the CVV."""

    first6: str
    last4: str
    network: str
    expiration_month: str
    expiration_year: str
    cardholder_name: str | None
    funding: Funding

    def payment_method_data(self) -> dict[str, object]:
        """``paymentMethodData`` / ``paymentInstrumentData`` as Primer writes it (strings, binData)."""
        data: dict[str, object] = {
            "first6Digits": self.first6,
            "last4Digits": self.last4,
            "expirationMonth": self.expiration_month,
            "expirationYear": self.expiration_year,
        }
        if self.cardholder_name:
            data["cardholderName"] = self.cardholder_name
        data["network"] = network_display_name(self.network)
        data["isNetworkTokenized"] = False
        data["binData"] = {
            "network": self.network,
            "regionalRestriction": "UNKNOWN",
            "accountNumberType": "PRIMARY_ACCOUNT_NUMBER",
            "accountFundingType": self.funding,
            "prepaidReloadableIndicator": "NOT_APPLICABLE",
            "productUsageType": "UNKNOWN",
            "productCode": self.network,
            "productName": self.network,
        }
        return data


def public_card(
    number: str,
    expiration_month: str,
    expiration_year: str,
    cardholder_name: str | None = None,
    preferred_network: str | None = None,
) -> PublicCard:
    """The public parts of a card; ``preferred_network`` picks a co-badged card's second network."""
    card = TEST_CARDS.get(number)
    network = card_network(number)
    if card is not None and preferred_network in card.networks:
        network = preferred_network
    return PublicCard(
        first6=number[:6],
        last4=number[-4:],
        network=network,
        expiration_month=expiration_month,
        expiration_year=expiration_year,
        cardholder_name=cardholder_name,
        funding=card.funding if card is not None else "UNKNOWN",
    )
