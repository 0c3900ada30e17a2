"""POSTs deliveries with httpx: bounded timeouts, no redirects followed (a receiver answers where it was told)."""

from __future__ import annotations

import httpx

from metrology.webhooks.application.delivery import Answer


class HttpxSender:
    def __init__(self, timeout_seconds: float = 10.0, connect_timeout_seconds: float = 5.0) -> None:
        timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            return Answer(None, f"timed out: {type(error).__name__}")
        except httpx.HTTPError as error:
            return Answer(None, f"{type(error).__name__}: {error}"[:500])
        return Answer(response.status_code)

    async def close(self) -> None:
        await self._client.aclose()
