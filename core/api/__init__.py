"""The REST API's shared plumbing: error envelope, list envelope, strict fields."""
