"""The throughput baseline: a bare FastAPI route that parses a create body and stores it.

It does the minimum any Client Session emulator must do per request (pydantic
validation of the same body, one SQLite insert and commit) and nothing else:
no auth, no tokens, no warnings, no envelope.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import Response

from primer_nb.api.session import ClientSessionRequest

db = sqlite3.connect(os.environ.get("BASELINE_DB", ":memory:"), check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, state TEXT NOT NULL)")
app = FastAPI()


@app.post("/client-session")
async def create(request: Request) -> Response:
    body = ClientSessionRequest.model_validate_json(await request.body())
    session_id = str(uuid.uuid4())
    db.execute("INSERT INTO sessions VALUES (?, ?)", (session_id, json.dumps(body.to_wire())))
    return Response(json.dumps({"id": session_id}), media_type="application/json")
