"""Expectations: subset matching, ignored paths, and what a failure says."""

from __future__ import annotations

from functions_ui.suites.expectations import check, checked, expectation_from


def observed(**aspects):
    return {
        "outcome": aspects.pop("outcome", {"status": "success"}),
        "events": aspects.pop("events", []),
        "objects": aspects.pop("objects", []),
        "returned": aspects.pop("returned", None),
        "console": [],
        "requests": aspects.pop("requests", []),
    }


def test_an_expected_object_is_a_subset_and_lists_match_item_by_item():
    run = observed(events=[{"type": "track", "event": "A", "properties": {"plan": "pro", "n": 1}}])
    assert check({"events": [{"event": "A", "properties": {"plan": "pro"}}]}, run) == []
    assert check({"events": [{"properties": {"plan": "free"}}]}, run) == [
        'events[0].properties.plan: expected "free", got "pro"'
    ]
    assert check({"events": [{}, {}]}, run) == ["events: expected 2 items, got 1"]
    assert check({"events": [{"userId": "u1"}]}, run) == [
        'events[0].userId: missing (expected "u1")'
    ]


def test_ignored_paths_leave_volatile_values_out_on_both_sides():
    run = observed(events=[{"event": "A", "properties": {"at": 1700000000}}])
    expect = {"events": [{"event": "A", "properties": {"at": 1}}]}
    assert check(expect, run) == ["events[0].properties.at: expected 1, got 1700000000"]
    assert check({**expect, "ignore": ["events.*.properties.at"]}, run) == []


def test_status_and_error_class_and_json_request_bodies():
    run = observed(
        outcome={"status": "message_rejected", "error": "ValidationError: no plan"},
        requests=[{"method": "POST", "url": "https://x.test/a", "body": '{"a": 1, "b": 2}'}],
    )
    assert check({"status": "message_rejected", "error": "ValidationError"}, run) == []
    assert check({"status": "success"}, run) == [
        "status: expected success, got message_rejected (ValidationError: no plan)"
    ]
    assert check({"requests": [{"method": "POST", "body": {"a": 1}}]}, run) == []
    assert check({"requests": [{"body": {"a": 2}}]}, run) == [
        "requests[0].body.a: expected 2, got 1"
    ]


def test_the_expectation_from_a_run_holds_what_it_did():
    run = observed(
        events=[{"event": "A"}],
        requests=[{"method": "GET", "url": "https://x.test/", "body": "plain"}],
    )
    expect = expectation_from(run)
    assert expect == {
        "status": "success",
        "events": [{"event": "A"}],
        "requests": [{"method": "GET", "url": "https://x.test/", "body": "plain"}],
    }
    assert check(expect, run) == []


def test_a_test_without_expectations_passes_only_a_run_that_succeeds():
    thrown = observed(outcome={"status": "bad_request", "error": "Error: broken"})
    for smoke in ({}, None, {"ignore": ["events.*.timestamp"]}):
        assert check(smoke, observed()) == []
        assert check(smoke, observed(outcome={"status": "dropped"})) == []  # an insert's filter
        assert check(smoke, thrown) == [
            "expected the run to succeed, got bad_request (Error: broken); write an expected "
            'error as an expectation ("status", "error")'
        ]
        assert check(smoke, observed(outcome={"status": "timeout"}))[0].startswith(
            "expected the run to succeed, got timeout"
        )
    # An error the test expects is written as an expectation, and then passes.
    assert check({"status": "bad_request", "error": "Error"}, thrown) == []


def test_what_a_test_checked_is_said_in_words():
    for smoke in ({}, None, {"ignore": ["a"]}):
        assert (checked(smoke), checked(smoke, passed=True)) == (
            "must run without error",
            "ran without error",
        )
    assert checked({"status": "success"}, passed=True) == "matched 1 expectation (status)"
    assert checked({"events": [], "status": "success", "requests": []}) == (
        "checks 3 expectations (status, events, requests)"
    )
