"""Checks of organization data (ORG-1, ORG-8): VAT IDs per country and uploaded logos.

Both use the well-kept libraries (python-stdnum, Pillow) and answer with a message a user can act
on. They raise Django's `ValidationError`, so forms, the admin and the API show the message at the
field; services call them through `Organization.full_clean()` / `logo_process()`.
"""

from __future__ import annotations

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django_countries import countries
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

# --- VAT IDs ------------------------------------------------------------------------------------

# EU VAT IDs carry a country prefix; Greece uses "EL", Northern Ireland "XI" (ISO: GR, GB).
EU_VAT_PREFIX = {code.upper(): code.upper() for code in eu_vat.MEMBER_STATES if code != "xi"}
EU_VAT_PREFIX["GR"] = "EL"


def country_name(code: str) -> str:
    return str(countries.name(code)) or code


def vat_id_normalize(vat_id: str, country: str) -> str:
    """The VAT ID in its compact form (`DE136695976`) if it is valid for `country`.

    EU countries: the ID must carry the country's own prefix (added when missing) and pass that
    country's check digits. Other countries with a python-stdnum VAT module (CH, NO, GB, …) are
    checked by it; elsewhere the ID must at least look like one (letters, digits, 4–20 long).
    Raises `ValidationError` with a message naming the country.
    """
    raw = (vat_id or "").strip()
    if not raw:
        return ""
    country = (country or "").upper()
    if not country:
        raise ValidationError(
            _("Choose the country first: a VAT ID is checked against its country."), code="vat_country"
        )
    compact = "".join(ch for ch in raw.upper() if ch.isalnum())
    name = country_name(country)
    prefix = EU_VAT_PREFIX.get(country)
    if prefix:
        if compact[:2].isalpha() and compact[:2] != prefix:
            raise ValidationError(
                _("A VAT ID from %(country)s starts with %(prefix)s, not %(given)s.")
                % {"country": name, "prefix": prefix, "given": compact[:2]},
                code="vat_prefix",
            )
        if not compact.startswith(prefix):
            compact = prefix + compact
        if not eu_vat.is_valid(compact):
            raise ValidationError(
                _("“%(vat_id)s” is not a valid VAT ID for %(country)s. Check the digits.")
                % {"vat_id": raw, "country": name},
                code="vat_invalid",
            )
        return eu_vat.compact(compact)
    module = get_cc_module(country.lower(), "vat")
    if module is not None:
        try:
            return module.compact(module.validate(raw))
        except StdnumError:
            raise ValidationError(
                _("“%(vat_id)s” is not a valid VAT ID for %(country)s. Check the digits.")
                % {"vat_id": raw, "country": name},
                code="vat_invalid",
            ) from None
    if not 4 <= len(compact) <= 20:
        raise ValidationError(
            _("“%(vat_id)s” does not look like a VAT ID (4 to 20 letters and digits).") % {"vat_id": raw},
            code="vat_invalid",
        )
    return compact


# --- postcodes ------------------------------------------------------------------------------------

POSTCODE_PATTERNS = {
    "DE": (r"\d{5}", "12345"),
    "AT": (r"\d{4}", "1234"),
    "CH": (r"\d{4}", "1234"),
    "LI": (r"\d{4}", "1234"),
    "NL": (r"\d{4} ?[A-Z]{2}", "1234 AB"),
    "FR": (r"\d{5}", "12345"),
    "IT": (r"\d{5}", "12345"),
    "ES": (r"\d{5}", "12345"),
    "PL": (r"\d{2}-\d{3}", "12-345"),
    "BE": (r"\d{4}", "1234"),
    "DK": (r"\d{4}", "1234"),
    "LU": (r"(L-)?\d{4}", "1234"),
    "US": (r"\d{5}(-\d{4})?", "12345"),
}


def postcode_check(postcode: str, country: str) -> None:
    """Postcodes of the countries our customers come from have a known shape; others: any text."""
    import re

    postcode = (postcode or "").strip().upper()
    pattern = POSTCODE_PATTERNS.get((country or "").upper())
    if postcode and pattern and not re.fullmatch(pattern[0], postcode):
        raise ValidationError(
            _("“%(postcode)s” is not a postcode in %(country)s (expected like %(example)s).")
            % {"postcode": postcode, "country": country_name(country), "example": pattern[1]},
            code="postcode_invalid",
        )


# --- logos (ORG-8) ------------------------------------------------------------------------------

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MIN_SIDE = 150
LOGO_MAX_SIDE = 4000  # beyond this a logo is a photo (and decoding it a memory risk)
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def logo_process(upload) -> ContentFile:
    """Check an uploaded logo against every rule and return it re-encoded without metadata.

    Rules (ORG-8): PNG, JPEG or WebP, verified by decoding the pixels (not the file name or the
    declared content type); at most 1 MB; at least 150×150 px (and at most 4000×4000 px).
    Re-encoding from the decoded pixels drops EXIF, XMP, ICC comments and anything appended.
    """
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size == 0:
        raise ValidationError(_("The file is empty."), code="logo_empty")
    if size > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)s KB; at most 1 MB (1024 KB) is allowed.") % {"size": (size + 1023) // 1024},
            code="logo_too_large",
        )
    upload.seek(0)
    data = upload.read()
    not_an_image = ValidationError(_("The file is not a PNG, JPEG or WebP image."), code="logo_not_image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    if image_format not in LOGO_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted; upload a PNG, JPEG or WebP image.") % {"format": image_format},
            code="logo_format",
        )
    if width < LOGO_MIN_SIDE or height < LOGO_MIN_SIDE:
        raise ValidationError(
            _("The logo is %(width)s×%(height)s pixels; it must be at least 150×150 pixels.")
            % {"width": width, "height": height},
            code="logo_too_small",
        )
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise ValidationError(
            _("The logo is %(width)s×%(height)s pixels; it must be at most 4000×4000 pixels.")
            % {"width": width, "height": height},
            code="logo_too_big",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            clean = _without_metadata(image, image_format)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    name = f"logo-{secrets.token_hex(8)}.{LOGO_FORMATS[image_format]}"
    return ContentFile(clean, name=name)


def _without_metadata(image, image_format: str) -> bytes:
    from PIL import Image

    if image_format == "JPEG":
        mode = "RGB" if image.mode not in ("RGB", "L") else image.mode
        pixels = image.convert(mode)
    elif image.mode in ("RGBA", "LA", "RGB", "L"):
        pixels = image
    else:  # palette, CMYK, 16-bit …: keep transparency where there is any
        pixels = image.convert("RGBA")
    fresh = Image.new(pixels.mode, pixels.size)
    fresh.paste(pixels)  # pixels only: a new image carries no info/exif of the upload
    out = io.BytesIO()
    options = {"quality": 90} if image_format in ("JPEG", "WEBP") else {"optimize": True}
    fresh.save(out, format=image_format, **options)
    return out.getvalue()
