"""Keyed pseudonymization of personal data: HMAC-SHA256 (RFC 2104) in native Spark.

Why not ``sha2(email)``: an unkeyed hash of an email is reversible by hashing a list of
candidate addresses. Why not ``sha2(pepper || email)``: a secret-prefix hash is a weaker
construction than HMAC and not what the security guidance asks for. Spark 4.2 has no ``hmac``
SQL function (it is proposed upstream as SPARK-53154) and ``aes_encrypt`` is reversible by
whoever holds the key, so HMAC is built from its definition with native functions only:

    HMAC(K, m) = SHA256((K' ⊕ opad) ‖ SHA256((K' ⊕ ipad) ‖ m))

K' (the key padded to the 64-byte block, hashed first if longer) and its two pads are
computed on the driver from the pepper. They reach the executors as a one-row broadcast
frame, not as literals, so the key never appears in a query plan (plans are shown in logs,
the Spark UI and event logs; a literal would print the pad, from which the key follows).
The result equals Python's ``hmac.new(key, msg, sha256).hexdigest()``.
"""

from __future__ import annotations

import hashlib

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# The pepper is configuration: read at the edge (``config``) and handed in by the ``quality``
# resource; this module only names the variable in its errors.
PEPPER_ENV = "CLOUD_ANALYTICS_PII_PEPPER"
BLOCK_SIZE = 64  # SHA-256 block size in bytes
MIN_PEPPER_BYTES = 16


class PepperError(ValueError):
    """The pseudonymization key is missing or too short (the message never shows it)."""


def hmac_pads(pepper: str | bytes) -> tuple[bytes, bytes]:
    """(K' ⊕ ipad, K' ⊕ opad) of RFC 2104 for SHA-256."""
    key = pepper.encode("utf-8") if isinstance(pepper, str) else bytes(pepper)
    if not key.strip():
        raise PepperError(f"{PEPPER_ENV} is not set (and `make setup` wrote no local one): "
                          "emails cannot be pseudonymized without a key")
    if len(key) < MIN_PEPPER_BYTES:
        raise PepperError(f"{PEPPER_ENV} must be at least {MIN_PEPPER_BYTES} bytes")
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _hmac_hex(message: Column, ipad: Column, opad: Column) -> Column:
    inner = F.unhex(F.sha2(F.concat(ipad, message.cast("binary")), 256))
    return F.sha2(F.concat(opad, inner), 256)


def with_hmac(df: DataFrame, message: Column, pepper: str | bytes, out: str) -> DataFrame:
    """Add ``out``: the hex HMAC-SHA256 of ``message`` (a string Column, UTF-8) under ``pepper``.

    A null message gives a null digest.
    """
    ipad, opad = hmac_pads(pepper)
    keys = df.sparkSession.createDataFrame([(bytearray(ipad), bytearray(opad))], "_ipad binary, _opad binary")
    joined = df.crossJoin(F.broadcast(keys))
    return joined.withColumn(out, _hmac_hex(message, F.col("_ipad"), F.col("_opad"))).drop("_ipad", "_opad")
