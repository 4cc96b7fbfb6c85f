"""Landing zone: the deterministic dataset generator and the import of the challenge zip."""
