"""Yearly archive (年度归档, seeds-spec P26): a year's closed cases under one unit and their documents bound into a
volume (an index PDF and a manifest with checksums), stored write-once and kept per the county's rule."""
