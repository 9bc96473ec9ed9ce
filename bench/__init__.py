"""`make bench`: the production stack on loopback under a real HTTP load generator."""
