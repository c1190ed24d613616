"""What Primer's API is: the domain core every other part of the kit imports.

Independent of any transport, server or screen (no httpx, FastAPI, pandas or
ipywidgets here, and no I/O), it holds:

=====================  ==========================================================
``protocol``           API versions and their lifecycle, paths, header names
``fields``             field types (money, codes, texts) and the base models
``session``            the Client Session v2.4 request and response models
``money``              integer minor units and the session totals rule
``patching``           the PATCH rules, and their inverse (the smallest PATCH)
``payment``            the Payments API v2.4 models, and the checkout's card and payment calls
``payment_rules``      payment rules: inheritance from the session, statuses, amounts, bodies
``cards``              Luhn, card networks, Primer's sandbox test cards and what each does
``responses``          what GET, PATCH and POST answer (computed amount, defaults)
``checkout_warnings``  which method needs which data; warning texts and fixes
``validation``         parsing bodies with errors named by JSON path
``envelope``           Primer's error envelope, built and parsed
``errors``             the kit's exception tree, and status → exception
``client_token``       a client token's claims, read as the SDKs read them
``masking``            tokens and keys shown safely
``timestamps``         instants on the wire (naive UTC) and in code (aware UTC)
``curl``               runnable curl commands that never hold the key
``codes``              the ISO currency and country codes the API accepts
``webhooks``           webhook events, bodies, signatures, verification, retry schedule
=====================  ==========================================================
"""
