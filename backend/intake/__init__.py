"""Department intake (部门信息通报): notifications from police, civil affairs and health systems."""
