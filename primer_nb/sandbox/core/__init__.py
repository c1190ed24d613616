"""The emulator, free of any web framework: service, store, tokens, clock, faults, profile, webhooks.

:class:`~primer_nb.sandbox.core.service.SandboxService` takes raw request parts
and returns replies, so every rule is tested without HTTP; the serving layer
(:mod:`primer_nb.sandbox.serving`) only adapts it. The webhook outbox
(:class:`~primer_nb.sandbox.core.webhooks.WebhookDispatcher`) decides what to
send and when; the serving layer's worker does the sending.
"""
