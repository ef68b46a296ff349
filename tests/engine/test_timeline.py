from kiln.engine import timeline
from kiln.store import Row


def _row(plan):
    return Row(arn="a", type="image", name_key="n", name="n", doc={"state": {"status": "PENDING"}},
               status="PENDING", timeline=plan, next_due=timeline.next_due(plan))


def test_plan_seconds_per_state():
    plan = timeline.plan(100.0, 2.0, True, None, {"osVersion": "x"})
    assert plan["steps"] == [["PENDING", 100.0], ["BUILDING", 102.0], ["TESTING", 104.0],
                             ["DISTRIBUTING", 106.0], ["INTEGRATING", 108.0], ["AVAILABLE", 110.0]]


def test_plan_without_tests_and_manual():
    plan = timeline.plan(100.0, None, False, None, {})
    assert [s for s, _ in plan["steps"]] == ["PENDING", "BUILDING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
    assert [d for _, d in plan["steps"]] == [100.0, None, None, None, None]


def test_apply_is_lazy_and_idempotent():
    row = _row(timeline.plan(0.0, 1.0, True, None, {"osVersion": "Amazon Linux 2023"}))
    assert timeline.apply(row, 2.5) and row.status == "TESTING" and row.next_due == 3.0
    assert not timeline.apply(row, 2.9)
    assert timeline.apply(row, 99) and row.status == "AVAILABLE" and row.next_due is None
    assert row.doc["osVersion"] == "Amazon Linux 2023"
    assert not timeline.apply(row, 1000)


def test_fault_in_a_skipped_state_moves_to_the_next():
    plan = timeline.plan(0.0, 1.0, False, ("TESTING", "boom"), {})
    assert plan["fail"] == {"state": "DISTRIBUTING", "reason": "boom"}
    row = _row(plan)
    timeline.apply(row, 100)
    assert row.doc["state"] == {"status": "FAILED", "reason": "boom"} and row.next_due is None


def test_make_due_advances_one_state_at_a_time():
    row = _row(timeline.plan(0.0, None, True, None, {}))
    timeline.make_due(row, 5.0)
    timeline.apply(row, 5.0)
    assert row.status == "BUILDING"
    timeline.apply(row, 1e9)
    assert row.status == "BUILDING"  # manual: nothing else is due until made due


def test_set_fault_uses_the_states_still_ahead():
    tl = timeline.plan(0.0, None, False, None, {})
    timeline.set_fault(tl, "TESTING", "no tests here")      # this build skips TESTING
    assert tl["fail"] == {"state": "DISTRIBUTING", "reason": "no tests here"}
    tl["at"] = 3                                               # now INTEGRATING
    timeline.set_fault(tl, "BUILDING", "too late")             # already left BUILDING
    assert tl["fail"] == {"state": "INTEGRATING", "reason": "too late"}
