"""Each agency's context data key, unwrapped once per process and kept in memory.

An agency's records' context is encrypted under that agency's data key, which is
stored wrapped by the hub's master key (:mod:`api.hub.context_crypto`). Both the
linking service (which encrypts on submission) and the subject views (which
decrypt on disclosure) ask this one cache; a key is read and unwrapped the first
time an agency is needed and never written anywhere else.
"""

from __future__ import annotations

import threading

from sqlmodel import Session

from api.hub.context_crypto import unwrap_data_key
from api.hub.identity.service import get_agency

__all__ = ["DataKeys"]


class DataKeys:
    """Unwrapped data keys by agency name (thread-safe).

    Args:
        master_key: The hub's master key, which wraps every agency's data key.
    """

    def __init__(self, master_key: bytes) -> None:
        self._master_key = master_key
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, agency: str) -> bytes:
        """The agency's data key.

        Raises:
            NotFound: no such agency.
            DataKeyError: the wrapped key does not open with this master key.
        """
        with self._lock:
            key = self._keys.get(agency)
        if key is None:
            wrapped = get_agency(session, agency).wrapped_data_key
            key = unwrap_data_key(self._master_key, wrapped, agency)
            with self._lock:
                self._keys[agency] = key
        return key
