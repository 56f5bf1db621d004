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


LIBRARY_STARTERS = [s for s in STARTERS if s.payloads]
# What each library starter's payloads must end in: every one runs without a crash, and those
# that show a refusal refuse on purpose.
EXPECTED_STATUS = {"destination-hubspot/No e-mail": "message_rejected"}


def test_there_are_at_least_twelve_starters_and_each_new_one_brings_test_payloads():
    assert len(STARTERS) >= 12
    assert len(LIBRARY_STARTERS) >= 9
    kinds = {s.resource_type for s in LIBRARY_STARTERS}
    assert kinds == {ResourceType.SOURCE, ResourceType.DESTINATION, ResourceType.INSERT_DESTINATION}


@pytest.mark.parametrize("starter", LIBRARY_STARTERS, ids=lambda s: s.slug)
def test_each_starter_checks_clean_and_runs_its_payloads(starter):
    from catalog.kinds import kind_of
    from functions_ui.runtime import MockResponse, RunOptions, check_code, run_function
    from functions_ui.suites.behaviour import runtime_payload

    slug = kind_of(starter.resource_type).slug
    assert check_code(code=starter.code, function_type=slug) == []
    # Each setting's example (a made-up key where it has none: fetch is mocked anyway).
    settings = {s["name"]: s.get("example", "k-us21") for s in starter.settings}
    if "events" in settings:
        settings["events"] = []  # every event
    for name, data in starter.payloads:
        result = run_function(
            code=starter.code,
            function_type=slug,
            payload=runtime_payload(slug, data),
            settings=settings,
            options=RunOptions(mock_fetch=True, mock_response=MockResponse(status=200, body="{}")),
        )
        expected = EXPECTED_STATUS.get(f"{starter.slug}/{name}", "success")
        assert result.status == expected, (name, result.error)
        if slug == "source":
            assert result.events, name  # a source's sample emits something
