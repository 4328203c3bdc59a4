"""Permission dependencies of the to-do routes: every signed-in person reads her own list."""

from __future__ import annotations

from backend.authz.dependencies import Authenticated

TodoOwn = Authenticated
