"""Payments: the provider's verdicts on orders, the ledger of money received, refunds due."""
