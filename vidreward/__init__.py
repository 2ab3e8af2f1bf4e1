"""vidreward: learn robot reward code from expert video."""
