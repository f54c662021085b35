"""API keys under /api/v1/api-keys."""

from ninja import Router

router = Router()
