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
