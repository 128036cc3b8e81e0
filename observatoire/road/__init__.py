"""Road safety: ONISR injury accidents, yearly indicators, breakdowns and dangerous sites."""
