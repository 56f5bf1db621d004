"""Masking of a function's secrets in its run output, in the encodings secrets commonly take.

Masking is a last line of defence, not the defence: code that leaks a secret is still wrong, but
what reaches the user, the database and the pages must not carry the secret in any form a reader
can undo at a glance. One regex per run keeps this cheap enough to apply to every output.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

MASK = "••••"
MIN_SECRET_LENGTH = 3
# A base64 window shorter than this hits ordinary text: the stable middle of base64("\0key") is
# "tle", as in "title". Six characters carry 36 bits, which text does not reach by chance; the
# cost is that 3- and 4-byte secrets are only caught when their own base64 stands alone.
MIN_BASE64_WINDOW = 6

_URLSAFE = str.maketrans("+/", "-_")
# The base64 characters a URL or a JSON encoder may rewrite. Base64 is matched case-sensitively,
# so both cases of the percent escapes' hex are listed.
_BASE64_SPELLINGS = {
    "+": ["+", "%2B", "%2b"],
    "/": ["/", "\\/", "%2F", "%2f"],
    "=": ["=", "%3D", "%3d"],
}

# A needle: whether letter case is ignored, the spellings allowed at each position, and its length
# (to try longer needles first).
_Needle = tuple[bool, list[list[str]], int]


def _utf8(text: str) -> bytes:
    # A secret decoded from JSON may hold a lone surrogate ("\ud800"), which strict UTF-8 refuses.
    return text.encode("utf-8", "surrogatepass")


def _char_spellings(char: str) -> list[str]:
    """How one character of a secret can appear: as itself, JSON-escaped once or twice (a JSON
    string printed inside JSON), and each of those percent-encoded (quote, quote_plus and
    encodeURIComponent differ only in which characters they leave alone)."""
    spellings = {char, "".join(f"%{byte:02X}" for byte in _utf8(char))}
    for ensure_ascii in (True, False):
        once = json.dumps(char, ensure_ascii=ensure_ascii)[1:-1]
        twice = json.dumps(once, ensure_ascii=ensure_ascii)[1:-1]
        for text in (once, twice):
            spellings.update((text, quote(text, safe="", errors="surrogatepass")))
    if char == " ":
        spellings.add("+")
    return sorted(spellings)


def _text_needle(text: str) -> _Needle:
    # Mixing spellings within one match is allowed: every such match still spells the secret.
    positions = [
        [char] if char.isascii() and char.isalnum() else _char_spellings(char) for char in text
    ]
    return True, positions, len(text)


def _base64_needles(data: bytes) -> list[_Needle]:
    """The base64 text that gives data away, standing alone or inside a longer base64 stream.

    Inside a stream (Basic auth's base64("user:" + secret), a base64 JSON body) the secret starts
    at a byte offset of 0, 1 or 2 modulo 3, and its encoding differs with that offset. For each
    offset, the characters whose six bits all come from the secret are the same whatever
    surrounds it: with `shift` bytes before the secret, those are characters ceil(8*shift/6) up to
    floor((8*shift + 8*len)/6) of base64(shift zero bytes + secret).
    """
    whole = base64.b64encode(data).decode()
    texts = {whole, whole.rstrip("=")}
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode()
        start = -(-8 * shift // 6)
        end = (8 * shift + 8 * len(data)) // 6
        if end - start >= MIN_BASE64_WINDOW:
            texts.add(encoded[start:end])
    texts |= {text.translate(_URLSAFE) for text in texts}
    return [
        (False, [_BASE64_SPELLINGS.get(char, [char]) for char in text], len(text)) for text in texts
    ]


def _secret_needles(secret: str) -> list[_Needle]:
    # re.IGNORECASE folds one character at a time, which misses changes of length such as
    # "ß" -> "SS", so such upper- and lower-case forms get needles of their own.
    variants = {secret} | {v for v in (secret.upper(), secret.lower()) if len(v) != len(secret)}
    needles = [_text_needle(variant) for variant in variants]

    # Bytes that an encoder may be handed: UTF-8 (Buffer, TextEncoder), Latin-1 (btoa on a
    # Latin-1 string) and the UTF-8 of the JSON-escaped secret (base64 of a JSON body).
    sources = {_utf8(secret)}
    with contextlib.suppress(UnicodeEncodeError):
        sources.add(secret.encode("latin-1"))
    for ensure_ascii in (True, False):
        sources.add(_utf8(json.dumps(secret, ensure_ascii=ensure_ascii)[1:-1]))
    for data in sources:
        needles.append((True, [[data.hex()]], 2 * len(data)))
        needles.extend(_base64_needles(data))
    return needles


def _alternatives(spellings: list[str]) -> str:
    if len(spellings) == 1:
        return re.escape(spellings[0])
    return "(?:" + "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)) + ")"


def _first_chars(char: str, ignore_case: bool) -> set[str]:
    if not ignore_case:
        return {char}
    return {c for c in (char, char.lower(), char.upper()) if len(c) == 1}


# Building and compiling the regex costs a few milliseconds, more than a warm run; the same
# instance's secrets come back on every one of its runs.
@functools.lru_cache(maxsize=128)
def _compile(secrets: frozenset[str]) -> re.Pattern[str]:
    """One regex for all needles, shaped so that re can skip ahead fast.

    re only scans with a set of first characters (instead of trying every branch at every
    position, which is several times slower) when each top-level branch starts with a plain,
    case-sensitive literal. So each needle is split into its first character, expanded into its
    cases by hand, and the rest; rests are grouped under their first character, longest first,
    because the first branch that matches wins and a secret that contains another must be masked
    whole.
    """
    needles = [needle for secret in secrets for needle in _secret_needles(secret)]
    groups: dict[str, list[tuple[int, str]]] = {}
    for ignore_case, positions, length in needles:
        tail = "".join(_alternatives(spellings) for spellings in positions[1:])
        for spelling in positions[0]:
            rest = re.escape(spelling[1:]) + tail
            if ignore_case:
                rest = f"(?i:{rest})"
            for first in _first_chars(spelling[0], ignore_case):
                groups.setdefault(first, []).append((length, rest))
    branches = []
    for first, rests in groups.items():
        ordered = dict.fromkeys(rest for _, rest in sorted(rests, key=lambda r: -r[0]))
        branches.append(re.escape(first) + "(?:" + "|".join(ordered) + ")")
    return re.compile("|".join(branches))


def secret_masker(secrets: Iterable[str]) -> Callable[[Any], Any] | None:
    """A function that returns a copy of a value with every secret replaced by MASK.

    It looks into str, list, tuple and dict values (keys too) and catches each secret as written,
    in any letter case, JSON-escaped (once or twice), URL-encoded, in base64 (standard or
    URL-safe, padded or not, alone or inside a longer base64 stream) and in hex. Non-strings and
    secrets shorter than MIN_SECRET_LENGTH are ignored; None means there is nothing to mask.
    """
    usable = frozenset(
        secret for secret in secrets if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH
    )
    if not usable:
        return None
    pattern = _compile(usable)

    def mask(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(MASK, value)
        if isinstance(value, list):
            return [mask(item) for item in value]
        if isinstance(value, tuple):
            return tuple(mask(item) for item in value)
        if isinstance(value, dict):
            return {mask(key): mask(item) for key, item in value.items()}
        return value

    return mask
