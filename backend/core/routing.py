"""URL prefix of the versioned JSON API."""

API_V1 = "/api/v1"
