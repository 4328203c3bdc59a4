"""Free technical services (免费技术服务项目, spec P09): the six national items plus the county's own as
configuration, each service delivered (person, item, provider, date, cost borne by whom for the provincial
settlement), the register and the free-service rate (免费服务落实率)."""
