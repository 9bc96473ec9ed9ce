"""Email: messages rendered from templates, and the sender that drains the outbox.

What to send is decided by the services, which write an `OutboxMessage` in the same
transaction as the token it carries (`myapi.services.outbox`); this package renders a
message (`messages`), sends it with Flask-Mailman, and runs the in-process sender
(`sender`). Development without an SMTP server prints each message to the log through
`console.MarkedConsoleBackend`; Production refuses to start that way (myapi/config.py).
"""
