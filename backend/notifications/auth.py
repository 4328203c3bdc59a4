"""Permission dependencies of the notification routes: every signed-in person reads and marks her own."""

from __future__ import annotations

from backend.authz.dependencies import Authenticated

NotificationsOwn = Authenticated
