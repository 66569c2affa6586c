"""Therapists' clips: what is refused, and what a transcoded clip holds (services/video.py).

Every clip is made in the test with PyAV (tests/clips.py) and every output is read back
with PyAV: codecs, size, duration, where the MP4 index sits, and that no metadata of the
source survives anywhere in the file.
"""

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from flask import Flask
from PIL import Image

from homeprogram.services import video
from homeprogram.services.video import VideoRefused
from tests.clips import IPHONE_METADATA, Clip, top_level_boxes, truncate, write_clip

# What FFmpeg's MP4 muxer writes on its own; anything else in the output came from somewhere.
MUXER_TAGS = {"major_brand", "minor_version", "compatible_brands"}
STREAM_TAGS = {"language", "handler_name", "vendor_id"}


def transcode(source: Path, folder: Path, **kwargs: object) -> video.Transcoded:
    folder.mkdir(exist_ok=True)
    return video.transcode(source, folder / "clip.mp4", folder / "poster.jpg", **kwargs)  # type: ignore[arg-type]


def read_back(path: Path) -> dict[str, object]:
    """What a player sees in an output file."""
    with av.open(str(path)) as container:
        streams = {s.type: s for s in container.streams}
        picture = streams["video"]
        frame = next(container.decode(picture))
        found: dict[str, object] = {
            "format": container.format.name,
            "metadata": dict(container.metadata),
            "stream_metadata": [dict(s.metadata) for s in container.streams],
            "types": sorted(streams),
            "video_codec": picture.codec_context.name,
            "pix_fmt": picture.codec_context.pix_fmt,
            "width": picture.codec_context.width,
            "height": picture.codec_context.height,
            "duration": float(container.duration) / av.time_base,
            "rotation": frame.rotation,
            "first_frame": frame.to_image().convert("L"),
            "primaries": frame.color_primaries,
        }
        if "audio" in streams:
            found["audio_codec"] = streams["audio"].codec_context.name
    return found


def assert_playable(folder: Path, width: int, height: int, seconds: float) -> dict[str, object]:
    """The checks every output passes; returns what was read back."""
    out = read_back(folder / "clip.mp4")
    assert out["video_codec"] == "h264" and out["pix_fmt"] == "yuv420p"
    assert (out["width"], out["height"]) == (width, height)
    assert width % 2 == 0 and height % 2 == 0 and min(width, height) <= video.MAX_SIDE
    assert out["duration"] == pytest.approx(seconds, abs=0.1)
    assert out["rotation"] == 0
    boxes = top_level_boxes(folder / "clip.mp4")
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    with Image.open(folder / "poster.jpg") as poster:
        assert poster.format == "JPEG" and poster.size == (width, height)
        assert not poster.getexif() and "exif" not in poster.info
    # Written whole or not at all: no temporary file left beside the outputs.
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mp4", "poster.jpg"]
    assert (folder / "clip.mp4").stat().st_mode & 0o777 == 0o600
    return out


def assert_no_source_metadata(folder: Path, out: dict[str, object]) -> None:
    metadata = out["metadata"]
    assert isinstance(metadata, dict) and set(metadata) <= MUXER_TAGS, metadata
    for tags in out["stream_metadata"]:  # type: ignore[attr-defined]
        assert set(tags) <= STREAM_TAGS, tags
        assert tags.get("handler_name") in (None, "VideoHandler", "SoundHandler"), tags
    data = (folder / "clip.mp4").read_bytes()
    for leak in (b"+37.3317", b"Apple", b"iPhone", b"Emma", b"2024-05-01", b"Lavf"):
        assert leak not in data, leak


def test_mp4_h264_aac_full_hd(tmp_path: Path) -> None:
    """A 1080p MP4 with sound comes out 720p H.264 + AAC, index first, with a poster."""
    source = write_clip(tmp_path / "clip.mp4", seconds=2, width=1920, height=1080, fps=4)
    assert video.probe(source) == video.Probe(
        duration=2.0, width=1920, height=1080, codec="h264", has_audio=True, rotation=0
    )
    result = transcode(source, tmp_path / "out")
    assert (result.width, result.height) == (1280, 720)
    assert result.duration == pytest.approx(2.0, abs=0.1)
    assert result.size == (tmp_path / "out" / "clip.mp4").stat().st_size
    out = assert_playable(tmp_path / "out", 1280, 720, 2.0)
    assert out["types"] == ["audio", "video"] and out["audio_codec"] == "aac"
    assert_no_source_metadata(tmp_path / "out", out)


