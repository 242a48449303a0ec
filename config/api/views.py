"""Base classes for the API's views."""

from rest_framework import viewsets


class ApiViewSet(viewsets.GenericViewSet):
    """A viewset whose lists answer `{"total", envelope_key: [...]}` and whose URL ids
    are plain strings (404 for any that does not exist or may not be seen)."""

    envelope_key = "items"
    lookup_value_regex = "[^/]+"
