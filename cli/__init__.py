"""`shipway`: the command line client. It speaks only the REST and realtime APIs and
imports nothing of the server (an import-linter contract holds it to that)."""
