"""Outgoing webhooks: endpoints, the outbox of events, and the delivery loop."""
