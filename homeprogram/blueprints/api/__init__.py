"""The JSON API under ``/api/v1/``: what the offline queue and integrations use."""
