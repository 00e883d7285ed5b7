"""Private files (invoice PDFs, …): where they live and the one way they leave the server.

- They are stored by `PrivateFileSystemStorage` under `PRIVATE_MEDIA_ROOT` (the storage alias
  "private"), a folder outside `MEDIA_ROOT` that no URL maps to: the storage has no URL at all.
- Their names are random (`random_name`), so knowing one invoice's name says nothing about another.
- They are handed out only by views that first check access through the tenancy choke point
  (the view's restricted queryset) and then call `private_file_response`, which lets
  django-sendfile2 send the bytes: in production the proxy does (X-Accel-Redirect to an
  `internal` location), in development and tests Django does.
- Such views answer 404 to everyone who may not have the file – anonymous visitors and missing
  roles included (`PrivateFileMixin`, `PrivateFileViewSetMixin`) – so a file URL never tells
  whether the file, the org or the role exists.

Public uploads (organization logos) stay under `MEDIA_ROOT`/`MEDIA_URL`; only `logos/` is served
(`public_media`), and logo names are random too.
"""

from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse, Http404
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import condition
from django_sendfile import sendfile
from django_sendfile.backends import simple as simple_backend
from rest_framework import exceptions as drf_exceptions

from .errors import NotFound, PermissionDenied

# The only folder below MEDIA_ROOT that is public (served at MEDIA_URL + PUBLIC_MEDIA_FOLDER).
PUBLIC_MEDIA_FOLDER = "logos"


def random_name(folder: str, filename: str) -> str:
    """`<folder>/<uuid4 hex><ext>`: 122 random bits, nothing taken from the object or the upload."""
    extension = Path(filename).suffix.lower()
    return f"{folder}/{uuid.uuid4().hex}{extension}"


class PrivateFileSystemStorage(FileSystemStorage):
    """Files under `PRIVATE_MEDIA_ROOT`, with no public URL: `url()` refuses, so no template or
    serializer can link to a private file by accident."""

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        super().__init__(location=location, base_url=None, **kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a view that checks access.")


def private_storage():
    """The storage of FileFields holding private data (a callable, so tests can swap settings)."""
    return storages["private"]


# The suffix of a file's gzip-compressed copy stored beside it (`store_compressed_copy`).
COMPRESSED_SUFFIX = ".gz"
# django-sendfile2 backends with which Django itself sends the bytes (no proxy in front).
_DJANGO_SENDS = {"django_sendfile.backends.simple", "django_sendfile.backends.development"}


def store_compressed_copy(storage, name: str, content: bytes) -> str:
    """Store `content` gzip-compressed as `<name>.gz` beside the private file `name`, for
    `private_file_response(..., precompressed=True)`: a 12.5 MB XML is 130 KB compressed, built
    once by the worker instead of sending (or compressing) megabytes on every download."""
    return storage.save(name + COMPRESSED_SUFFIX, ContentFile(gzip.compress(content, compresslevel=6, mtime=0)))


def _compressed_copy(request, field_file) -> str | None:
    """The path of the file's stored gzip copy when the client accepts gzip and Django sends the
    bytes itself. Behind nginx (X-Accel-Redirect) the proxy picks the copy (`gzip_static`)."""
    if settings.SENDFILE_BACKEND not in _DJANGO_SENDS:
        return None
    if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        return None
    path = field_file.path + COMPRESSED_SUFFIX
    return path if os.path.exists(path) else None


_SIMPLE = "django_sendfile.backends.simple"


def _streamed(request, path: str, *, filename: str, attachment: bool):
    """What django-sendfile2's `simple` backend answers (ETag and Last-Modified from the file's
    size and time, 304 to a matching conditional request, the same Content-Disposition), but
    streamed from the open file (`FileResponse`: the WSGI server's sendfile) instead of read
    into memory first – 12.5 MB for the XRechnung XML of a 10,000-line invoice (issue 13)."""
    filepath = Path(path)
    if not filepath.resolve().is_relative_to(Path(settings.SENDFILE_ROOT).resolve()) or not filepath.is_file():
        raise Http404

    @condition(etag_func=simple_backend.generate_etag, last_modified_func=simple_backend.last_modified)
    def respond(request, filepath):
        return FileResponse(filepath.open("rb"), as_attachment=attachment, filename=filename)

    return respond(request, filepath)


def private_file_response(
    request, field_file, *, filename: str, content_type: str, attachment: bool = False, precompressed: bool = False
):
    """Hand a private file to the client (the caller has checked access). A missing file is 404.

    `precompressed`: the file may have a gzip copy beside it (`store_compressed_copy`); a client
    that accepts gzip gets that copy with `Content-Encoding: gzip` (the same document)."""
    if not field_file:
        raise Http404
    compressed = _compressed_copy(request, field_file) if precompressed else None
    if settings.SENDFILE_BACKEND == _SIMPLE:
        response = _streamed(request, compressed or field_file.path, filename=filename, attachment=attachment)
        response["Content-Type"] = content_type
    else:
        response = sendfile(
            request,
            compressed or field_file.path,
            attachment=attachment,
            attachment_filename=filename,
            mimetype=content_type,
        )
    if compressed and response.status_code == 200:
        response["Content-Encoding"] = "gzip"
    if precompressed:
        patch_vary_headers(response, ("Accept-Encoding",))
    if response.has_header("X-Accel-Redirect"):
        del response["Content-Length"]  # the body is empty; the proxy sets the file's length
    # Shared caches must never keep a private file.
    response["Cache-Control"] = "private, no-store"
    return response


class PrivateFileMixin:
    """Browser views handing out a private file: every refusal (anonymous, foreign org, missing
    role, hidden area, unknown object) is the same 404. Put it before `OrgScopedMixin`."""

    private_file = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise Http404
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            raise NotFound(_("Not found.")) from None


class PrivateFileViewSetMixin:
    """API viewsets: the actions in `private_file_actions` answer 404 to every refusal
    (no credentials, missing role), like the browser views. A wrong token stays 401."""

    private_file_actions: frozenset[str] = frozenset()

    def handle_exception(self, exc):
        if getattr(self, "action", None) in self.private_file_actions and isinstance(
            exc, drf_exceptions.NotAuthenticated | drf_exceptions.PermissionDenied | PermissionDenied
        ):
            exc = NotFound(_("Not found."))
        return super().handle_exception(exc)


def public_media(request, path: str):
    """Development only (DEBUG): serve the public uploads (logos). Nothing else below MEDIA_ROOT
    is reachable by URL; in production the proxy serves the same folder (deploy/nginx.conf)."""
    from django.views.static import serve

    return serve(request, path, document_root=Path(settings.MEDIA_ROOT) / PUBLIC_MEDIA_FOLDER)


@checks.register(checks.Tags.security)
def private_media_is_private(app_configs=None, **kwargs):
    """PRIVATE_MEDIA_ROOT inside MEDIA_ROOT (or SENDFILE_ROOT elsewhere) would undo the above."""
    errors = []
    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if private == media or media in private.parents or private in media.parents:
        errors.append(
            checks.Error(
                "PRIVATE_MEDIA_ROOT must not be inside MEDIA_ROOT (or contain it): private files would be public.",
                id="portal.E101",
            )
        )
    sendfile_root = getattr(settings, "SENDFILE_ROOT", None)
    if not sendfile_root or Path(sendfile_root).resolve() != private:
        errors.append(
            checks.Error(
                "SENDFILE_ROOT must be PRIVATE_MEDIA_ROOT: private files are sent from there.",
                id="portal.E102",
            )
        )
    return errors
