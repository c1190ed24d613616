"""How the kit reaches things: which environment and key, where its files live, which TLS trust.

:mod:`~primer_nb.config.settings` reads arguments, the environment and ``.env``
(nothing else in the kit does); :mod:`~primer_nb.config.tls` holds the TLS
contexts the kit's HTTP clients share.
"""
