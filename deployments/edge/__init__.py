"""The edge: serving deployed sites."""
