"""How the PINs an SIS sends are stored: a keyed digest, not argon2 (docs/sis.md, "PINs").

A first load of a million users cannot spend argon2's ~50 ms on each PIN (14 hours), and for
a four-digit PIN it would not protect much: 10,000 candidates at 50 ms each fall in about
eight minutes to whoever holds the hash. What protects a short PIN is a key the database does
not hold: the PIN is stored as HMAC-SHA256 keyed with ``SECRET_KEY`` — the same keyed digest a
sync already keeps (``User.sis_values["pin_number"]``) to notice that the SIS sent a new PIN.
With the database alone nothing can be tried offline. PINs set by staff keep the default
hasher (argon2).

Registered in ``PASSWORD_HASHERS`` so that ``check_password`` recognises such a PIN; after a
``SECRET_KEY`` rotation it still verifies under the keys listed in ``SECRET_KEY_FALLBACKS``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash

ALGORITHM = "sis_pin"


def pin_digest(pin: str | None, key: str | None = None) -> str:
    """The keyed digest of a PIN (empty for none)."""
    if not pin:
        return ""
    secret = (key if key is not None else settings.SECRET_KEY).encode()
    return hmac.new(secret, pin.encode(), hashlib.sha256).hexdigest()


def stored_pin(pin: str | None) -> str:
    """``User.pin_number`` for a PIN the SIS sent (empty for none)."""
    return f"{ALGORITHM}${pin_digest(pin)}" if pin else ""


class SisPinHasher(BasePasswordHasher):
    """Verifies PINs stored by ``stored_pin``."""

    algorithm = ALGORITHM

    def salt(self) -> str:
        return ""  # the key, not a salt, is what makes the digest unguessable

    def encode(self, password: str, salt: str) -> str:
        return stored_pin(password)

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, digest = encoded.split("$", 1)
        return {"algorithm": algorithm, "hash": digest, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        digest = self.decode(encoded)["hash"]
        keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        return any(hmac.compare_digest(pin_digest(password, key), digest) for key in keys)

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        return {"algorithm": self.algorithm, "hash": mask_hash(self.decode(encoded)["hash"])}

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
