"""Backups (备份) and the restore drill: a pg_dump of the database with a manifest of its row counts and of
every stored object's checksum, restored with pg_restore and checked (counts, audit chains, documents)."""
