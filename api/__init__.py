"""The REST API at /api/v1/: members' and staff's data, with tokens and keys (docs/api.md)."""
