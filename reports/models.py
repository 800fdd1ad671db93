"""Reports own no tables: they read tracking's rollups and conversions and commissions' rows."""
