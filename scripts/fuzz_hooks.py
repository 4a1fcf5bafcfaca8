"""schemathesis hooks for scripts/fuzz-api.sh: upload bodies are raw bytes, whatever their protocol's media type
(tus: application/offset+octet-stream, the IETF resumable-upload draft: application/partial-upload)."""

import schemathesis

schemathesis.serializer.alias(
    ["application/offset+octet-stream", "application/partial-upload"], "application/octet-stream"
)
