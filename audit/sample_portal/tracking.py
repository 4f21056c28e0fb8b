"""The sample portal, counting the requests for files it has in flight at once (peak), with optional latency per
file: what a test or benchmark needs to show that the per-host limit holds, or to kill a worker mid-download."""

from __future__ import annotations

import asyncio
from typing import Any

from audit.sample_portal.server import SamplePortal


class TrackingPortal(SamplePortal):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.file_delay = 0.0
        self.in_flight = 0
        self.peak = 0
        self.file_requests = 0

    async def _track(self, handler: Any, request: Any) -> Any:
        self.in_flight += 1
        self.file_requests += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.file_delay:
                await asyncio.sleep(self.file_delay)
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _file(self, request: Any) -> Any:
        return await self._track(super()._file, request)

    async def _synthetic_file(self, request: Any) -> Any:
        return await self._track(super()._synthetic_file, request)
