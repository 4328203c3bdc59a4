"""The to-do list (我的待办): what waits for one user now, across her cases, the verification inbox, department
notifications to triage, follow-ups and renewals, and signatures, ordered by due moment (overdue first)."""
