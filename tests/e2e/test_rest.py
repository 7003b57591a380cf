"""What a user does through the REST edge, against the running platform."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .conftest import Account, Platform, register_and_login


def _reason(body: dict[str, Any]) -> str:
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return ""


def _new_product(platform: Platform, admin: Account, quantity: int, cents: int = 1999) -> str:
    product_id = f"e2e-{uuid.uuid4().hex[:10]}"
    units, rest = divmod(cents, 100)
    with platform.client(admin.access_token) as http:
        reply = http.post(
            f"/v1/products?productId={product_id}&initialQuantity={quantity}",
            json={
                "displayName": "E2E Kettle",
                "category": "e2e",
                "description": "test",
                "price": {"currencyCode": "USD", "units": str(units), "nanos": rest * 10**7},
            },
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"] == f"products/{product_id}"
    return product_id


def _order(http: Any, lines: list[tuple[str, int]], request_id: str | None = None) -> Any:
    return http.post(
        f"/v1/users/me/orders?requestId={request_id or uuid.uuid4()}",
        json={"lines": [{"product": f"products/{p}", "quantity": q} for p, q in lines]},
    )


def test_anyone_browses_the_seeded_catalog(platform: Platform) -> None:
    with platform.client() as http:
        first = http.get("/v1/products", params={"pageSize": 5, "orderBy": "price desc"})
        assert first.status_code == 200, first.text
        page = first.json()
        assert len(page["products"]) == 5
        prices = [
            int(p["price"]["units"]) * 100 + p["price"].get("nanos", 0) // 10**7
            for p in page["products"]
        ]
        assert prices == sorted(prices, reverse=True)
        second = http.get(
            "/v1/products",
            params={"pageSize": 5, "orderBy": "price desc", "pageToken": page["nextPageToken"]},
        )
        names = {p["name"] for p in page["products"]}
        assert not names & {p["name"] for p in second.json()["products"]}
        cups = http.get("/v1/products", params={"filter": 'category = "coffee" AND "cup"'})
        assert cups.status_code == 200
        assert all(p["category"] == "coffee" for p in cups.json()["products"])
        one = http.get("/v1/products/espresso-cup")
        assert one.status_code == 200
        assert int(one.json()["availableQuantity"]) > 0
        assert http.get("/v1/products/no-such-product").status_code == 404


def test_register_login_profile_refresh_and_revoke(platform: Platform) -> None:
    account = register_and_login(platform)
    with platform.client(account.access_token) as http:
        me = http.get("/v1/users/me")
        assert me.status_code == 200, me.text
        assert me.json()["name"] == f"users/{account.id}"
        etag = me.json()["etag"]
        patched = http.patch(
            "/v1/users/me?updateMask=displayName", json={"displayName": "Ada L.", "etag": etag}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["displayName"] == "Ada L."
        stale = http.patch(
            "/v1/users/me?updateMask=displayName", json={"displayName": "Ada X", "etag": etag}
        )
        assert stale.status_code == 409
    with platform.client() as http:
        refreshed = http.post("/v1/tokens:refresh", json={"refreshToken": account.refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        reused = http.post("/v1/tokens:refresh", json={"refreshToken": account.refresh_token})
        assert reused.status_code == 401
        assert _reason(reused.json()) == "REFRESH_TOKEN_REUSED"
        fresh = register_and_login(platform)
        assert (
            http.post("/v1/tokens:revoke", json={"refreshToken": fresh.refresh_token}).status_code
            == 200
        )
        assert (
            http.post("/v1/tokens:refresh", json={"refreshToken": fresh.refresh_token}).status_code
            == 401
        )
        jwks = http.get("/.well-known/jwks.json")
        assert jwks.status_code == 200
        assert jwks.json()["keys"][0]["alg"] == "ES256"


def test_admin_creates_restocks_and_a_customer_orders_and_cancels(
    platform: Platform, admin: Account, customer: Account
) -> None:
    product = _new_product(platform, admin, quantity=3, cents=2550)
    with platform.client(customer.access_token) as http:
        request_id = str(uuid.uuid4())
        placed = _order(http, [(product, 2)], request_id)
        assert placed.status_code == 200, placed.text
        order = placed.json()
        assert order["state"] == "CONFIRMED"
        assert order["total"] == {"currencyCode": "USD", "units": "51"}
        again = _order(http, [(product, 2)], request_id)  # the retry of a lost answer
        assert again.json()["name"] == order["name"]
        other = _order(http, [(product, 1)], request_id)
        assert other.status_code == 400
        short = _order(http, [(product, 2)])
        assert short.status_code == 400
        assert _reason(short.json()) == "OUT_OF_STOCK"
    with platform.client(admin.access_token) as http:
        restocked = http.post(f"/v1/products/{product}:restock", json={"quantity": 10})
        assert restocked.status_code == 200, restocked.text
        assert int(restocked.json()["availableQuantity"]) == 11
    with platform.client(customer.access_token) as http:
        path = "/v1/" + order["name"]
        assert http.get(path).json()["state"] == "CONFIRMED"
        cancelled = http.post(path + ":cancel", json={})
        assert cancelled.status_code == 200
        assert cancelled.json()["state"] == "CANCELLED"
        assert http.post(path + ":cancel", json={}).json()["state"] == "CANCELLED"
        mine = http.get("/v1/users/me/orders").json()["orders"]
        # The out-of-stock attempt is kept, REJECTED, next to the cancelled order.
        assert {(o["name"], o["state"]) for o in mine if o["state"] != "REJECTED"} == {
            (order["name"], "CANCELLED")
        }
        assert [o.get("rejectReason") for o in mine if o["state"] == "REJECTED"] == ["OUT_OF_STOCK"]
    with platform.client() as http:
        assert int(http.get(f"/v1/products/{product}").json()["availableQuantity"]) == 13


def test_concurrent_orders_through_the_edge_never_oversell(
    platform: Platform, admin: Account
) -> None:
    product = _new_product(platform, admin, quantity=5)
    buyers = [register_and_login(platform) for _ in range(4)]

    def buy(i: int) -> int:
        with platform.client(buyers[i % len(buyers)].access_token) as http:
            return int(_order(http, [(product, 1)]).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(buy, range(16)))
    assert codes.count(200) == 5
    assert set(codes) == {200, 400}
    with platform.client() as http:
        # proto3 JSON leaves zero out.
        assert int(http.get(f"/v1/products/{product}").json().get("availableQuantity", 0)) == 0


def test_unauthenticated_and_forbidden(platform: Platform, customer: Account) -> None:
    other = register_and_login(platform)
    with platform.client() as anonymous:
        assert anonymous.get("/v1/users/me").status_code == 401
        assert _order(anonymous, [("espresso-cup", 1)]).status_code == 401
        assert anonymous.get("/v1/users").status_code == 401
    with platform.client("not-a-token") as bad:
        assert bad.get("/v1/users/me").status_code == 401
    with platform.client(customer.access_token) as http:
        assert http.get(f"/v1/users/{other.id}").status_code == 403
        assert http.get(f"/v1/users/{other.id}/orders").status_code == 403
        assert http.get("/v1/users/-/orders").status_code == 403
        assert http.get("/v1/users").status_code == 403
        created = http.post(
            "/v1/products",
            json={
                "displayName": "x",
                "category": "x",
                "price": {"currencyCode": "USD", "units": "1"},
            },
        )
        assert created.status_code == 403


def test_admin_lists_users_and_every_order(platform: Platform, admin: Account) -> None:
    with platform.client(admin.access_token) as http:
        users = http.get("/v1/users", params={"pageSize": 2})
        assert users.status_code == 200, users.text
        assert len(users.json()["users"]) == 2
        assert http.get("/v1/users/-/orders").status_code == 200


def test_bad_requests_get_4xx_json_statuses(platform: Platform, customer: Account) -> None:
    with platform.client(customer.access_token) as http:
        cases = {
            "malformed": http.post(
                "/v1/accounts:login",
                content=b'{"email": ',
                headers={"Content-Type": "application/json"},
            ),
            "wrong type": http.post("/v1/accounts:login", json={"email": 5, "password": []}),
            "unknown field": http.post(
                "/v1/accounts:login", json={"email": "a@b.c", "password": "x" * 9, "extra": 1}
            ),
            "missing fields": http.post("/v1/accounts:register", json={}),
            "bad quantity": _order(http, [("espresso-cup", 0)]),
            "negative page": http.get("/v1/products", params={"pageSize": -1}),
            "unknown route": http.get("/v1/nothing-here"),
            "oversized": http.post(
                "/v1/accounts:login",
                content=b"{" + b" " * (2 << 20) + b"}",
                headers={"Content-Type": "application/json"},
            ),
        }
    for name, reply in cases.items():
        assert 400 <= reply.status_code < 500, (name, reply.status_code, reply.text)
        assert {"code", "message"} <= set(reply.json()), name
    assert cases["unknown route"].status_code == 404
    assert cases["oversized"].status_code == 413
    violations = {
        v["field"]
        for d in cases["missing fields"].json()["details"]
        if "fieldViolations" in d
        for v in d["fieldViolations"]
    }
    assert violations == {"email", "password", "display_name"}


def test_edge_health_and_openapi(platform: Platform) -> None:
    with platform.client() as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        document = http.get("/openapi.json").json()
        assert "/v1/products" in document["paths"]
        assert not any("Internal" in path for path in document["paths"])
