"""HTTP service (FastAPI); arrives with the service issue."""
