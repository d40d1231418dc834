"""Tariff plans and the meter: units at their edges, amounts, caps, configuration errors."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.billing import DEFAULT_PLAN, Meter, TariffBook, TariffError, TariffPlan
from videotex.billing.meter import units_for

UNIT = float(DEFAULT_PLAN.unit_seconds or 0)
UNIT_MS = DEFAULT_PLAN.unit_millis or Decimal(0)  # 19941.17647... ms


def test_default_plan_is_a_3615_kiosque() -> None:
    assert DEFAULT_PLAN.price_per_minute == Decimal("0.34")
    assert DEFAULT_PLAN.unit_price == Decimal("0.113")
    assert DEFAULT_PLAN.vat_rate == Decimal("0.196")
    assert round(UNIT, 2) == 19.94  # 0.113 / 0.34 × 60
    assert (DEFAULT_PLAN.consultation_price, DEFAULT_PLAN.repurchase_price,
            DEFAULT_PLAN.repurchase_views) == (Decimal(3), Decimal(3), 5)


@pytest.mark.parametrize(("millis", "units"), [
    (0, 1),          # the first unit starts at connection
    (1, 1),
    (19941, 1),      # 19.941 s: still inside the first unit (19.94117... s)
    (19942, 2),      # the second unit has started
    (39882, 2),      # 2 units = 39882.35 ms
    (39883, 3),
    (60000, 4),      # one minute: 3.0088 units → 4
    (59823, 3),      # 3 units = 59823.53 ms
    (59824, 4),
])
def test_units_are_the_ceiling_of_duration_over_unit(millis: int, units: int) -> None:
    m = Meter(DEFAULT_PLAN, 100.0)
    assert m.units(100.0 + millis / 1000) == units
    expected = DEFAULT_PLAN.connection_charge + units * DEFAULT_PLAN.unit_price
    assert m.amount(100.0 + millis / 1000) == expected.quantize(Decimal("0.01"))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10 * 3600 * 1000))
def test_units_match_exact_ceiling(millis: int) -> None:
    exact = Decimal(millis) / UNIT_MS
    assert units_for(DEFAULT_PLAN, millis) == math.ceil(exact)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-5, max_value=10 * 3600, allow_nan=False))
def test_units_in_is_units_at_the_metered_millis(elapsed: float) -> None:
    free = TariffPlan(per_consultation=True, price_per_minute=Decimal(0))
    for plan in (DEFAULT_PLAN, free):
        m = Meter(plan, 1000.0)
        assert m.units_in(m.millis(1000.0 + elapsed)) == m.units(1000.0 + elapsed)


def test_amounts_read_like_the_status_row() -> None:
    m = Meter(DEFAULT_PLAN, 0.0)
    assert str(m.amount(0.0)) == "0.13"       # 0.018 + 0.113 = 0.131
    assert str(m.amount(30.0)) == "0.24"      # 0.018 + 2 × 0.113 = 0.244
    assert str(m.amount(600.0)) == "3.52"     # 31 units: 0.018 + 3.503 = 3.521
    assert m.exact_amount(600.0) == Decimal("0.018") + 31 * Decimal("0.113")


def test_next_change_is_the_first_millisecond_of_the_next_unit() -> None:
    m = Meter(DEFAULT_PLAN, 50.0)
    t = m.next_change(50.0)
    assert t == pytest.approx(50.0 + 19.942)
    assert m.units(t) == 2 and m.units(t - 0.001) == 1
    t2 = m.next_change(t)
    assert t2 > t and m.units(t2) == 3 and m.units(t2 - 0.001) == 2
    m.stop(70.0)
    assert m.next_change(80.0) == math.inf


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=36000, allow_nan=False))
def test_next_change_is_always_later_and_changes_the_units(elapsed: float) -> None:
    m = Meter(DEFAULT_PLAN, 1000.0)
    now = 1000.0 + elapsed
    t = m.next_change(now)
    assert t > now
    assert m.units(t) == m.units(now) + 1


def test_stop_freezes_the_meter() -> None:
    m = Meter(DEFAULT_PLAN, 0.0)
    m.stop(30.0)
    assert m.final_units == 2 and m.final_amount == Decimal("0.24")
    assert m.units(1000.0) == 2 and m.duration(1000.0) == 30.0


def test_one_off_charges_add_to_the_amount() -> None:
    plan = TariffPlan(name="web", price_per_minute=Decimal(0), per_consultation=True,
                      connection_charge=Decimal(0))
    m = Meter(plan, 0.0)
    assert m.amount(500.0) == Decimal("0.00") and m.units(500.0) == 0
    assert m.next_change(500.0) == math.inf
    m.charge(Decimal("3.00"), "consultation")
    assert m.amount(500.0) == Decimal("3.00") and m.charges == [("consultation", Decimal(3))]
    with pytest.raises(ValueError, match="must be a Decimal amount >= 0"):
        m.charge(Decimal(-1))


def test_caps_on_length_and_amount_warn_then_end() -> None:
    m = Meter(TariffPlan(cap_seconds=Decimal(600), warn_before_s=Decimal(60)), 0.0)
    assert m.cap(100.0)[0] == "none"
    assert m.cap(550.0) == ("warning", 50.0)
    assert m.cap(600.0) == ("reached", 0.0)
    m = Meter(TariffPlan(cap_amount=Decimal("1.00")), 0.0)
    # 0.018 + n × 0.113 <= 1.00 → 8 units fit; the call may last as long as 8 units do
    end = m.cap_end()
    assert end == pytest.approx(8 * UNIT, abs=0.001)
    assert m.units(end) == 8 and m.amount(end) <= Decimal("1.00")
    assert m.units(end + 0.001) == 9  # one millisecond more would pass the cap
    assert m.cap(end - 30)[0] == "warning" and m.cap(end)[0] == "reached"
    # a purchase leaves less room under the amount cap
    m.charge(Decimal("0.50"))
    assert m.cap_end() == pytest.approx(4 * UNIT, abs=0.001)


def test_wall_clock_plays_no_part_in_the_meter() -> None:
    from datetime import timedelta

    from videotex.teletel import FakeClock

    clock = FakeClock()
    m = Meter(DEFAULT_PLAN, clock.monotonic())
    clock.advance(15)
    clock.jump_wall(timedelta(hours=-2))  # an NTP step backwards
    clock.advance(10)
    assert m.duration(clock.monotonic()) == 25.0 and m.units(clock.monotonic()) == 2


def test_book_routes_plans_by_access_code_and_channel() -> None:
    book = TariffBook.from_config({
        "checkpoint_every": 5,
        "plans": {"web": {"per_consultation": True, "price_per_minute": 0},
                  "pro": {"price_per_minute": 0.85, "warn_before": 30}},
        "routes": [{"channel": "ws", "plan": "web"},
                   {"access_code": "3617 EXAMENS", "plan": "pro"}],
    })
    assert book.plan_for("3615 EXAMENS", "ws").name == "web"
    assert book.plan_for("3615 EXAMENS", "telnet").name == "kiosque"
    pro = book.plan_for("3617 EXAMENS", "telnet")
    assert pro.name == "pro" and pro.warn_before_s == 30 == pro.warn_before
    assert book.checkpoint_every == 5.0
    assert TariffBook.from_config({}).plan_for("x", "y") == DEFAULT_PLAN


@pytest.mark.parametrize(("table", "message"), [
    ({"plans": {"kiosque": {"price_per_minute": -1}}},
     r"^\[billing.plans.kiosque\] price_per_minute: must be >= 0, not -1$"),
    ({"plans": {"cher": {"vat_rate": 1.5}}}, r"\[billing.plans.cher\] vat_rate: must be a fraction"),
    ({"plans": {"cher": {"prix": 1}}}, r"\[billing.plans.cher\] prix: unknown field"),
    ({"plans": {"cher": {"price_per_minute": "beaucoup"}}},
     r"\[billing.plans.cher\] price_per_minute: must be a number, not 'beaucoup'"),
    ({"plans": {"cher": {"unit_price": True}}}, r"\[billing.plans.cher\] unit_price: must be a number"),
    ({"plans": {"cher": {"cap_amount": "nan"}}}, r"\[billing.plans.cher\] cap_amount: must be >= 0"),
    ({"plans": {"cher": {"unit_price": 0}}}, r"\[billing.plans.cher\] unit_price: must be > 0"),
    ({"plans": {"gratuit": {"price_per_minute": 0}}},
     r"\[billing.plans.gratuit\] price_per_minute: must be > 0"),
    ({"plans": {"web": {"repurchase_views": 0, "per_consultation": True}}},
     r"\[billing.plans.web\] repurchase_views: must be a whole number >= 1, not 0"),
    ({"plans": {"web": {"per_consultation": "oui"}}}, r"\[billing.plans.web\] per_consultation"),
    ({"plans": {"web": 3}}, r"\[billing.plans.web\]: must be a table"),
    ({"routes": [{"channel": "ws", "plan": "nope"}]}, r"routes\]\] #1 plan: no plan named 'nope'"),
    ({"routes": [{"channel": "ws"}]}, r"routes\]\] #1: needs a plan"),
    ({"routes": {"plan": "kiosque"}}, r"\[billing\] routes: must be an array"),
    ({"default": "nope"}, r"\[billing\] default: no plan named 'nope'"),
    ({"checkpoint_every": 60}, r"\[billing\] checkpoint_every: .* at most 10, not 60"),
    ({"checkpoint_every": 0}, r"\[billing\] checkpoint_every"),
    ({"enabled": "yes"}, r"\[billing\] enabled: must be true or false"),
    ({"tarifs": {}}, r"\[billing\] tarifs: unknown key"),
])
def test_bad_configuration_names_plan_and_field(table: dict, message: str) -> None:
    with pytest.raises(TariffError, match=message):
        TariffBook.from_config(table)
