import pytest
from django.core.cache import cache
from django.http import Http404

from tests.factories import make_function
from versioning import selectors
from versioning.diffing import DiffOptions
from versioning.selectors import SettingChange, settings_schema_diff
from versioning.services import version_mark_deployed, version_save

pytestmark = pytest.mark.django_db


def saved(function, *codes):
    return [
        version_save(function=function, user=None, code=code, base_version_id=None)
        for code in codes
    ]


def test_history_is_newest_first_and_paginated(workspace):
    function = make_function(workspace=workspace, code="0\n")
    saved(function, *(f"{n}\n" for n in range(1, selectors.HISTORY_PAGE_SIZE + 5)))
    page = selectors.version_list_for_function(function=function, page=1)
    assert [v.number for v in page][:3] == [25, 24, 23]
    assert len(page) == selectors.HISTORY_PAGE_SIZE
    last = selectors.version_list_for_function(function=function, page=2)
    assert [v.number for v in last] == [5, 4, 3, 2, 1]


def test_latest_and_deployed(workspace):
    function = make_function(workspace=workspace, code="a\n")
    assert selectors.deployed_version(function=function) is None
    (v2,) = saved(function, "b\n")
    version_mark_deployed(version=function.versions.get(number=1))
    assert selectors.latest_version(function=function) == v2
    assert selectors.deployed_version(function=function).number == 1
    assert selectors.version_labels(function=function) == {
        "LATEST": v2.id,
        "DEPLOYED": function.versions.get(number=1).id,
    }


def test_a_version_of_another_function_is_404(workspace):
    mine = make_function(workspace=workspace)
    other = make_function(workspace=workspace)
    with pytest.raises(Http404):
        selectors.version_get_for_function(function=mine, version_id=other.versions.get().id)
    with pytest.raises(Http404):
        selectors.version_get_for_function(function=mine, version_id="not-an-id")
    assert (
        selectors.version_get_for_function(function=mine, version_id=mine.versions.get().id).number
        == 1
    )


def test_diffs_are_cached_per_pair_and_options(workspace):
    cache.clear()
    function = make_function(workspace=workspace, code="a\n")
    (v2,) = saved(function, "b\n")
    v1 = function.versions.get(number=1)
    first = selectors.version_diff(base=v1, target=v2, options=DiffOptions())
    v1.code = "changed in memory only"  # a cached diff does not look at the code again
    again = selectors.version_diff(base=v1, target=v2, options=DiffOptions())
    assert again == first
    other = selectors.version_diff(base=v1, target=v2, options=DiffOptions(ignore_whitespace=True))
    assert other.removed == 1  # computed afresh, from the in-memory text
    assert "memory" in other.chunks[0].old_lines[0].html


def test_diffs_are_computed_when_the_cache_is_unreachable(workspace, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    function = make_function(workspace=workspace, code="a\n")
    (v2,) = saved(function, "b\n")
    diff = selectors.version_diff(
        base=function.versions.get(number=1), target=v2, options=DiffOptions()
    )
    assert (diff.added, diff.removed) == (1, 1)


def spec(**changes):
    """A declared setting as a version stores it, with only the given fields changed."""
    base = {
        "name": "a",
        "label": "A",
        "description": "",
        "type": "STRING",
        "required": False,
        "sensitive": False,
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([], [], []),
        ([], [spec(sensitive=True)], [("a", "added", True)]),
        ([spec()], [], [("a", "removed", False)]),
        ([spec()], [spec(type="ARRAY", required=True)], [("a", "changed", False)]),
        ([spec()], [spec()], []),
    ],
)
def test_settings_schema_diff(old, new, expected):
    changes = settings_schema_diff(old=old, new=new)
    assert [(c.name, c.kind, c.sensitive) for c in changes] == expected
    assert all(isinstance(c, SettingChange) for c in changes)


def test_settings_schema_diff_lists_the_changed_fields():
    (change,) = settings_schema_diff(old=[spec()], new=[spec(type="ARRAY", required=True)])
    assert change.fields == (("type", "STRING", "ARRAY"), ("required", False, True))
