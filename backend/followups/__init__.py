"""Recurring follow-up (定期随访与服务计划): the rules of what falls due when, and the queries that find it."""
