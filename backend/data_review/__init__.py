"""Three-level data review (三级把关) of village entries and the township's confirmation (seeds-spec P25)."""
