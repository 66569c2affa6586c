"""Synthetic video clips for tests and benchmarks, made with PyAV (FFmpeg's own sources).

The pictures come from FFmpeg's lavfi sources, so no frame is built in Python:
``pattern="marker"`` is a black picture with a white block in its top-left quarter (as
stored, before any rotation), which tells which way up a transcoded clip came out;
``pattern="busy"`` is FFmpeg's moving test card with grain, much closer to a phone clip's
cost to decode and encode than a still picture. The sound is a 440 Hz tone. Video and
sound are written interleaved, as a phone writes them.

Keep test clips small and short: a few seconds at a few frames per second.
"""

import io
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
from av.audio.frame import AudioFrame
from av.filter import Graph
from av.video.frame import VideoFrame

# Options that make each encoder fast enough for tests (quality does not matter here).
FAST_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=none"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
    "libvpx": {"deadline": "realtime", "cpu-used": "16"},
}
# Tags Apple players look for (FFmpeg's defaults in MOV are hev1 / avc1).
CODEC_TAGS = {"libx265": "hvc1"}
FORMAT_OF_SUFFIX = {".mp4": "mp4", ".mov": "mov", ".webm": "webm", ".mkv": "matroska"}

# What an iPhone writes on a clip: place, maker, model and time.
IPHONE_METADATA = {
    "location": "+37.3317-122.0302/",
    "location-eng": "+37.3317-122.0302/",
    "com.apple.quicktime.location.ISO6709": "+37.3317-122.0302+012.000/",
    "com.apple.quicktime.make": "Apple",
    "com.apple.quicktime.model": "iPhone 15 Pro",
    "com.apple.quicktime.software": "17.4.1",
    "com.apple.quicktime.creationdate": "2024-05-01T10:00:00+0200",
    "creation_time": "2024-05-01T08:00:00.000000Z",
    "title": "Emma at the park",
}


@dataclass
class Clip:
    """How to make a clip; ``write`` makes it."""

    seconds: float = 2.0
    width: int = 320
    height: int = 240
    fps: int = 10
    video_codec: str | None = "libx264"  # None: sound only (an .m4a)
    pix_fmt: str = "yuv420p"
    # An iPhone HDR clip: 10-bit, BT.2020 primaries, HLG transfer (use libx265).
    hdr: bool = False
    audio_codec: str | None = "aac"
    sample_rate: int = 48000
    channels: int = 2
    pattern: str = "marker"  # or "busy"
    # Counter-clockwise degrees written as the display matrix; an iPhone held upright
    # records landscape pixels with -90 (show them turned a quarter clockwise).
    rotation: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)
    stream_metadata: Mapping[str, str] = field(default_factory=dict)
    faststart: bool = False
    # Written to a pipe, as a browser's MediaRecorder writes WebM: no duration, no index.
    live: bool = False
    encoder_options: Mapping[str, str] | None = None

    def write(self, path: Path) -> Path:
        return write_clip(path, self)


def _video_source(clip: Clip) -> Graph:
    graph = Graph()
    size = f"{clip.width}x{clip.height}"
    if clip.pattern == "busy":
        nodes = [
            graph.add("testsrc2", f"size={size}:rate={clip.fps}:duration={clip.seconds}"),
            graph.add("noise", "alls=8:allf=t"),
        ]
    else:
        nodes = [
            graph.add("color", f"c=black:size={size}:rate={clip.fps}:duration={clip.seconds}"),
            graph.add("drawbox", "x=0:y=0:w=iw/4:h=ih/4:color=white:t=fill"),
        ]
    pix_fmt = "yuv420p10le" if clip.hdr else clip.pix_fmt
    nodes += [graph.add("format", pix_fmt), graph.add("buffersink")]
    graph.link_nodes(*nodes)
    graph.configure()
    return graph


def _audio_source(clip: Clip) -> Graph:
    graph = Graph()
    layout = "mono" if clip.channels == 1 else "stereo"
    nodes = [
        graph.add("sine", f"frequency=440:sample_rate={clip.sample_rate}:duration={clip.seconds}"),
        graph.add("aformat", f"channel_layouts={layout}"),
        graph.add("abuffersink"),
    ]
    graph.link_nodes(*nodes)
    graph.configure()
    return graph