def test_iphone_mov_hevc_upright_and_anonymous(tmp_path: Path) -> None:
    """An iPhone-like portrait HEVC MOV plays upright with no rotation flag, and loses its
    place, maker, model, time and title."""
    clip = Clip(
        video_codec="libx265",
        rotation=-90,  # landscape pixels, shown turned a quarter clockwise
        metadata=IPHONE_METADATA,
        stream_metadata={"title": "Emma", "creation_time": "2024-05-01T08:00:00Z"},
    )
    source = clip.write(tmp_path / "IMG_0001.MOV")
    with av.open(str(source)) as container:
        assert container.metadata["com.apple.quicktime.make"] == "Apple"
        assert next(container.decode(video=0)).rotation == -90
    assert video.probe(source) == video.Probe(
        duration=2.0, width=240, height=320, codec="hevc", has_audio=True, rotation=90
    )
    result = transcode(source, tmp_path / "out")
    assert (result.width, result.height) == (240, 320)
    out = assert_playable(tmp_path / "out", 240, 320, 2.0)
    # The white block was top-left in the stored pixels: a quarter turn clockwise puts it
    # top-right.
    picture = out["first_frame"]
    assert isinstance(picture, Image.Image)
    assert picture.getpixel((230, 10)) > 200  # type: ignore[operator]
    assert picture.getpixel((10, 10)) < 50  # type: ignore[operator]
    assert picture.getpixel((230, 310)) < 50  # type: ignore[operator]
    assert_no_source_metadata(tmp_path / "out", out)


@pytest.mark.parametrize(
    ("rotation", "size", "bright"),
    [(180, (320, 240), (310, 230)), (90, (240, 320), (10, 310))],
)
def test_other_turns(
    tmp_path: Path, rotation: int, size: tuple[int, int], bright: tuple[int, int]
) -> None:
    """Upside-down and counter-clockwise display matrices are applied to the pixels too."""
    source = write_clip(tmp_path / "clip.mov", rotation=rotation, audio_codec=None, seconds=1)
    transcode(source, tmp_path / "out")
    out = assert_playable(tmp_path / "out", *size, 1.0)
    picture = out["first_frame"]
    assert isinstance(picture, Image.Image)
    assert picture.getpixel(bright) > 200  # type: ignore[operator]
    assert picture.getpixel((10, 10)) < 50  # type: ignore[operator]


def test_webm_vp9_opus(tmp_path: Path) -> None:
    """A WebM with VP9 and Opus comes out as H.264 + AAC in MP4."""
    source = write_clip(
        tmp_path / "clip.webm", video_codec="libvpx-vp9", audio_codec="libopus", seconds=2
    )
    assert video.probe(source).codec == "vp9"
    transcode(source, tmp_path / "out")
    out = assert_playable(tmp_path / "out", 320, 240, 2.0)
    assert out["format"].startswith("mov,mp4")  # type: ignore[union-attr]
    assert out["audio_codec"] == "aac"
    assert_no_source_metadata(tmp_path / "out", out)


def test_silent_clip_has_no_sound_track(tmp_path: Path) -> None:
    """A clip without sound comes out without an audio stream; small clips are not upscaled."""
    source = write_clip(tmp_path / "clip.mp4", audio_codec=None, width=176, height=144)
    assert not video.probe(source).has_audio
    transcode(source, tmp_path / "out")
    out = assert_playable(tmp_path / "out", 176, 144, 2.0)
    assert out["types"] == ["video"]


def test_hdr_clip_becomes_ordinary_video(tmp_path: Path) -> None:
    """A 10-bit BT.2020 (HLG) clip, as recent iPhones record, comes out 8-bit BT.709."""
    source = write_clip(
        tmp_path / "hdr.mov", video_codec="libx265", hdr=True, audio_codec=None, seconds=1
    )
    transcode(source, tmp_path / "out")
    out = assert_playable(tmp_path / "out", 320, 240, 1.0)
    assert out["primaries"] == 1  # BT.709


def test_output_size_keeps_shape() -> None:
    """The shorter side is capped at 720, dimensions are even, nothing is upscaled."""
    assert video.output_size(1920, 1080) == (1280, 720)
    assert video.output_size(1080, 1920) == (720, 1280)
    assert video.output_size(3840, 2160) == (1280, 720)
    assert video.output_size(1440, 1080) == (960, 720)
    assert video.output_size(640, 480) == (640, 480)
    assert video.output_size(321, 241) == (320, 240)


def test_progress_rises_to_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress is reported in increasing fractions and ends at 1.0."""
    monkeypatch.setattr(video, "PROGRESS_INTERVAL", 0.0)
    source = write_clip(tmp_path / "clip.mp4", seconds=3, fps=5, audio_codec=None)
    seen: list[float] = []
    transcode(source, tmp_path / "out", progress=seen.append)
    assert len(seen) > 5
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 1.0 and all(0.0 <= f < 1.0 for f in seen[:-1])


def test_browser_recording_without_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WebM that does not say how long it is (a browser's recording) is transcoded, with
    progress by bytes read."""
    monkeypatch.setattr(video, "PROGRESS_INTERVAL", 0.0)
    source = write_clip(
        tmp_path / "recording.webm",
        video_codec="libvpx",
        audio_codec="libopus",
        live=True,
        seconds=3,
    )
    assert video.probe(source).duration == 0.0
    seen: list[float] = []
    result = transcode(source, tmp_path / "out", progress=seen.append)
    assert result.duration == pytest.approx(3.0, abs=0.15)
    assert_playable(tmp_path / "out", 320, 240, 3.0)
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1] == 1.0


