import pytest

from versioning.ids import ID_LENGTH, is_version_id, new_version_id, version_id_time


def test_ids_are_27_base62_characters():
    version_id = new_version_id()
    assert len(version_id) == ID_LENGTH == 27
    assert version_id.isalnum()
    assert is_version_id(version_id)


def test_ids_sort_by_time_even_within_one_second():
    times = [1_700_000_000.0 + step / 1000 for step in range(0, 3000, 7)]
    ids = [new_version_id(now) for now in times]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_id_time_round_trips_to_the_millisecond():
    assert version_id_time(new_version_id(1_763_000_000.25)) == pytest.approx(1_763_000_000.25)


@pytest.mark.parametrize(
    "value",
    ["", "short", "2Ma03fahSqLoEzQfV5o2aSfVEH!", "2Ma03fahSqLoEzQfV5o2aSfVEHsX", "z" * 27],
)
def test_malformed_ids_are_not_version_ids(value):
    assert is_version_id(value) is False


def test_segment_example_id_has_the_shape():
    assert is_version_id("2Ma03fahSqLoEzQfV5o2aSfVEHs")
