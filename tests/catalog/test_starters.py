import pytest

from catalog.models import ResourceType
from catalog.starters import STARTERS, default_code, starters_for


@pytest.mark.parametrize(
    ("resource_type", "handler"),
    [
        (ResourceType.SOURCE, "async function onRequest(request, settings)"),
        (ResourceType.DESTINATION, "async function onTrack(event, settings)"),
        (ResourceType.INSERT_DESTINATION, "async function onTrack(event, settings)"),
    ],
)
def test_each_type_has_a_default_starter_with_its_handler(resource_type, handler):
    starters = starters_for(resource_type)
    assert starters[0].is_default
    assert sum(s.is_default for s in starters) == 1
    assert handler in default_code(resource_type)


def test_destination_default_declares_every_event_handler():
    code = default_code(ResourceType.DESTINATION)
    for handler in [
        "onTrack",
        "onIdentify",
        "onPage",
        "onScreen",
        "onGroup",
        "onAlias",
        "onDelete",
    ]:
        assert f"async function {handler}(event, settings)" in code
    assert "throw new EventNotSupported('identify is not supported')" in code
    assert "@param {SegmentEvent} event" in code


def test_insert_default_returns_every_event():
    code = default_code(ResourceType.INSERT_DESTINATION)
    assert code.count("return event;") == 7


def test_starter_slugs_are_unique():
    slugs = [s.slug for s in STARTERS]
    assert len(slugs) == len(set(slugs))
