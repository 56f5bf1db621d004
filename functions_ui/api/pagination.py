"""Keyset pagination with opaque cursors, as Segment's `pagination.count`/`pagination.cursor`.

A cursor names a position between two rows ("after key 41", "before key 17") of one ordered,
unique key, never an offset. Rows added or deleted between two requests therefore neither
repeat nor skip the rows that were there throughout, and every page costs the same few
indexed queries wherever it is in the list.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db.models import QuerySet

from functions_ui.api.errors import validation_failure
from functions_ui.api.schemas import Pagination

# A cursor points between two rows and reads towards the end of the list ("next") or
# towards its start ("previous"), in the list's own order.
Direction = Literal["next", "previous"]
_DIRECTIONS: dict[str, Direction] = {"n": "next", "p": "previous"}
_CURSOR_MAX_LENGTH = 200
_KEY_MAX = 2**63 - 1


@dataclass(frozen=True)
class Cursor:
    kind: str
    direction: Direction
    key: int

    def encode(self) -> str:
        raw = f"{self.kind}:{self.direction[0]}:{self.key}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, *, kind: str) -> Cursor:
        """Read a cursor this API made for the same list, or raise a 422."""
        error = validation_failure(
            "The cursor is not one this list gave out.", field="pagination.cursor"
        )
        if not value or len(value) > _CURSOR_MAX_LENGTH:
            raise error
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            cursor_kind, direction, key = raw.split(":")
            number = int(key)
        except (binascii.Error, UnicodeError, ValueError) as exc:
            raise error from exc
        if cursor_kind != kind or direction not in _DIRECTIONS or not 0 <= number <= _KEY_MAX:
            raise error
        return cls(kind=kind, direction=_DIRECTIONS[direction], key=number)


@dataclass(frozen=True)
class PageRequest:
    count: int
    cursor: str | None

    @classmethod
    def checked(cls, *, count: int | None, cursor: str | None) -> PageRequest:
        """`pagination.count` from 1 to API_PAGE_SIZE_MAX (a setting), and the cursor."""
        if count is None:
            count = settings.API_PAGE_SIZE_DEFAULT
        if not 1 <= count <= settings.API_PAGE_SIZE_MAX:
            raise validation_failure(
                f"pagination.count must be between 1 and {settings.API_PAGE_SIZE_MAX}.",
                field="pagination.count",
            )
        return cls(count=count, cursor=cursor or None)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    current: str
    next: str | None
    previous: str | None
    total_entries: int

    def pagination(self) -> Pagination:
        return Pagination(
            current=self.current,
            next=self.next,
            previous=self.previous,
            total_entries=self.total_entries,
        )


def paginate(
    queryset: QuerySet, *, request: PageRequest, kind: str, key: str, descending: bool = False
) -> Page:
    """One page of `queryset` listed by the unique integer field `key` (four queries).

    `kind` tags the cursors, so that one list's cursor is refused by another.
    """
    if request.cursor is None:
        cursor = Cursor(kind, "next", _KEY_MAX if descending else 0)
    else:
        cursor = Cursor.decode(request.cursor, kind=kind)
    # Lookups meaning "later in the list" and "earlier in the list".
    later, earlier = ("lt", "gt") if descending else ("gt", "lt")
    list_order = f"-{key}" if descending else key
    reverse_order = key if descending else f"-{key}"

    if cursor.direction == "next":
        rows = list(
            queryset.filter(**{f"{key}__{later}": cursor.key}).order_by(list_order)[
                : request.count + 1
            ]
        )
        has_next = len(rows) > request.count
        items = rows[: request.count]
        edge = getattr(items[0], key) if items else cursor.key
        lookup = earlier if items else f"{earlier}e"
        has_previous = queryset.filter(**{f"{key}__{lookup}": edge}).exists()
    else:
        rows = list(
            queryset.filter(**{f"{key}__{earlier}": cursor.key}).order_by(reverse_order)[
                : request.count + 1
            ]
        )
        has_previous = len(rows) > request.count
        items = rows[: request.count][::-1]
        edge = getattr(items[-1], key) if items else cursor.key
        lookup = later if items else f"{later}e"
        has_next = queryset.filter(**{f"{key}__{lookup}": edge}).exists()

    if items:
        first, last = getattr(items[0], key), getattr(items[-1], key)
    else:
        # An empty page (its rows were deleted): both links take in the cursor's own key.
        step = -1 if descending else 1
        if cursor.direction == "next":
            first = last = min(max(cursor.key + step, 0), _KEY_MAX)
        else:
            first = last = min(max(cursor.key - step, 0), _KEY_MAX)
    return Page(
        items=items,
        current=cursor.encode(),
        next=Cursor(kind, "next", last).encode() if has_next else None,
        previous=Cursor(kind, "previous", first).encode() if has_previous else None,
        total_entries=queryset.count(),
    )
