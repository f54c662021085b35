"""Roles, grants, login models and reports under /api/v1/."""

from ninja import Router

router = Router()
