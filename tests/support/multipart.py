"""``multipart/form-data`` bodies, as a browser posts a form with file inputs."""
import uuid

__all__ = ["multipart"]


def multipart(fields=(), files=()):
    """``(body, content type)`` for ``fields`` (``{name: text}`` or pairs) and ``files``
    (``[(input name, file name, content type, bytes)]``)."""
    boundary = f"----bastion{uuid.uuid4().hex}"
    parts = []
    items = fields.items() if isinstance(fields, dict) else fields
    for name, value in items:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                     f"\r\n\r\n{value}\r\n".encode())
    for name, filename, content_type, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
                     .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
