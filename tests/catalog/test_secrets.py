import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog.secrets import (
    decrypt_value,
    encrypt_value,
    generate_key,
    secret_strings,
)


@pytest.mark.parametrize("value", ["sk_live_123", True, ["a", "b"], {"region": "eu"}, ""])
def test_values_round_trip(value):
    token = encrypt_value(value)
    assert decrypt_value(token) == value


def test_token_does_not_contain_the_plaintext():
    assert "sk_live_123" not in encrypt_value("sk_live_123")


def test_rotated_keys_still_decrypt_old_tokens(settings):
    old, new = generate_key(), generate_key()
    settings.SECRETS_ENCRYPTION_KEYS = [old]
    token = encrypt_value("before rotation")
    settings.SECRETS_ENCRYPTION_KEYS = [new, old]
    assert decrypt_value(token) == "before rotation"
    settings.SECRETS_ENCRYPTION_KEYS = [new]
    with pytest.raises(ValueError, match="could not be decrypted"):
        decrypt_value(token)


def test_production_without_keys_refuses_to_encrypt(settings):
    settings.DEBUG = False
    settings.SECRETS_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        encrypt_value("x")


def test_secret_strings_walks_lists_and_maps_and_skips_tiny_values():
    assert secret_strings({"a": "secret-1", "b": ["secret-2", "x"]}) == ["secret-1", "secret-2"]
