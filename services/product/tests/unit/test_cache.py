from dataclasses import dataclass

from shopmesh_product.cache import ProductCache
from shopmesh_product.domain.products import Product


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def _product() -> Product:
    return object()  # type: ignore[return-value]  # the cache never looks inside


def test_a_cached_product_expires_after_the_ttl() -> None:
    clock = Clock()
    cache = ProductCache(ttl=1.0, clock=clock)
    product = _product()
    cache.put("mug", product, cache.stamp("mug"))
    assert cache.get("mug") is product
    clock.now = 1.0
    assert cache.get("mug") is None


def test_a_read_that_raced_a_write_is_not_kept() -> None:
    cache = ProductCache(ttl=1.0, clock=Clock())
    stamp = cache.stamp("mug")  # the read starts...
    cache.evict(["mug"])  # ...a write commits and evicts...
    cache.put("mug", _product(), stamp)  # ...the read's stale result is dropped
    assert cache.get("mug") is None


def test_evict_drops_the_entry_and_zero_ttl_caches_nothing() -> None:
    cache = ProductCache(ttl=1.0, clock=Clock())
    cache.put("mug", _product(), cache.stamp("mug"))
    cache.evict(["mug"])
    assert cache.get("mug") is None
    off = ProductCache(ttl=0)
    off.put("mug", _product(), off.stamp("mug"))
    assert off.get("mug") is None
