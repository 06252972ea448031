"""Form bodies parsed in memory: an uploaded file never touches the disk (no spooled temporary file)."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from starlette.requests import Request

from core.errors import BadInput

__all__ = ["Posted", "Upload", "read_posted"]

MAX_FIELDS = 2000


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser sent (only its extension is used) and the bytes, in memory."""

    file_name: str
    data: bytes


@dataclass(frozen=True)
class Posted:
    """A posted form: text fields (the last value of a repeated name wins) and uploaded files."""

    fields: dict[str, str]
    files: dict[str, Upload]


async def read_posted(request: Request) -> Posted:
    """The request's form, urlencoded or multipart, parsed from the body already held in memory."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        return Posted(dict(pairs), {})
    if not ctype.startswith("multipart/form-data"):
        raise BadInput("the form was not sent as a form", hint="send it again from the page")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BadInput("the form could not be read", hint="send it again from the page")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for n, part in enumerate(message.iter_parts()):
        if n >= MAX_FIELDS:
            raise BadInput("the form has too many fields")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        file_name = part.get_filename()
        if file_name is not None:
            if data:
                files[name] = Upload(str(file_name), data)
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[name] = data.decode(charset, "replace")
    return Posted(fields, files)