def test_length_limit_holds_without_declared_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip that declares no length is stopped once its frames pass the limit."""
    monkeypatch.setattr(video, "MAX_SECONDS", 1)
    source = write_clip(
        tmp_path / "recording.webm", video_codec="libvpx", live=True, seconds=4, audio_codec=None
    )
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(VideoRefused) as refused:
        video.transcode(source, out / "clip.mp4", out / "poster.jpg")
    assert refused.value.code == "too_long"
    assert list(out.iterdir()) == []


def _zip(folder: Path) -> Path:
    path = folder / "holiday.mp4"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clip.txt", "not a video " * 100)
    return path


def _picture(kind: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "photo.mp4"
        Image.new("RGB", (64, 48), "red").save(path, format=kind)
        return path

    return make


def _animated_gif(folder: Path) -> Path:
    path = folder / "funny.mp4"
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return path


def _heic(folder: Path) -> Path:
    """The start of an iPhone HEIC photo (an ISO file that FFmpeg's MP4 demuxer reads)."""
    path = folder / "IMG_0002.mp4"
    ftyp = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    path.write_bytes(ftyp + b"\x00\x00\x00\x08free" + os.urandom(1000))
    return path


def _random(folder: Path) -> Path:
    path = folder / "noise.mp4"
    path.write_bytes(os.urandom(100_000))
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.touch()
    return path


def _ten_minutes(folder: Path) -> Path:
    return write_clip(
        folder / "long.mp4", seconds=600, fps=1, width=16, height=16, audio_codec=None
    )


def _cut_before_index(folder: Path) -> Path:
    """An upload cut at half its size: the index (moov, written last) is missing."""
    whole = write_clip(folder / "whole.mp4")
    assert top_level_boxes(whole)[-1] == "moov"
    return truncate(whole, folder / "half.mp4", 0.5)


def _end_cut_off(folder: Path) -> Path:
    """Index first, but the end of the data is missing."""
    whole = write_clip(folder / "whole.mp4", faststart=True, seconds=3)
    return truncate(whole, folder / "cut.mp4", 0.5)


def _end_cut_off_webm(folder: Path) -> Path:
    whole = write_clip(folder / "whole.webm", video_codec="libvpx", audio_codec="libopus")
    return truncate(whole, folder / "cut.webm", 0.5)


def _sound_only(folder: Path) -> Path:
    return write_clip(folder / "voice.mp4", video_codec=None)


def _too_large(folder: Path) -> Path:
    path = folder / "huge.mp4"
    with path.open("wb") as handle:
        handle.truncate(video.MAX_BYTES + 1)  # sparse: costs no disk
    return path


REFUSALS = {
    "zip renamed .mp4": (_zip, "not_a_video"),
    "PNG renamed .mp4": (_picture("PNG"), "not_a_video"),
    "JPEG renamed .mp4": (_picture("JPEG"), "not_a_video"),
    "GIF renamed .mp4": (_picture("GIF"), "not_a_video"),
    "WebP renamed .mp4": (_picture("WEBP"), "not_a_video"),
    "animated GIF renamed .mp4": (_animated_gif, "not_a_video"),
    "HEIC photo": (_heic, "not_a_video"),
    "random bytes": (_random, "not_a_video"),
    "empty file": (_empty, "not_a_video"),
    "ten minutes": (_ten_minutes, "too_long"),
    "over 300 MB": (_too_large, "too_large"),
    "cut before its index": (_cut_before_index, "damaged"),
    "end cut off": (_end_cut_off, "damaged"),
    "WebM end cut off": (_end_cut_off_webm, "damaged"),
    "sound only": (_sound_only, "no_picture"),
}


@pytest.mark.parametrize(("make", "code"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals(tmp_path: Path, make: Callable[[Path], Path], code: str) -> None:
    """What is not a short, whole phone video is refused with its reason, leaving no file."""
    source = make(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    calls: list[float] = []
    with pytest.raises(VideoRefused) as refused:
        video.transcode(source, out / "clip.mp4", out / "poster.jpg", calls.append)
    assert refused.value.code == code
    assert list(out.iterdir()) == []
    assert 1.0 not in calls
    if code != "damaged" or make is _cut_before_index:
        # What probe can tell without decoding everything, it tells.
        with pytest.raises(VideoRefused) as probed:
            video.probe(source)
        assert probed.value.code == code


def test_messages(app: Flask) -> None:
    """Each reason reads as a sentence for the person, in the request's language."""
    with app.test_request_context():
        assert VideoRefused("too_long").message() == (
            "The clip is longer than 3 minutes. Record or trim a shorter one."
        )
        assert video.reason_text("not_a_video").startswith("This file is not a video.")
        for code in video.CODES:
            assert video.reason_text(code) == VideoRefused(code).message()
            assert video.reason_text(code).endswith(".")
    with pytest.raises(ValueError):
        VideoRefused("boring")