def _frames(graph: Graph) -> Iterator[VideoFrame | AudioFrame]:
    while True:
        try:
            yield graph.pull()
        except (av.EOFError, av.BlockingIOError):
            return


def write_clip(path: Path, clip: Clip | None = None, **changes: object) -> Path:
    """Write a clip to ``path`` (container chosen by the suffix); returns ``path``.

    ``write_clip(path, seconds=5, audio_codec=None)`` changes the defaults of ``Clip`` (or
    of the ``clip`` given).
    """
    clip = replace(clip or Clip(), **changes)  # type: ignore[arg-type]
    movflags = ["use_metadata_tags"] if clip.metadata else []
    if clip.faststart:
        movflags.append("faststart")
    fmt = FORMAT_OF_SUFFIX[path.suffix.lower()]
    options = {"movflags": "+".join(movflags)} if movflags and fmt in ("mp4", "mov") else {}
    with ExitStack() as stack:
        target: str | _Pipe = str(path)
        if clip.live:
            target = _Pipe(stack.enter_context(path.open("wb")))
        out = stack.enter_context(av.open(target, "w", format=fmt, container_options=options))
        out.metadata.update(clip.metadata)
        video = _add_video(out, clip) if clip.video_codec else None
        audio = None
        if clip.audio_codec:
            audio = out.add_stream(
                clip.audio_codec,
                rate=clip.sample_rate,
                layout="mono" if clip.channels == 1 else "stereo",
            )
            audio.metadata.update(clip.stream_metadata)
        pictures = _frames(_video_source(clip)) if video is not None else iter(())
        sounds = _frames(_audio_source(clip)) if audio is not None else iter(())
        # Write in time order, so sound and picture are interleaved in the file.
        picture, sound = next(pictures, None), next(sounds, None)
        while picture is not None or sound is not None:
            if sound is None or (picture is not None and _time(picture) <= _time(sound)):
                assert video is not None and isinstance(picture, VideoFrame)
                out.mux(video.encode(picture))
                picture = next(pictures, None)
            else:
                assert audio is not None and isinstance(sound, AudioFrame)
                out.mux(audio.encode(sound))
                sound = next(sounds, None)
        if video is not None:
            out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))
    return path


class _Pipe(io.RawIOBase):
    """A file that cannot seek: the muxer writes as it goes and never comes back."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.handle.write(data)


def _add_video(out: av.container.OutputContainer, clip: Clip) -> av.VideoStream:
    assert clip.video_codec is not None
    video = out.add_stream(
        clip.video_codec,
        rate=clip.fps,
        options=dict(clip.encoder_options or FAST_OPTIONS.get(clip.video_codec, {})),
    )
    video.width, video.height = clip.width, clip.height
    video.pix_fmt = "yuv420p10le" if clip.hdr else clip.pix_fmt
    if clip.hdr:
        context = video.codec_context
        # BT.2020 primaries and matrix (non-constant luminance), ARIB STD-B67 (HLG).
        context.color_primaries, context.colorspace, context.color_trc = 9, 9, 18
    if clip.video_codec in CODEC_TAGS:
        video.codec_tag = CODEC_TAGS[clip.video_codec]
    video.metadata.update(clip.stream_metadata)
    if clip.rotation:
        video.set_display_rotation(clip.rotation)
    return video


def _time(frame: VideoFrame | AudioFrame) -> Fraction:
    assert frame.pts is not None and frame.time_base is not None
    return frame.pts * frame.time_base


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order (``ftyp``, ``moov``, ``mdat``...)."""
    boxes = []
    size_of_file = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + 8 <= size_of_file:
            handle.seek(offset)
            header = handle.read(16)
            size = int.from_bytes(header[:4], "big")
            boxes.append(header[4:8].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                break
            if size < 8:
                raise ValueError(f"bad box size {size} at {offset}")
            offset += size
    return boxes


def truncate(source: Path, target: Path, fraction: float) -> Path:
    """A copy of the first ``fraction`` of ``source``'s bytes (an upload cut short)."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
