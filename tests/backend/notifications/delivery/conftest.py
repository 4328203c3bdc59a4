"""The receivers (a real SMTP server, the gateway and robot stub) and the outbound policy that lets the drivers
reach them on loopback (as an operator allows a county network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.core.outbound import OutboundPolicy
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer

LOOPBACK = OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with GatewayStub() as stub:
        yield stub
