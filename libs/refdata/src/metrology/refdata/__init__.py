"""Legal reference data kept as dated rows, never as constants in code."""
