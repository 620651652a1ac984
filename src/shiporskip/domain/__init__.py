"""The domain: plain typed objects and pure functions, no web, database or CLI imports."""
