"""Encryption of sensitive setting values: the only module that sees their plaintext.

Values are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`,
under keys from the environment; pages, the API, logs, runs and diffs only ever get a mask.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from functions_ui.runtime.masking import MIN_SECRET_LENGTH


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> tuple[str, ...]:
    configured = tuple(settings.SECRETS_ENCRYPTION_KEYS)
    if configured:
        return configured
    if not settings.DEBUG:
        raise ImproperlyConfigured("Set SECRETS_ENCRYPTION_KEYS to encrypt sensitive settings.")
    # Local development only: a key derived from SECRET_KEY, so `make run` needs no setup.
    digest = hashlib.sha256(b"functions-ui-secrets:" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(digest).decode(),)


def encrypt_value(value: Any) -> str:
    """Encrypt any JSON value; the first configured key encrypts, every key decrypts."""
    return _fernet(_keys()).encrypt(json.dumps(value).encode()).decode()


def decrypt_value(token: str) -> Any:
    """Decrypt a value made by encrypt_value; a token no key opens raises ValueError."""
    try:
        return json.loads(_fernet(_keys()).decrypt(token.encode()))
    except InvalidToken as error:
        raise ValueError("A secret could not be decrypted with the configured keys.") from error


def generate_key() -> str:
    """A new key for SECRETS_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def secret_strings(value: Any) -> list[str]:
    """The strings inside a setting value that must never be shown (for masking output)."""
    if isinstance(value, str):
        return [value] if len(value) >= MIN_SECRET_LENGTH else []
    if isinstance(value, list):
        return [s for item in value for s in secret_strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in secret_strings(item)]
    return []
