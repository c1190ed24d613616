"""The sandbox on HTTP: FastAPI app, uvicorn runner, child process, acceptor, and handles.

Only :mod:`~primer_nb.sandbox.serving.app` and :mod:`~primer_nb.sandbox.serving.server`
import FastAPI and uvicorn; the child process and the handle stay free of them
so a notebook kernel can start and drive a sandbox without loading a server.
"""
