"""secret_masker(): each secret is masked in the encodings it commonly takes, and nothing else."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from functions_ui.runtime.masking import MASK, MIN_SECRET_LENGTH, secret_masker

SECRET = "sk_live_9f8E7d6C5b4A"
UNICODE = "pässwörd-ключ"
JSONY = 'he said "hi"\\ then\nleft\t'
REGEXY = "p.ss(w)*rd+[x]{2}|^$?"
# Chosen so that its base64 holds both "+" and "/", which the URL-safe alphabet changes.
BASE64Y = "key>>>???~~~"


def masker(*secrets: str) -> Callable[[Any], Any]:
    mask = secret_masker(secrets)
    assert mask is not None
    return mask


def lower_percent_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def test_nothing_to_mask_gives_none() -> None:
    assert secret_masker([]) is None
    assert secret_masker(["ab", "", "x" * (MIN_SECRET_LENGTH - 1)]) is None
    assert secret_masker([None, 12345]) is None  # type: ignore[list-item]


def test_a_secret_of_the_minimum_length_is_masked() -> None:
    mask = masker("ab", "abc")
    assert mask("ab abc") == f"ab {MASK}"


@pytest.mark.parametrize("secret", [SECRET, UNICODE, JSONY, REGEXY])
def test_the_exact_secret_is_masked_inside_larger_text(secret: str) -> None:
    assert masker(secret)(f"before<{secret}>after") == f"before<{MASK}>after"


@pytest.mark.parametrize(
    ("secret", "written"),
    [
        (SECRET, SECRET.upper()),
        (SECRET, SECRET.lower()),
        (SECRET, SECRET.swapcase()),
        (UNICODE, UNICODE.upper()),
        (UNICODE.upper(), UNICODE),
        ("straße-key", "STRASSE-KEY"),
        ("straße-key", "Straße-Key"),
    ],
)
def test_any_letter_case_is_masked(secret: str, written: str) -> None:
    assert written != secret
    assert masker(secret)(f"x {written} y") == f"x {MASK} y"


def json_with_mask(dumps: Callable[[Any], str]) -> str:
    """What dumps() would give for the secret replaced by MASK (whichever way dumps escapes it)."""
    return dumps({"token": "@@"}).replace("@@", MASK)


@pytest.mark.parametrize("secret", [JSONY, UNICODE, REGEXY])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_json_escaped_secret_is_masked(secret: str, ensure_ascii: bool) -> None:
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii)

    assert masker(secret)(dumps({"token": secret})) == json_with_mask(dumps)


@pytest.mark.parametrize("secret", [JSONY, UNICODE])
def test_json_inside_json_is_masked(secret: str) -> None:
    # A log line of JSON.stringify(JSON.stringify(...)): the secret's escapes escaped again.
    def dumps(value: Any) -> str:
        return json.dumps(json.dumps(value))

    assert "\\\\" in dumps({"token": secret})
    assert masker(secret)(dumps({"token": secret})) == json_with_mask(dumps)


@pytest.mark.parametrize("secret", [JSONY, UNICODE, REGEXY, "my secret key!"])
@pytest.mark.parametrize(
    "encode",
    [
        lambda s: quote(s, safe=""),
        quote_plus,
        lambda s: lower_percent_hex(quote(s, safe="")),
        # encodeURIComponent leaves these alone.
        lambda s: quote(s, safe="!'()*"),
    ],
    ids=["quote", "quote_plus", "lowercase-hex", "encodeURIComponent"],
)
def test_url_encoded_secret_is_masked(secret: str, encode: Callable[[str], str]) -> None:
    encoded = encode(secret)
    assert encoded != secret
    assert masker(secret)(f"https://x.test/?k={encoded}&n=1") == f"https://x.test/?k={MASK}&n=1"


def test_url_encoded_json_is_masked() -> None:
    text = quote(json.dumps({"token": JSONY}), safe="")
    assert masker(JSONY)(text) == quote(json.dumps({"token": "@"}), safe="").replace("%40", MASK)


@pytest.mark.parametrize("secret", [SECRET, UNICODE, JSONY, BASE64Y])
@pytest.mark.parametrize(
    "encode",
    [base64.b64encode, base64.urlsafe_b64encode],
    ids=["standard", "url-safe"],
)
@pytest.mark.parametrize("padded", [True, False])
def test_base64_of_the_secret_is_masked(
    secret: str, encode: Callable[[bytes], bytes], padded: bool
) -> None:
    encoded = encode(secret.encode()).decode()
    if not padded:
        encoded = encoded.rstrip("=")
    assert masker(secret)(f"data: {encoded} end") == f"data: {MASK} end"


def test_base64_fixture_uses_the_characters_url_safe_base64_changes() -> None:
    standard = base64.b64encode(BASE64Y.encode()).decode()
    assert "+" in standard
    assert "/" in standard


def test_base64_with_percent_encoded_characters_is_masked() -> None:
    encoded = quote(base64.b64encode(BASE64Y.encode()).decode(), safe="")
    assert "%2B" in encoded
    assert masker(BASE64Y)(f"?sig={encoded}") == f"?sig={MASK}"


def test_base64_of_a_latin1_string_is_masked() -> None:
    # btoa() in JavaScript encodes a Latin-1 string's code points, not its UTF-8.
    secret = "pässwörd-key"
    encoded = base64.b64encode(secret.encode("latin-1")).decode()
    assert masker(secret)(encoded) == MASK


@pytest.mark.parametrize("prefix", ["ab:", "abc:", "user:"], ids=["offset0", "offset1", "offset2"])
@pytest.mark.parametrize("suffix", ["", ":and-more"], ids=["at-end", "inside"])
@pytest.mark.parametrize("secret", [SECRET, UNICODE, BASE64Y, "hunter2"])
@pytest.mark.parametrize(
    "encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "url-safe"]
)
def test_secret_inside_a_longer_base64_stream_is_masked(
    prefix: str, suffix: str, secret: str, encode: Callable[[bytes], bytes]
) -> None:
    # HTTP Basic auth is base64("user:" + password): the secret starts at a byte offset of
    # len(prefix), and each offset modulo 3 encodes it differently.
    head, body = len(prefix.encode()), len(secret.encode())
    encoded = encode(f"{prefix}{secret}{suffix}".encode()).decode()

    before, after = masker(secret)(f"Basic {encoded}").removeprefix("Basic ").split(MASK)

    # Only characters that also carry bits of the prefix or suffix may stay visible.
    assert encoded.startswith(before)
    assert encoded.endswith(after)
    assert len(before) <= -(-8 * head // 6)
    assert len(after) <= len(encoded) - (8 * (head + body)) // 6


def test_the_prefixes_cover_every_byte_offset() -> None:
    assert {len(p) % 3 for p in ("ab:", "abc:", "user:")} == {0, 1, 2}


def test_base64_of_json_holding_the_secret_is_masked() -> None:
    encoded = base64.b64encode(json.dumps({"password": JSONY}).encode()).decode()
    masked = masker(JSONY)(encoded)
    assert MASK in masked
    assert encoded not in masked


@pytest.mark.parametrize("secret", [SECRET, UNICODE, JSONY])
@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_hex_of_the_secret_is_masked(secret: str, case: Callable[[str], str]) -> None:
    hexed = case(secret.encode().hex())
    assert masker(secret)(f"digest={hexed};") == f"digest={MASK};"
    inside = case((b"\x00\x01" + secret.encode() + b"\xff").hex())
    assert masker(secret)(inside) == case("0001") + MASK + case("ff")


def test_values_are_masked_recursively_and_returned_as_new_values() -> None:
    value = {
        SECRET: "key",
        "nested": [1, None, True, 2.5, [f"a {SECRET}"], ("t", SECRET)],
        "deep": {"list": [{"k": f"Bearer {SECRET}"}]},
    }
    original = json.loads(json.dumps(value))

    masked = masker(SECRET)(value)

    assert masked == {
        MASK: "key",
        "nested": [1, None, True, 2.5, [f"a {MASK}"], ("t", MASK)],
        "deep": {"list": [{"k": f"Bearer {MASK}"}]},
    }
    assert isinstance(masked["nested"][5], tuple)
    assert json.loads(json.dumps(value)) == original


def test_a_secret_with_a_lone_surrogate_is_masked() -> None:
    # JSON allows "\ud800" on its own; a sensitive value set through the API can hold one.
    secret = json.loads('"key-\\ud800-value"')
    assert masker(secret)(f"<{secret}>") == f"<{MASK}>"


def test_several_secrets_and_a_secret_inside_another_are_masked_whole() -> None:
    mask = masker("abc", "abcdef", UNICODE)
    assert mask(f"abcdef|abc|{UNICODE}") == f"{MASK}|{MASK}|{MASK}"


@pytest.mark.parametrize(
    ("secret", "lookalike"),
    [(REGEXY, "pXss(w)rd+[x]{2}|^$? and pssw and p.ss(w)*rd"), ("\\d+(x)", "\\d(x) \\5+(x) 55x")],
)
def test_regex_metacharacters_are_taken_literally(secret: str, lookalike: str) -> None:
    mask = masker(secret)
    assert mask(lookalike) == lookalike
    assert mask(f"<{secret}>") == f"<{MASK}>"


def test_text_sharing_a_short_prefix_is_not_masked() -> None:
    text = "sk_live_other, sk_live_9f8E7d6C5b4, SK_LIVE_ and sk_test_9f8E7d6C5b4A"
    assert masker(SECRET)(text) == text


def test_short_secret_base64_windows_do_not_hit_ordinary_words() -> None:
    # The middle of base64("\0key") is "tle": masking it would mangle "title".
    assert base64.b64encode(b"\0key").decode()[2:5] == "tle"
    text = "The subtitle of the title, kex and ke-y"
    assert masker("key")(text) == text


def test_the_mask_does_not_leak_through_its_own_output() -> None:
    mask = masker(SECRET)
    once = mask(f"{SECRET}{SECRET.upper()}")
    assert once == MASK * 2
    assert mask(once) == once
