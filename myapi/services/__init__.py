"""Services: the domain's units of work, called by views and CLI commands alike.

Each public function is one unit of work (`transactions.unit_of_work`): it commits as a
whole or rolls back as a whole, and its audit events are written as part of it. Request
data (an address, a user agent, the principal) comes in as arguments; nothing here reads
the request. Mechanisms (tokens, keys, passwords, revocation stores) live in
`myapi.security`, which never commits.
"""
