"""The broker: open partners' packages, link them, release protected buurt aggregates."""
