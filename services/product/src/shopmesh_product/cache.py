"""A short-lived, per-process cache of products for GetProduct.

Every write this process makes (edits, restocks, reservations, releases)
evicts the products it touched, and a read that raced a write never stores
what it read. Replicas see each other's writes after at most `ttl` seconds;
`ttl=0` turns the cache off."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from shopmesh_product.domain.products import Product


class ProductCache:
    def __init__(
        self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Product]] = {}
        self._generations: dict[str, int] = {}

    def get(self, product_id: str) -> Product | None:
        entry = self._entries.get(product_id)
        if entry is None or self._clock() - entry[0] >= self._ttl:
            return None
        return entry[1]

    def stamp(self, product_id: str) -> int:
        """Take before reading the database; give back to `put`."""
        return self._generations.get(product_id, 0)

    def put(self, product_id: str, product: Product, stamp: int) -> None:
        """Keep `product` unless a write evicted it since `stamp` was taken."""
        if self._ttl <= 0 or self._generations.get(product_id, 0) != stamp:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[product_id] = (self._clock(), product)

    def evict(self, product_ids: Iterable[str]) -> None:
        for product_id in product_ids:
            self._generations[product_id] = self._generations.get(product_id, 0) + 1
            self._entries.pop(product_id, None)
