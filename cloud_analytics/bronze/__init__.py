"""Bronze layer: landing data typed and stored once, with rejects and reconciliation checks."""
