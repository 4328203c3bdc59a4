"""Documents (材料): uploaded evidence files attached to cases, kept in object storage."""
