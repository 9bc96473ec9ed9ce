"""Token, password and scope policy: every security decision lives in this package."""
