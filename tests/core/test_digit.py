"""A visitor's own digit goes through the MNIST recipe; every bad file is one plain sentence."""
import io

import numpy as np
import pytest
from PIL import Image

from models.core.digit import DigitError, read_digit
from models.core.checkpoints import load_teacher
from models.core.training import predict_logits

COUNT = 300


def _png(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _drawn_large(pixels: np.ndarray, dark_on_light: bool, offset: tuple[int, int]) -> bytes:
    """A 28 × 28 MNIST digit drawn 10× larger, off-centre on a wide page with margins, as a photo of
    a drawing would be (dark ink on light paper, or light on dark)."""
    big = Image.fromarray(pixels).resize((280, 280), Image.Resampling.BILINEAR)
    page = Image.new("L", (640, 480), 0)
    page.paste(big, offset)
    if dark_on_light:
        page = Image.eval(page, lambda v: 255 - v)
    return _png(page.convert("RGB"), "JPEG", quality=92) if dark_on_light else _png(page)


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_large_off_centre_digits_are_read_as_well_as_the_originals(sample, dark_on_light):
    teacher = load_teacher("pretrained")
    originals = ((sample.test_x[:COUNT, 0] * 0.3081 + 0.1307).clamp(0, 1) * 255).round().byte().numpy()
    labels = sample.test_y[:COUNT]
    offsets = [(20 + 37 * (k % 9), 10 + 19 * (k % 9)) for k in range(COUNT)]
    digits = [read_digit(_drawn_large(p, dark_on_light, o)) for p, o in zip(originals, offsets)]
    assert all(d.inverted == dark_on_light for d in digits)
    import torch
    prepared = torch.cat([d.tensor() for d in digits])
    accuracy = (predict_logits(teacher, prepared).argmax(1) == labels).float().mean().item()
    original = (predict_logits(teacher, sample.test_x[:COUNT]).argmax(1) == labels).float().mean().item()
    assert accuracy >= original - 0.01, (accuracy, original)


def test_the_prepared_digit_is_mnist_shaped(sample):
    pixels = ((sample.test_x[0, 0] * 0.3081 + 0.1307).clamp(0, 1) * 255).round().byte().numpy()
    digit = read_digit(_drawn_large(pixels, True, (300, 150)))
    ink = np.nonzero(digit.pixels > 60)
    assert digit.pixels.shape == (28, 28) and max(np.ptp(ink[0]), np.ptp(ink[1])) + 1 <= 21
    mass = digit.pixels.astype(float)
    centre = [(mass.sum(axis) * np.arange(28)).sum() / mass.sum() for axis in (1, 0)]
    assert all(abs(c - 13.5) <= 1.0 for c in centre)


def _gif_animation() -> bytes:
    frames = [Image.new("L", (40, 40), v) for v in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _bomb() -> bytes:
    return _png(Image.new("1", (9000, 9000), 0))  # 81 million pixels in a few kilobytes


BAD_FILES = {
    "not an image": (lambda: b"hello, this is text", "not an image"),
    "empty": (lambda: b"", "the file is empty"),
    "truncated": (lambda: _png(Image.effect_noise((200, 200), 60))[:3000], "damaged or cut short"),
    "decompression bomb": (_bomb, "too large"),
    "blank photo": (lambda: _png(Image.new("RGB", (300, 200), (240, 240, 235)), "JPEG"), "no digit found"),
    "1×1": (lambda: _png(Image.new("L", (1, 1), 255)), "only 1×1 pixels"),
    "animated GIF": (_gif_animation, "GIF files are not supported"),
    "CMYK": (lambda: _png(Image.new("CMYK", (60, 60)), "JPEG"), "CMYK"),
    "16-bit": (lambda: _png(Image.new("I;16", (60, 60))), "16-bit"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_get_one_plain_sentence(case):
    make, words = BAD_FILES[case]
    with pytest.raises(DigitError, match=words) as caught:
        read_digit(make())
    assert "\n" not in str(caught.value)


def test_predict_cli_runs_the_same_preparation_and_asks_a_stored_student(capsys, tmp_path, sample):
    import json

    import torch

    from models.base.configs import DistillConfig
    from models.experiments.distill import distill
    from models.service.runner import weights_bytes
    from models.service.store import RunStore
    from tests.conftest import cli
    store = RunStore()
    config = DistillConfig(student="mlp-10", train_size=300, epochs=1)
    result, weights = distill(config, sample)
    run_id = store.create("distill", config.__dict__)
    store.claim(run_id)
    store.finish(run_id, result, weights_bytes(weights))
    pixels = ((sample.test_x[0, 0] * 0.3081 + 0.1307).clamp(0, 1) * 255).round().byte().numpy()
    image = tmp_path / "seven.jpg"
    image.write_bytes(_drawn_large(pixels, True, (100, 60)))
    status, out, _ = cli(capsys, "predict", str(image), "--run", str(run_id), "-T", "4", "--json")
    answer = json.loads(out)
    assert status == 0 and answer["label"] == int(sample.test_y[0]) == 7 and answer["inverted"]
    assert sum(answer["probs"]) == pytest.approx(1, abs=1e-5) and len(answer["soft_targets"]) == 10
    soft, hard = answer["soft_targets"], answer["probs"]
    assert max(soft) < max(hard)  # T = 4 spreads the probability out
    assert answer["student"]["student"] == "mlp-10" and sum(answer["student"]["probs"]) == pytest.approx(1, abs=1e-5)

    # The downloaded student (tensors only, plus its card) loads with weights_only and evaluates.
    from models.service.export import student_card, student_file
    run = store.get(run_id)
    (tmp_path / "student.pt").write_bytes(student_file(store.weights(run_id)))
    (tmp_path / "student.json").write_text(json.dumps(student_card(run, store.weights(run_id))))
    assert set(torch.load(tmp_path / "student.pt", weights_only=True)) == {
        "net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias", "net.5.weight", "net.5.bias"}
    status, out, _ = cli(capsys, "evaluate", "--teacher", str(tmp_path / "student.pt"), "--json")
    evaluated = json.loads(out)
    assert status == 0 and evaluated["test_accuracy"] == pytest.approx(result.distilled_accuracy)
    assert evaluated["params"] == result.student_params and evaluated["kind"] == "distilled student"


@pytest.mark.parametrize("case", BAD_FILES)
def test_predict_refuses_each_bad_file_in_one_line(capsys, tmp_path, case):
    from tests.conftest import assert_rejected
    path = tmp_path / "upload.bin"
    path.write_bytes(BAD_FILES[case][0]())
    assert_rejected(capsys, ["predict", str(path)], BAD_FILES[case][1])


def _refused_before_decoding(monkeypatch, data: bytes, reason: str) -> None:
    """Refused by the size its header declares: decoding it would fail this test first."""
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("the image was decoded before its size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(DigitError, match=reason):
        read_digit(data)


def test_a_huge_one_colour_picture_is_refused_by_its_declared_size(monkeypatch):
    huge = _png(Image.new("L", (6300, 6300), 255))  # a few kilobytes that would decode to 40 megapixels
    assert len(huge) < 200_000
    _refused_before_decoding(monkeypatch, huge, "6300×6300 pixels, more than a digit needs")


def test_a_one_pixel_high_strip_is_refused_before_decoding(monkeypatch):
    strip = _png(Image.new("L", (4_000_000, 1), 0))
    _refused_before_decoding(monkeypatch, strip, "only 4000000×1 pixels")


def test_other_formats_are_named_and_never_decoded(monkeypatch):
    bmp = _png(Image.new("L", (40, 40), 0), fmt="BMP")
    _refused_before_decoding(monkeypatch, bmp, "BMP files are not supported")


def test_a_cameras_multi_picture_jpeg_reads_its_first_picture(sample):
    digit = Image.fromarray(sample.test_x[0, 0].mul(255).byte().numpy()).resize((112, 112))
    other = Image.new("L", (112, 112), 0)
    buffer = io.BytesIO()
    digit.convert("RGB").save(buffer, format="MPO", save_all=True, append_images=[other.convert("RGB")], quality=95)
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    plain = read_digit(_png(digit.convert("RGB"), fmt="JPEG", quality=95))
    assert np.abs(read_digit(buffer.getvalue()).pixels.astype(int) - plain.pixels.astype(int)).mean() < 3


def _lying_jpeg(width: int, height: int) -> bytes:
    """A 16 × 16 JPEG whose frame header claims width × height."""
    data = bytearray(_png(Image.new("L", (16, 16), 255), fmt="JPEG"))
    frame = data.find(b"\xff\xc0")
    data[frame + 5:frame + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_jpeg_whose_header_claims_more_pixels_than_its_data_holds_is_damaged(monkeypatch):
    """600 bytes cannot hold 6600 × 6000 pixels (each 8 × 8 block costs at least a bit);
    libjpeg would fill them in grey, and the filled square read as a 0."""
    _refused_before_decoding(monkeypatch, _lying_jpeg(6600, 6000), "damaged or cut short")


def test_a_smaller_pictures_data_behind_a_larger_header_is_damaged(monkeypatch):
    """A 2000 × 2000 picture's 78 KB behind a header that says 6000 × 6600: about one bit per block,
    where even a blank page costs three. It decoded as a digit before (page and CLI, exit 0)."""
    picture = bytearray(_png(Image.new("L", (2000, 2000), 255).resize((2000, 2000)), fmt="JPEG", quality=90))
    picture += b"\x00" * max(0, 78_000 - len(picture))  # as much data as the reported file carried
    frame = picture.find(b"\xff\xc0")
    picture[frame + 5:frame + 9] = (6600).to_bytes(2, "big") + (6000).to_bytes(2, "big")
    _refused_before_decoding(monkeypatch, bytes(picture), "damaged or cut short")


def test_a_real_flat_jpeg_of_that_size_passes_the_same_check():
    flat = _png(Image.new("RGB", (6600, 6000), (250, 250, 250)), fmt="JPEG", progressive=True, quality=5)
    with pytest.raises(DigitError, match="no digit found"):  # decoded, then found blank: not called damaged
        read_digit(flat)


def test_the_teachers_answers_are_kept_in_memory_when_the_state_folder_is_read_only(sample, tmp_path, monkeypatch):
    """A read-only state folder (a presenter's mistake) must not crash the pages that need the
    teacher's answers: they are computed and kept in memory, and nothing is written."""
    import os
    import stat

    from models.core import checkpoints
    if os.geteuid() == 0:  # root writes through permissions: make the cache folder's place a file instead
        state = tmp_path / "state"
        state.mkdir()
        (state / "cache").write_text("not a folder")
    else:
        state = tmp_path / "state"
        state.mkdir()
        state.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("DISTILL_STATE", str(state))
    checkpoints._memory.clear()
    logits = checkpoints.teacher_logits("pretrained", sample)
    assert logits.train.shape == (sample.train_size, 10)
    assert sorted(p.name for p in state.iterdir()) == ["cache"] or not list(state.iterdir())
