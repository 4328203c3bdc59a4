"""Notification delivery on Temporal: one workflow per delivery row and round (workflows.py), its activities
(activities.py), the contract (types.py)."""
