"""The demo as a whole program: the hub and one gateway per demo agency, wired together.

``crosswalk demo`` (unless ``--no-serve``) serves the hub on ``PORT`` and each
agency's gateway on ``PORT + 101, + 102, …`` in one process, then syncs every
agency's export through its own gateway's sync (with that agency's data steward
token), so each gateway holds its agency's records and a responder can try the
page at once: sign in on their agency's gateway with their token, find a
person, read what the policy allows.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from api.demo.builder import DEMO_CONFIG, DemoHub
from api.gateway.app import create_gateway_app
from api.gateway.scheduled import run_sync
from api.gateway.settings import GatewaySettings
from api.hub.app import create_app
from policy.vocabulary import RESPONDER_ROLES

__all__ = ["DemoGateway", "demo_gateways", "serve_program"]

#: Gateways listen from the hub's port plus this.
GATEWAY_PORT_OFFSET = 101


@dataclass(frozen=True)
class DemoGateway:
    """One demo agency's gateway."""

    agency: str
    port: int
    settings: GatewaySettings
    export: Path | None
    steward: str | None  # the agency's data steward (user name), if it submits


def demo_gateways(demo: DemoHub, hub_url: str, port: int) -> list[DemoGateway]:
    """A gateway for every demo agency that has users on a call (or records)."""
    plan = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    stewards = {a: u for u, (role, a, _t) in demo.tokens.items() if role == "data_steward"}
    responders = {a for _u, (role, a, _t) in demo.tokens.items() if role in RESPONDER_ROLES}
    out: list[DemoGateway] = []
    for agency in plan["agency"]:
        name = agency["name"]
        if name not in responders and "records" not in agency:
            continue
        settings = GatewaySettings(
            hub_url=hub_url, agency=name, key_file=demo.directory / "linkage.key",
            state_dir=demo.directory / f"gateway-{name}",
            context={k: tuple(v) for k, v in agency.get("context", {}).items()},
        )  # fmt: skip
        export = DEMO_CONFIG.parent / agency["records"] if "records" in agency else None
        out.append(DemoGateway(name, port + GATEWAY_PORT_OFFSET + len(out), settings, export,
                               stewards.get(name)))  # fmt: skip
    return out


def _sync_when_up(demo: DemoHub, hub_url: str, gateways: list[DemoGateway]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{hub_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    for gateway in gateways:
        if gateway.export is None or gateway.steward is None:
            continue
        token = demo.tokens[gateway.steward][2]
        report = run_sync(gateway.settings, gateway.export, token)
        print(f"  synced {gateway.agency} through its gateway: {report.lines()[0]}", flush=True)  # noqa: T201


def serve_program(demo: DemoHub, host: str, port: int) -> None:
    """Serve the hub and the gateways until interrupted; sync each agency once."""
    hub_url = f"http://{host}:{port}"
    gateways = demo_gateways(demo, hub_url, port)
    servers = [uvicorn.Server(uvicorn.Config(create_app(demo.settings), host=host, port=port,
                                             access_log=False))]  # fmt: skip
    for gateway in gateways:
        app = create_gateway_app(gateway.settings)
        servers.append(uvicorn.Server(uvicorn.Config(app, host=host, port=gateway.port,
                                                     access_log=False)))  # fmt: skip
    print("\nResponder pages (sign in with a responder's token from the list above):")  # noqa: T201
    for gateway in gateways:
        print(f"  {gateway.agency:18s} http://{host}:{gateway.port}/")  # noqa: T201
    threading.Thread(target=_sync_when_up, args=(demo, hub_url, gateways), daemon=True).start()

    async def all_of_them() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(all_of_them())
