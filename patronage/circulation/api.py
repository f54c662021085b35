"""The circulation part of the native API (mounted in ``patronage.api``)."""

from ninja import Router

router = Router()
