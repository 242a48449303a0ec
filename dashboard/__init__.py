"""The server-rendered dashboard: Django templates over the same services as the API.

Views only translate a request into a service call (writes) or a selector (reads), and
turn the domain's refusals (core/errors.py) into pages, in dashboard/views/base.py:
NotFound -> 404, PermissionDenied -> 403 (`dashboard_view`), Invalid or Conflict -> the
form again with its message, or a message after a button's POST (`showing_refusals`).
"""
