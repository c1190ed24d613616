"""The emulator, free of any web framework: service, store, tokens, clock, faults, profile.

:class:`~primer_nb.sandbox.core.service.SandboxService` takes raw request parts
and returns replies, so every rule is tested without HTTP; the serving layer
(:mod:`primer_nb.sandbox.serving`) only adapts it.
"""
