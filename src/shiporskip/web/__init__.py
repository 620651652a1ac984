"""The website and JSON API."""
