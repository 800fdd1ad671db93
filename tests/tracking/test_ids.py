from datetime import UTC, datetime

import pytest

from tracking.ids import click_id_time, is_click_id, new_click_id


def test_click_id_is_a_26_character_crockford_ulid():
    click_id = new_click_id()
    assert len(click_id) == 26 and is_click_id(click_id)
    assert not set(click_id) & set("ILOU")


def test_click_id_carries_its_millisecond():
    ms = 1_790_000_000_123
    assert click_id_time(new_click_id(now_ms=ms)) == datetime.fromtimestamp(ms / 1000, tz=UTC)


def test_click_ids_sort_by_time_and_do_not_repeat():
    earlier = [new_click_id(now_ms=1_790_000_000_000) for _ in range(500)]
    later = new_click_id(now_ms=1_790_000_000_001)
    assert len(set(earlier)) == 500
    assert max(earlier) < later


@pytest.mark.parametrize("value", [
    "", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "01arz3ndektsv4rrffq69g5fav",
    "01ARZ3NDEKTSV4RRFFQ69G5FAI", "81ARZ3NDEKTSV4RRFFQ69G5FAV", None, 12345, "01ARZ3NDEK-SV4RRFFQ69G5FAV",
])
def test_malformed_click_ids_are_refused(value):
    assert not is_click_id(value)
    with pytest.raises(ValueError):
        click_id_time(value)


def test_known_ulid_decodes():
    assert is_click_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert click_id_time("01ARZ3NDEKTSV4RRFFQ69G5FAV") == datetime(2016, 7, 30, 23, 54, 10, 259000, tzinfo=UTC)


def test_forked_child_does_not_repeat_its_parents_random_bits():
    import os

    new_click_id()  # the parent holds unused random bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_click_id(now_ms=1).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 26).decode()
    assert child != new_click_id(now_ms=1)


def test_ids_of_one_process_strictly_increase_even_within_a_millisecond(monkeypatch):
    import time

    from tracking import ids

    monkeypatch.setattr(ids, "_newest", [-1, 0])  # this test's ids do not bind the ones made after it
    # Every id below in the same millisecond (time_ns), a day ahead of any id this process made before.
    frozen = (time.time_ns() // 1_000_000 + 86_400_000) * 1_000_000
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    made = [new_click_id() for _ in range(2000)]
    assert made == sorted(made) and len(set(made)) == 2000
    assert {click_id_time(i) for i in made} == {datetime.fromtimestamp(frozen // 10**6 / 1000, tz=UTC)}
    steps = {int(b[10:].translate(ids._TO_BASE32), 32) - int(a[10:].translate(ids._TO_BASE32), 32)
             for a, b in zip(made, made[1:], strict=False)}
    assert len(steps) > 1900  # random steps, not +1: the next id is not guessable from the last

    monkeypatch.setattr(time, "time_ns", lambda: frozen - 5_000_000)  # the clock steps back 5 ms: order kept
    assert new_click_id() > made[-1]
    monkeypatch.setattr(time, "time_ns", lambda: frozen - 3_600_000_000_000)  # back an hour: the time wins
    assert click_id_time(new_click_id()) == datetime.fromtimestamp((frozen // 10**6 - 3_600_000) / 1000, tz=UTC)
