"""Loans, items, blocks, the fines and fees ledger, proxies, deletion and purge (seed 002)."""
