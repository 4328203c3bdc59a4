"""Case types (案件类型): the shipped definitions from the national norm and each county's override of them.

The model domain module: definitions.py (the shipped types and the override rules, pure), schemas.py, errors.py,
repository.py (every query, on the tenant-scoped base), service.py (the rules, audited), auth.py (the route
permissions) and endpoints.py (thin routes under /api/v1/case-types).
"""
