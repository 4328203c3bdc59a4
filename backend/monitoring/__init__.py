"""Monitoring (运行监控): the instance-wide figures an operator alerts on (outbox backlog, department
notifications and callbacks by status, open and overdue cases per county), computed from the database."""
