"""Build tooling that is not deployed: the deterministic deployment package."""
