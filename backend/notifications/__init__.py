"""Notifications (通知) and the rules that name who must act on an event: a case assigned, a verification request
arrived (协查) or answered, a deadline reminder or escalation, a department notification awaiting triage."""
