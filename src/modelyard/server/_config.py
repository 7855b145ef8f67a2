"""Server settings: explicit keyword configuration, also readable from ``YARD_SERVER_*``.

uvicorn starts each worker process by importing ``modelyard.server:app_from_env``, so the
settings travel to the workers as environment variables (12-factor).
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from modelyard.errors import InvalidValue

AuthMode = Literal["token", "none"]
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_BLOB_BYTES = 5 * 1024**3
_PREFIX = "YARD_SERVER_"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    db: str
    blobs: str
    auth: AuthMode = "token"
    local_user: str = "local"  # who acts when --auth none
    max_json_bytes: int = MAX_JSON_BYTES
    max_blob_bytes: int = MAX_BLOB_BYTES
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    alias_policy: str = ""  # 'module:function' judging every alias move; "" allows all
    idempotency_days: float = 30  # keys of applied writes are kept this long, then pruned

    def __post_init__(self) -> None:
        if self.auth not in ("token", "none"):
            raise InvalidValue(
                f"unknown auth mode {self.auth!r}; use 'token' or 'none'", field="auth"
            )
        if not 0 < self.idempotency_days < math.inf:
            raise InvalidValue(
                f"idempotency_days must be a finite number of days above 0, not "
                f"{self.idempotency_days!r}: it is how long a retried write is still "
                "recognised and applied once (default 30)",
                field="idempotency_days",
            )

    def to_env(self) -> dict[str, str]:
        return {
            f"{_PREFIX}DB": self.db,
            f"{_PREFIX}BLOBS": self.blobs,
            f"{_PREFIX}AUTH": self.auth,
            f"{_PREFIX}LOCAL_USER": self.local_user,
            f"{_PREFIX}MAX_JSON_BYTES": str(self.max_json_bytes),
            f"{_PREFIX}MAX_BLOB_BYTES": str(self.max_blob_bytes),
            f"{_PREFIX}STORAGE_OPTIONS": json.dumps(dict(self.storage_options)),
            f"{_PREFIX}ALIAS_POLICY": self.alias_policy,
            f"{_PREFIX}IDEMPOTENCY_DAYS": str(self.idempotency_days),
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerConfig:
        env = os.environ if env is None else env
        return cls(
            db=env[f"{_PREFIX}DB"],
            blobs=env[f"{_PREFIX}BLOBS"],
            auth=env.get(f"{_PREFIX}AUTH", "token"),  # type: ignore[arg-type]
            local_user=env.get(f"{_PREFIX}LOCAL_USER", "local"),
            max_json_bytes=int(env.get(f"{_PREFIX}MAX_JSON_BYTES", MAX_JSON_BYTES)),
            max_blob_bytes=int(env.get(f"{_PREFIX}MAX_BLOB_BYTES", MAX_BLOB_BYTES)),
            storage_options=json.loads(env.get(f"{_PREFIX}STORAGE_OPTIONS") or "{}"),
            alias_policy=env.get(f"{_PREFIX}ALIAS_POLICY", ""),
            idempotency_days=float(env.get(f"{_PREFIX}IDEMPOTENCY_DAYS", 30)),
        )


def is_loopback(host: str) -> bool:
    """True when ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_bind(host: str, auth: AuthMode) -> None:
    if auth == "none" and not is_loopback(host):
        raise InvalidValue(
            f"refusing to serve {host} with --auth none: anyone who can reach it would act "
            "without a token. Bind 127.0.0.1, or drop --auth none and create users with "
            "`yard users create`",
            field="host",
        )
