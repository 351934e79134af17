"""The outbox for the provincial 好差评 system: every rating and case change is written here
in the same transaction as the change, under a key that names it once; a sender delivers
the rows in order (``hall.services.delivery``), each once by its key."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert

from hall.services.context import Tx
from hall.storage import tables as t


def add(tx: Tx, key: str, kind: str, payload: dict[str, Any]) -> None:
    tx.conn.execute(
        insert(t.outbox).values(
            hall_id=tx.hall_id,
            key=key,
            kind=kind,
            payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            created_at=tx.now,
            attempts=0,
        )
    )
