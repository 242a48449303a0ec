"""The server-rendered dashboard: Django templates over the same services as the API.

Views only translate a request into a service call (writes) or a selector (reads), and
turn the API's exceptions into pages: NotFound -> 404, PermissionDenied -> 403, a
ValidationError or Conflict -> the form again with its message.
"""
