"""schemathesis hooks for scripts/fuzz-api.sh: tus bodies (application/offset+octet-stream) are raw bytes."""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
