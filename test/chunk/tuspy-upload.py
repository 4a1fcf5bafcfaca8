"""Uploads a file with tuspy (the tus Python client), retrying on errors; prints the upload URL as JSON.

Usage: tuspy-upload.py ENDPOINT TOKEN PATH CHUNK_SIZE
"""
import json
import sys

from tusclient import client

endpoint, token, path, chunk_size = sys.argv[1:5]
tus = client.TusClient(endpoint, headers={"Authorization": "Bearer " + token})
uploader = tus.uploader(
    path,
    chunk_size=int(chunk_size),
    retries=2,
    retry_delay=0,
    metadata={"filename": "clip.mp4", "filetype": "video/mp4"},
)
uploader.upload()
print(json.dumps({"url": uploader.url, "offset": uploader.offset}))
