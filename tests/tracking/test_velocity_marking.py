"""IP velocity's marking (tracking.velocity.mark_velocity) against a direct count: a click is flagged with its
visitor's clicks on the program within the window (stored ones and the batch's earlier ones, itself included)
when they exceed the limit, whatever shortcut the marking takes for visitors that cannot reach it."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracking import velocity

START = datetime(2026, 12, 4, 12, tzinfo=UTC)
LIMITS = {10: (2, timedelta(minutes=10)), 11: (4, timedelta(minutes=3))}  # program 12 checks nothing


def _direct(records: list[dict], stored: dict[tuple, list]) -> list[int]:
    """What each record's velocity_count must be, counted click by click."""
    batch_ids = {r["click_id"] for r in records}
    out = []
    for i, record in enumerate(records):
        key = (record["network_id"], record["program_id"], record["ip_hash"])
        if record["program_id"] not in LIMITS or not record["ip_hash"]:
            out.append(0)
            continue
        limit, window = LIMITS[record["program_id"]]
        at = record["created_at"]
        count = 1 + sum(1 for _link, click_id, t in stored.get(key, ())
                        if click_id not in batch_ids and at - window <= t <= at)
        count += sum(1 for earlier in records[:i]
                     if (earlier["network_id"], earlier["program_id"], earlier["ip_hash"]) == key
                     and at - window <= earlier["created_at"] <= at)
        out.append(count if count > limit else 0)
    return out


clicks = st.lists(st.tuples(st.sampled_from([10, 11, 12]), st.sampled_from(["a", "b", ""]),
                            st.integers(0, 40)), max_size=30)
stored_clicks = st.lists(st.tuples(st.sampled_from([10, 11]), st.sampled_from(["a", "b"]), st.integers(-30, 40),
                                   st.booleans()), max_size=20)


@settings(max_examples=300, deadline=None)
@given(clicks, stored_clicks)
def test_marking_equals_the_direct_count(batch, stored_rows):
    records = [{"click_id": f"C{n:03d}", "network_id": 1, "program_id": program, "ip_hash": visitor,
                "created_at": START + timedelta(minutes=minute)}
               for n, (program, visitor, minute) in enumerate(sorted(batch, key=lambda click: click[2]))]
    stored: dict[tuple, list] = {}
    for n, (program, visitor, minute, redelivered) in enumerate(stored_rows):
        # A stored click may be one of the batch's own, delivered again: it counts once.
        click_id = records[n % len(records)]["click_id"] if redelivered and records else f"S{n:03d}"
        stored.setdefault((1, program, visitor), []).append((7, click_id, START + timedelta(minutes=minute)))
    complete = dict(stored)
    for record in records:  # every visitor of a checked program read whole, as visitor_clicks gives them
        if record["program_id"] in LIMITS and record["ip_hash"]:
            complete.setdefault((1, record["program_id"], record["ip_hash"]), [])
    velocity.mark_velocity(records, limits=LIMITS, complete=complete)
    assert [r["velocity_count"] for r in records] == _direct(records, stored)
