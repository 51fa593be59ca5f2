"""Descent's HTTP API."""
