"""A visitor's own digit (a drawing, a photo, a scan) turned into what the models saw in training.

The MNIST recipe: grey, ink bright on dark, cropped to the ink, the longer side scaled to 20 px
keeping the aspect ratio, then placed in 28 × 28 so that the ink's centre of mass is the centre.
Dark ink on light paper (almost every photo and scan) is inverted first. Anything that is not a
usable picture of one digit is refused with one plain sentence (DigitError): nothing is stored.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from models.base.configs import ConfigError
from models.core.data import normalise

FORMATS = ("PNG", "JPEG", "WEBP", "MPO")  # MPO: a camera's multi-picture JPEG; its first picture is read
OPEN_FORMATS = ("PNG", "JPEG", "WEBP")  # the decoders tried; JPEG's hands a multi-picture file over as MPO
MAX_PIXELS = 40_000_000  # a 40-megapixel JPEG photo is fine (it decodes at reduced size); a bomb is not
# Formats without reduced-size decoding are refused above this, by the size their header declares,
# before a pixel is decoded: a 1.5 KB one-colour 6300 × 6300 WebP took 2 s and 600 MB to decode.
MAX_FULL_DECODE_PIXELS = 4_000_000
MIN_SIDE = 8
WORKING_SIDE = 1024  # larger pictures are scaled down first
MIN_CONTRAST = 40  # grey levels between paper and ink (0-255); less is a blank or a fog
INK_LEVEL = 0.3  # of the ink's brightest value: what counts as ink for cropping
BOX, SIDE = 20, 28


class DigitError(ConfigError):
    """An image the lab cannot read as a digit; the message says why in one sentence."""


@dataclass(frozen=True)
class Digit:
    pixels: np.ndarray  # (28, 28) uint8, ink bright on dark: what the models see
    inverted: bool  # dark ink on light paper was turned round

    def tensor(self) -> torch.Tensor:
        """(1, 1, 28, 28) normalised like the training images."""
        return normalise(torch.from_numpy(self.pixels).float().div(255).unsqueeze(0))


def open_image(data: bytes) -> Image.Image:
    """Bytes of a PNG, JPEG or WebP file as a greyscale PIL image, or DigitError."""
    if not data:
        raise DigitError("the file is empty")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)  # no other decoder is even tried
            except UnidentifiedImageError:
                kind = _format_of(data)
                if kind:
                    raise DigitError(f"{kind} files are not supported; use a PNG, JPEG or WebP image") from None
                raise
            _check_declared_size(image, len(data))
            if image.format == "MPO":
                image.seek(0)  # the first picture; the others are the camera's extra views
            elif getattr(image, "n_frames", 1) > 1:
                raise DigitError("this is an animation; use a single still image (PNG, JPEG or WebP)")
            if image.format in ("JPEG", "MPO"):  # decode a phone photo at reduced size: a digit needs no 12 megapixels
                image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))
            image.load()
    except DigitError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DigitError(f"the image is too large (more than {MAX_PIXELS // 1_000_000} million pixels); "
                         "send a smaller one") from None
    except UnidentifiedImageError:
        raise DigitError("this file is not an image the lab can read; use a PNG, JPEG or WebP image") from None
    except (OSError, SyntaxError, ValueError):
        raise DigitError("the image file is damaged or cut short; save it again and retry") from None
    if image.mode in ("CMYK", "I;16", "I;16B", "I;16L", "I", "F"):
        kind = "a CMYK (print) image" if image.mode == "CMYK" else "a 16-bit or floating-point image"
        raise DigitError(f"this is {kind}; save it as an ordinary 8-bit RGB or greyscale PNG or JPEG")
    image = ImageOps.exif_transpose(image)  # phone photos store their rotation separately
    image.thumbnail((WORKING_SIDE, WORKING_SIDE))  # the result is 28 × 28: keep the page quick
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, "white")  # transparent paper reads as white paper
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


def _format_of(data: bytes) -> str | None:
    """What kind of image a refused file is, by any decoder PIL has, to name it in the refusal
    (only the header is read: nothing is decoded)."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            return other.format
    except Exception:  # not an image at all
        return None


MIN_BITS_PER_BLOCK = 2


def _check_declared_size(image: Image.Image, data_bytes: int) -> None:
    """Refuse by the size in the file's header, before decoding: too small to hold a digit, too
    large to decode at full size, or a JPEG header that claims more pixels than its data could hold
    (libjpeg would fill the missing blocks in silently). A perfectly flat page, the cheapest picture
    there is, still costs 3 bits per 8 × 8 block (progressive, quality 5); a file under
    MIN_BITS_PER_BLOCK is another picture's data behind a larger header."""
    width, height = image.size
    if image.format in ("JPEG", "MPO") and data_bytes * 8 < MIN_BITS_PER_BLOCK * (width // 8) * (height // 8):
        raise DigitError("the image file is damaged or cut short; save it again and retry")
    if min(width, height) < MIN_SIDE:
        raise DigitError(f"the image is only {width}×{height} pixels; a digit needs at least {MIN_SIDE}×{MIN_SIDE}")
    if image.format not in ("JPEG", "MPO") and width * height > MAX_FULL_DECODE_PIXELS:
        raise DigitError(f"the image is {width}×{height} pixels, more than a digit needs "
                         f"({MAX_FULL_DECODE_PIXELS // 1_000_000} million at most for PNG and WebP); "
                         "scale it down or send a JPEG")


def prepare(image: Image.Image) -> Digit:
    """A greyscale image of one digit -> the 28 × 28 MNIST-style digit, or DigitError."""
    grey = np.asarray(image, dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    inverted = float(np.median(border)) > 127  # light paper: the ink is the dark part
    if inverted:
        grey = 255 - grey
    ink = np.clip(grey - np.median(border if not inverted else 255 - border), 0, None)
    if ink.max() < MIN_CONTRAST:
        raise DigitError("no digit found: the image is blank or has too little contrast; draw or photograph "
                         "a dark digit on light paper (or a light one on dark)")
    ink = ink * (255 / ink.max())
    rows, cols = np.nonzero(ink > INK_LEVEL * 255)
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
                       dtype=np.float32)
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    total = small.sum()
    centre_y = (small.sum(1) * np.arange(small.shape[0])).sum() / total
    centre_x = (small.sum(0) * np.arange(small.shape[1])).sum() / total
    top = int(round(SIDE / 2 - 0.5 - centre_y))
    left = int(round(SIDE / 2 - 0.5 - centre_x))
    top = min(max(top, 0), SIDE - small.shape[0])  # a lopsided digit stays whole inside the frame
    left = min(max(left, 0), SIDE - small.shape[1])
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    return Digit(np.clip(canvas, 0, 255).astype(np.uint8), inverted)


def read_digit(data: bytes) -> Digit:
    """Bytes of an image file -> the digit the models see, or DigitError with one sentence."""
    return prepare(open_image(data))
