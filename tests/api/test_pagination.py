"""Keyset cursors: exact pages while rows come and go between requests."""

from __future__ import annotations

import pytest

from catalog.models import Function
from functions_ui.api.errors import ApiError
from functions_ui.api.pagination import Cursor, PageRequest, paginate
from tests.factories import make_function

pytestmark = pytest.mark.django_db


def _walk(queryset_factory, *, count: int, between=None, descending: bool = False) -> list[int]:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = paginate(
            queryset_factory(),
            request=PageRequest(count=count, cursor=cursor),
            kind="t",
            key="id",
            descending=descending,
        )
        seen += [row.id for row in page.items]
        pages += 1
        if between:
            between(pages)
        if page.next is None:
            return seen
        cursor = page.next


@pytest.mark.postgres
def test_inserts_between_pages_neither_repeat_nor_skip(workspace):
    start = [make_function(workspace=workspace).pk for _ in range(7)]
    added: list[int] = []

    def insert(pages: int) -> None:
        if pages <= 2:
            added.append(make_function(workspace=workspace).pk)

    seen = _walk(lambda: Function.objects.filter(workspace=workspace), count=3, between=insert)
    assert len(seen) == len(set(seen))
    assert seen == sorted(start + added)  # rows added behind the walk are reached too


@pytest.mark.postgres
def test_deletes_between_pages_skip_nothing_that_remains(workspace):
    ids = [make_function(workspace=workspace).pk for _ in range(9)]

    def delete(pages: int) -> None:
        if pages == 1:
            # One already seen and one not yet seen.
            Function.objects.filter(pk__in=[ids[0], ids[5]]).delete()

    seen = _walk(lambda: Function.objects.filter(workspace=workspace), count=3, between=delete)
    assert seen == [pk for pk in ids if pk != ids[5]]


def test_descending_walk_and_previous_links(workspace):
    ids = [make_function(workspace=workspace).pk for _ in range(5)]
    queryset = Function.objects.filter(workspace=workspace)
    first = paginate(queryset, request=PageRequest(2, None), kind="t", key="id", descending=True)
    assert [r.id for r in first.items] == ids[::-1][:2] and first.previous is None
    second = paginate(
        queryset, request=PageRequest(2, first.next), kind="t", key="id", descending=True
    )
    assert [r.id for r in second.items] == ids[::-1][2:4]
    back = paginate(
        queryset, request=PageRequest(2, second.previous), kind="t", key="id", descending=True
    )
    assert [r.id for r in back.items] == [r.id for r in first.items]
    assert back.previous is None and back.next is not None
    assert second.total_entries == 5


def test_a_page_whose_rows_were_all_deleted_still_links_both_ways(workspace):
    ids = [make_function(workspace=workspace).pk for _ in range(6)]
    queryset = Function.objects.filter(workspace=workspace)
    first = paginate(queryset, request=PageRequest(2, None), kind="t", key="id")
    Function.objects.filter(pk__in=ids[2:]).delete()
    empty = paginate(queryset, request=PageRequest(2, first.next), kind="t", key="id")
    assert empty.items == [] and empty.next is None
    back = paginate(queryset, request=PageRequest(2, empty.previous), kind="t", key="id")
    assert [r.id for r in back.items] == ids[:2]


def test_cursors_are_opaque_and_tagged_with_their_list():
    encoded = Cursor("f", "next", 41).encode()
    assert "41" not in encoded
    assert Cursor.decode(encoded, kind="f") == Cursor("f", "next", 41)
    with pytest.raises(ApiError) as error:
        Cursor.decode(encoded, kind="v")
    assert error.value.errors[0]["field"] == "pagination.cursor"


def test_page_request_defaults_and_bounds(settings):
    settings.API_PAGE_SIZE_DEFAULT = 200
    assert PageRequest.checked(count=None, cursor=None) == PageRequest(200, None)
    assert PageRequest.checked(count=1000, cursor="abc") == PageRequest(1000, "abc")
    for bad in (0, 1001):
        with pytest.raises(ApiError):
            PageRequest.checked(count=bad, cursor=None)
