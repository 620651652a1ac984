"""Background work: one job API, two engines (embedded table or Procrastinate on PostgreSQL)."""
