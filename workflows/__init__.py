"""Use cases. Each runs in one transaction: authorise, apply the domain move with a
compare-and-set update, write the order event and the outbox rows, commit."""
