from __future__ import annotations

from chalicelib.domain.ids import is_id, new_id


def test_ids_sort_by_creation_time_and_do_not_repeat() -> None:
    ids = [new_id(now_ms=1_700_000_000_000 + i) for i in range(1000)]
    assert ids == sorted(ids)
    assert len({new_id(now_ms=1) for _ in range(1000)}) == 1000  # 80 random bits per id
    assert all(is_id(i) for i in ids)


def test_is_id_rejects_other_shapes() -> None:
    assert not is_id("../../etc/passwd")
    assert not is_id("01ARZ3NDEKTSV4RRFFQ69G5FA")  # 25 characters
    assert not is_id("01ARZ3NDEKTSV4RRFFQ69G5FAU")  # U is not Crockford base32
