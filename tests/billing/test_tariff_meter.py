"""Tariff plans and the meter: units at their edges, amounts, caps, configuration errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from videotex.billing import DEFAULT_PLAN, Meter, TariffBook, TariffError, TariffPlan

UNIT = float(DEFAULT_PLAN.unit_seconds or 0)


def test_default_plan_is_a_3615_kiosque() -> None:
    assert DEFAULT_PLAN.price_per_minute == Decimal("0.34")
    assert DEFAULT_PLAN.unit_price == Decimal("0.113")
    assert round(UNIT, 2) == 19.94  # 0.113 / 0.34 × 60


@pytest.mark.parametrize(("seconds", "units"), [
    (0.0, 1), (UNIT - 0.001, 1), (UNIT, 2), (UNIT + 0.001, 2), (2 * UNIT, 3), (60.0, 4),
])
def test_a_unit_is_due_as_soon_as_it_starts(seconds: float, units: int) -> None:
    m = Meter(DEFAULT_PLAN, 100.0)
    assert m.units(100.0 + seconds) == units
    expected = DEFAULT_PLAN.connection_charge + units * DEFAULT_PLAN.unit_price
    assert m.amount(100.0 + seconds) == expected.quantize(Decimal("0.01"))


def test_next_change_is_the_next_unit_boundary() -> None:
    m = Meter(DEFAULT_PLAN, 0.0)
    assert m.next_change(0.0) == pytest.approx(UNIT)
    assert m.next_change(UNIT + 1) == pytest.approx(2 * UNIT)


def test_stop_freezes_the_meter() -> None:
    m = Meter(DEFAULT_PLAN, 0.0)
    m.stop(30.0)
    assert m.final_units == 2
    assert m.units(1000.0) == 2 and m.duration(1000.0) == 30.0


def test_one_off_charges_add_to_the_amount() -> None:
    plan = TariffPlan(name="web", price_per_minute=Decimal(0), per_consultation=True,
                      connection_charge=Decimal(0))
    m = Meter(plan, 0.0)
    assert m.amount(500.0) == Decimal("0.00") and m.units(500.0) == 0
    m.charge(Decimal("3.00"))
    assert m.amount(500.0) == Decimal("3.00")


def test_caps_on_length_and_amount_warn_then_end() -> None:
    m = Meter(TariffPlan(cap_seconds=Decimal(600), warn_before=Decimal(60)), 0.0)
    assert m.cap(100.0)[0] == "none"
    assert m.cap(550.0) == ("warning", 50.0)
    assert m.cap(600.0)[0] == "reached"
    m = Meter(TariffPlan(cap_amount=Decimal("1.00")), 0.0)
    # 0.018 + n × 0.113 <= 1.00 → 8 units fit: the 9th would start at 8 units' time
    assert m.cap_end() == pytest.approx(8 * UNIT)


def test_book_routes_plans_by_access_code_and_channel() -> None:
    book = TariffBook.from_config({
        "plans": {"web": {"per_consultation": True, "price_per_minute": 0}},
        "routes": [{"channel": "ws", "plan": "web"}],
    })
    assert book.plan_for("3615 EXAMENS", "ws").name == "web"
    assert book.plan_for("3615 EXAMENS", "telnet").name == "kiosque"


@pytest.mark.parametrize(("table", "message"), [
    ({"plans": {"cher": {"price_per_minute": -1}}}, r"\[billing.plans.cher\] price_per_minute: must be >= 0"),
    ({"plans": {"cher": {"vat_rate": 1.5}}}, r"\[billing.plans.cher\] vat_rate: must be a fraction"),
    ({"plans": {"cher": {"prix": 1}}}, r"\[billing.plans.cher\] prix: unknown field"),
    ({"plans": {"cher": {"price_per_minute": "beaucoup"}}}, r"price_per_minute: must be a number"),
    ({"plans": {"gratuit": {"price_per_minute": 0}}}, r"\[billing.plans.gratuit\] price_per_minute: must be > 0"),
    ({"plans": {"web": {"repurchase_views": 0, "per_consultation": True}}}, r"repurchase_views"),
    ({"routes": [{"channel": "ws", "plan": "nope"}]}, r"no plan named 'nope'"),
    ({"tarifs": {}}, r"\[billing\] tarifs: unknown key"),
])
def test_bad_configuration_names_plan_and_field(table: dict, message: str) -> None:
    with pytest.raises(TariffError, match=message):
        TariffBook.from_config(table)
