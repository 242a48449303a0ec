"""The dashboard views, one module per concern."""
