"""The demo's own SiriDB query quotes the series name like the rest of Enodo."""

from __future__ import annotations

import asyncio
from typing import Any

from scripts.demo import last_point


class RecordingClient:
    """Answers a select as SiriDB shapes it and remembers the query text."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def query(self, text: str) -> dict[str, Any]:
        self.queries.append(text)
        return {"it's": [[5, 1.5]]}


def test_last_point_quotes_the_name():
    client = RecordingClient()
    assert asyncio.run(last_point(client, "it's")) == [5, 1.5]
    assert client.queries == ["select last() from 'it''s'"]
