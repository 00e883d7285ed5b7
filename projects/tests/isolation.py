"""Object factories for the generic organization isolation tests (`tests/test_isolation.py`).

The org-scoped project routes (`/o/<org>/projects/`, `/o/<org>/projects/new/`) take no URL kwarg
besides `org`, so nothing needs registering here. The routes of one project
(`/projects/<number>/…`, `/api/v1/projects/…`) are not org-scoped: the generic test that walks
them is `projects/tests/test_project_route_isolation.py`.
"""
