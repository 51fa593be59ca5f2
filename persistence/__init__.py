"""What the API and the worker share: settings, the database and its queries."""
