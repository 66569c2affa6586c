"""Therapists' video clips: refuse what is not a short phone video, re-encode the rest.

A clip is decoded and encoded again (never stored as uploaded), like the activity pictures
(``services/pictures.py``): the stored MP4 is produced by our encoder from decoded pixels
and sound, so nothing else of the source file survives. No location, maker, model, time or
title is carried over, from the container or from any stream.

The output plays in every phone browser: H.264 (High, yuv420p) and AAC in an MP4 whose
index (``moov``) comes before the data, so playback starts before the whole file has
arrived. Its shorter side is at most ``MAX_SIDE``. The pixels are turned upright (an iPhone
held upright records landscape pixels and a display matrix saying "turn a quarter
clockwise"), so the output needs no rotation flag.

Decoding goes frame by frame, so memory stays flat whatever the clip's length. It belongs
in a background job, never in a request: a 3-minute 1080p clip takes over a minute of CPU
(bench/media.py). FFmpeg opens an upload only with the MP4/MOV and Matroska/WebM demuxers
and the file protocol: a playlist or image demuxer that FFmpeg would pick for a crafted
upload is refused before it reads anything.
"""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.filter import Graph
from av.video.frame import PictureType, VideoFrame
from av.video.stream import VideoStream
from flask_babel import gettext
from PIL import Image

MAX_SECONDS = 180  # 3 minutes
MAX_BYTES = 300 * 1024 * 1024
MAX_SIDE = 720  # the output's shorter side (720p, portrait or landscape); never upscaled
# Phones record at most 8K; a header claiming more is lying, and decoding it would take
# gigabytes. Refused as "too_large".
MAX_PIXELS = 7680 * 4320

CODES = ("not_a_video", "too_long", "too_large", "damaged", "no_picture")

PROGRESS_INTERVAL = 0.5  # seconds between two progress calls
# A clip trimmed to 3 minutes on a phone may last a few hundredths more.
_LENGTH_SLACK = 1.0
# Decoding that ends this far short of the declared duration means the file was cut.
_SHORTFALL = 0.1
_SHORTFALL_MIN = 0.5
# A video whose first frames do not come out of this many packets is not a video we want.
_PROBE_PACKETS = 500
_POSTER_AT = 1.0  # seconds, or the middle of a shorter clip
_POSTER_QUALITY = 80

# Only the demuxers of what phones and browsers record: MP4/MOV/3GP (one demuxer) and
# Matroska/WebM; and only local files (no playlist reaching for other files or URLs).
_FORMATS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm")
_OPEN_OPTIONS = {"format_whitelist": ",".join(_FORMATS), "protocol_whitelist": "file"}
# HEIF/AVIF pictures (and their bursts) are ISO files that FFmpeg's MP4 demuxer reads.
_IMAGE_BRANDS = {
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"mif1",
    b"mif2",
    b"msf1",
    b"avif",
    b"avis",
    b"jpeg",
}
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska/WebM
_ISO_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

_VIDEO_OPTIONS = {
    # Speed: a 1080p phone clip must transcode at least twice as fast as real time on two
    # cores (bench/media.py). veryfast with the simplest motion search (dia, subme=1) takes
    # about 55% of veryfast's encoding time for files about 15% larger; superfast is no
    # faster and makes files twice as large. crf 23 is x264's default quality, and the cap
    # keeps a busy clip light on a family's data plan.
    "preset": "veryfast",
    "x264-params": "me=dia:subme=1",
    "crf": "23",
    "profile": "high",
    "maxrate": "4M",
    "bufsize": "8M",
}
# AVColorPrimaries / AVColorTransferCharacteristic / AVColorSpace / AVColorRange values.
_BT709 = 1
_BT2020 = 9  # iPhone HDR (HLG) clips
_LIMITED_RANGE = 1


# The messages are functions so each is translated for the request that reads it.
def _not_a_video() -> str:
    return gettext(
        "This file is not a video. Choose a clip your phone recorded (MP4, MOV or WebM)."
    )


def _too_long() -> str:
    return gettext("The clip is longer than 3 minutes. Record or trim a shorter one.")


def _too_large() -> str:
    return gettext("The file is larger than 300 MB.")


def _damaged() -> str:
    return gettext(
        "This video could not be read to the end; it may be damaged or incomplete. "
        "Try uploading it again."
    )


def _no_picture() -> str:
    return gettext("This file has no picture track.")


_REASONS: dict[str, Callable[[], str]] = {
    "not_a_video": _not_a_video,
    "too_long": _too_long,
    "too_large": _too_large,
    "damaged": _damaged,
    "no_picture": _no_picture,
}


def reason_text(code: str) -> str:
    """Why a clip was refused, in the current request's language (``code`` as stored)."""
    try:
        return _REASONS[code]()
    except KeyError:
        raise ValueError(f"unknown refusal code {code!r}") from None


class VideoRefused(Exception):
    """A clip we will not store: ``code`` (one of ``CODES``) is what to keep, ``message()``
    what to show, ``detail`` what to log (FFmpeg's words, untranslated)."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in _REASONS:
            raise ValueError(f"unknown refusal code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    def message(self) -> str:
        return reason_text(self.code)


@dataclass(frozen=True)
class Probe:
    """What a clip is, as it will be shown: ``width`` and ``height`` are upright (after
    ``rotation``, the clockwise turn the display matrix asks for: 0, 90, 180 or 270).
    ``duration`` is in seconds, 0.0 when the file does not say (a WebM recorded by a
    browser); the length limit is then enforced on the frames while transcoding."""

    duration: float
    width: int
    height: int
    codec: str
    has_audio: bool
    rotation: int


@dataclass(frozen=True)
class Transcoded:
    """The stored clip: seconds, pixels, and the MP4's size in bytes."""

    duration: float
    width: int
    height: int
    size: int


@dataclass(frozen=True)
class _Source:
    probe: Probe
    video_index: int
    audio_index: int | None
    hdr: bool
    # The first frame's colour description, passed on to players.
    color_primaries: int
    color_trc: int
    colorspace: int


def probe(path: Path) -> Probe:
    """What ``path`` holds, or ``VideoRefused`` for anything that is not a phone video
    within the limits. Decodes the first frames only: a clip cut short in the middle is
    found by ``transcode``."""
    return _inspect(path).probe


def _sniff(path: Path) -> str:
    """What the first bytes say: "container" (MP4/MOV, Matroska), "picture" (HEIF/AVIF)
    or "" (anything else)."""
    with path.open("rb") as handle:
        head = handle.read(12)
    if head.startswith(_EBML):
        return "container"
    if len(head) == 12 and head[4:8] in _ISO_BOXES:
        return "picture" if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS else "container"
    return ""


def _open(path: Path) -> InputContainer:
    try:
        container = av.open(str(path), "r", options=_OPEN_OPTIONS, metadata_errors="ignore")
    except av.FFmpegError as error:
        # An MP4 cut short before its index (moov, often written last) is damaged.
        code = "damaged" if _sniff(path) == "container" else "not_a_video"
        raise VideoRefused(code, str(error)) from error
    if not set(container.format.name.split(",")) & set(_FORMATS):
        container.close()  # the whitelist should have stopped it; never trust one guard
        raise VideoRefused("not_a_video", container.format.name)
    return container


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:  # not cover art
            return stream
    raise VideoRefused("no_picture")


def _audio_stream(container: InputContainer) -> AudioStream | None:
    decodable = [s for s in container.streams.audio if s.codec_context is not None]
    for stream in decodable:
        if stream.disposition & av.stream.Disposition.default:
            return stream
    return decodable[0] if decodable else None


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None or value <= 0:
        return None
    return float(value * time_base)


def _declared_duration(container: InputContainer, stream: VideoStream) -> float:
    """The video stream's duration, else the container's; refuses either beyond the limit."""
    in_container = _seconds(container.duration, Fraction(1, av.time_base))
    in_stream = _seconds(stream.duration, stream.time_base)
    for seconds in (in_container, in_stream):
        if seconds is not None and seconds > MAX_SECONDS + _LENGTH_SLACK:
            raise VideoRefused("too_long", f"{seconds:.1f} s")
    return in_stream or in_container or 0.0


def _inspect(path: Path) -> _Source:
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise VideoRefused("not_a_video", "no such file") from error
    if size > MAX_BYTES:
        raise VideoRefused("too_large", f"{size} bytes")
    if size == 0:
        raise VideoRefused("not_a_video", "empty file")
    if _sniff(path) == "picture":
        raise VideoRefused("not_a_video", "a HEIF/AVIF picture")
    with _open(path) as container:
        stream = _video_stream(container)
        if stream.codec_context is None:
            raise VideoRefused("not_a_video", "no decoder for its picture track")
        duration = _declared_duration(container, stream)
        audio = _audio_stream(container)
        first, count = _first_frames(container, stream)
        if count < 2 and duration == 0.0:
            raise VideoRefused("not_a_video", "a single picture")
        # The display matrix comes with each frame, as counter-clockwise degrees.
        rotation = round(-first.rotation / 90) % 4 * 90
        width, height = first.width, first.height
        sar = stream.sample_aspect_ratio
        if sar and sar != 1:
            width = max(1, round(width * sar))  # shown with square pixels
        if rotation in (90, 270):
            width, height = height, width
        return _Source(
            probe=Probe(
                duration=duration,
                width=width,
                height=height,
                codec=stream.codec_context.name,
                has_audio=audio is not None,
                rotation=rotation,
            ),
            video_index=stream.index,
            audio_index=audio.index if audio is not None else None,
            hdr=first.color_primaries == _BT2020,
            color_primaries=first.color_primaries,
            color_trc=first.color_trc,
            colorspace=first.colorspace,
        )


def _first_frames(container: InputContainer, stream: VideoStream) -> tuple[VideoFrame, int]:
    """The first decoded frame, and how many came out (1, or 2 when the clip goes on)."""
    context = stream.codec_context
    if context.width * context.height > MAX_PIXELS:
        raise VideoRefused("too_large", f"{context.width}x{context.height}")
    frames: list[VideoFrame] = []
    try:
        for count, packet in enumerate(container.demux(stream)):
            frames.extend(stream.decode(packet))
            if len(frames) >= 2 or count >= _PROBE_PACKETS:
                break
    except av.FFmpegError as error:
        raise VideoRefused("damaged", str(error)) from error
    if not frames:
        raise VideoRefused("damaged", "no frame could be decoded")
    if frames[0].width * frames[0].height > MAX_PIXELS:
        raise VideoRefused("too_large", f"{frames[0].width}x{frames[0].height}")
    return frames[0], len(frames)


def output_size(width: int, height: int) -> tuple[int, int]:
    """The upright output size: shorter side at most MAX_SIDE, even, aspect ratio kept."""
    factor = min(Fraction(1), Fraction(MAX_SIDE, min(width, height)))
    return max(2, int(width * factor) // 2 * 2), max(2, int(height * factor) // 2 * 2)


def transcode(
    source: Path,
    video_out: Path,
    poster_out: Path,
    progress: Callable[[float], None] | None = None,
) -> Transcoded:
    """Re-encode ``source`` to ``video_out`` (MP4) and a poster JPEG to ``poster_out``.

    Refuses (``VideoRefused``) what ``probe`` refuses, and a clip that cannot be decoded to
    its end ("damaged"); a failure to write (a full disk) raises as it is. Both files appear
    whole or not at all: each is written to a temporary file beside its target (0600, like
    the pictures) and renamed when everything is done. ``progress`` gets the fraction done
    (0..1), at most every ``PROGRESS_INTERVAL`` seconds, and 1.0 at the end. The folders
    of ``video_out`` and ``poster_out`` must exist.
    """
    info = _inspect(source)
    temp_video = _temp_beside(video_out, ".mp4")
    temp_poster: Path | None = None
    try:
        temp_poster = _temp_beside(poster_out, ".jpg")
        result = _transcode(source, info, temp_video, temp_poster, progress)
        os.replace(temp_video, video_out)
        try:
            os.replace(temp_poster, poster_out)
        except BaseException:
            video_out.unlink(missing_ok=True)
            raise
    finally:
        temp_video.unlink(missing_ok=True)
        if temp_poster is not None:
            temp_poster.unlink(missing_ok=True)
    if progress is not None:
        progress(1.0)
    return result


def _temp_beside(target: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".transcode-", suffix=suffix)
    os.close(fd)
    return Path(name)


class _Progress:
    """Calls ``report`` with the fraction done, by time or else by bytes read."""

    def __init__(self, report: Callable[[float], None] | None, duration: float, size: int) -> None:
        self.report = report
        self.duration = duration
        self.size = size
        self.last_call = time.monotonic()
        self.last_fraction = 0.0

    def at(self, seconds: float, position: int | None) -> None:
        if self.report is None:
            return
        if self.duration > 0:
            fraction = seconds / self.duration
        elif position is not None and position >= 0:
            # A WebM recorded by a browser says nothing of its length: use the bytes read.
            fraction = position / self.size
        else:
            return
        fraction = min(0.99, max(0.0, fraction))
        now = time.monotonic()
        if now - self.last_call >= PROGRESS_INTERVAL and fraction > self.last_fraction:
            self.last_call, self.last_fraction = now, fraction
            self.report(fraction)


def _decoded(
    container: InputContainer, streams: list[av.stream.Stream]
) -> Iterator[tuple[av.stream.Stream, list[av.frame.Frame], int | None]]:
    """(stream, its frames, byte position) packet by packet; decoding errors refuse."""
    try:
        for packet in container.demux(streams):
            stream = packet.stream
            yield stream, stream.decode(packet), packet.pos  # type: ignore[attr-defined]
    except av.FFmpegError as error:
        raise VideoRefused("damaged", str(error)) from error


def _transcode(
    source: Path,
    info: _Source,
    video_path: Path,
    poster_path: Path,
    progress: Callable[[float], None] | None,
) -> Transcoded:
    width, height = output_size(info.probe.width, info.probe.height)
    with (
        _open(source) as src,
        av.open(
            str(video_path),
            "w",
            format="mp4",
            # bitexact: not even the muxer's name and version go into the file.
            container_options={"movflags": "+faststart", "fflags": "+bitexact"},
        ) as out,
    ):
        video_in = src.streams[info.video_index]
        assert isinstance(video_in, VideoStream)
        video_in.codec_context.thread_type = "AUTO"
        video_in.codec_context.thread_count = 0  # one a core
        audio_in = src.streams[info.audio_index] if info.audio_index is not None else None
        assert audio_in is None or isinstance(audio_in, AudioStream)
        job = _VideoJob(info, video_in, _add_video(out, video_in, info, width, height))
        audio_out = _add_audio(out, audio_in) if audio_in is not None else None
        reporter = _Progress(progress, info.probe.duration, source.stat().st_size)
        streams = [s for s in (video_in, audio_in) if s is not None]
        for stream, frames, position in _decoded(src, streams):
            if stream is video_in:
                for frame in frames:
                    assert isinstance(frame, VideoFrame)
                    out.mux(job.encode(frame))
                reporter.at(job.elapsed, position)
            elif audio_out is not None:
                for sound in frames:
                    # The encoder resamples to its own format, layout and rate.
                    out.mux(audio_out.encode(sound))  # type: ignore[arg-type]
        out.mux(job.video_out.encode(None))
        if audio_out is not None:
            out.mux(audio_out.encode(None))
        job.check_complete()
        _save_poster(job.poster, poster_path)
    return Transcoded(
        duration=round(job.span(), 3),
        width=width,
        height=height,
        size=video_path.stat().st_size,
    )


def _add_video(
    out: OutputContainer, video_in: VideoStream, info: _Source, width: int, height: int
) -> VideoStream:
    rate = video_in.guessed_rate or video_in.average_rate or Fraction(30)
    stream = out.add_stream("libx264", rate=rate, options=dict(_VIDEO_OPTIONS))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    # The source's clock: variable frame rates (phones) keep their timing.
    assert video_in.time_base is not None
    stream.codec_context.time_base = video_in.time_base
    stream.time_base = video_in.time_base
    stream.codec_context.thread_count = _threads()
    context = stream.codec_context
    context.color_range = _LIMITED_RANGE  # the scaler makes it so
    if info.hdr:
        context.color_primaries = context.color_trc = context.colorspace = _BT709
    else:
        context.color_primaries = info.color_primaries
        context.color_trc = info.color_trc
        context.colorspace = info.colorspace
    return stream


def _threads() -> int:
    """x264's own choice (1.5 threads a core), counting only the cores we may run on."""
    return max(1, len(os.sched_getaffinity(0)) * 3 // 2)


def _add_audio(out: OutputContainer, audio_in: AudioStream) -> AudioStream:
    rate = audio_in.sample_rate if audio_in.sample_rate in (44100, 48000) else 48000
    mono = audio_in.channels == 1
    stream = out.add_stream("aac", rate=rate, layout="mono" if mono else "stereo")
    stream.bit_rate = 64_000 if mono else 128_000
    return stream


class _VideoJob:
    """Scales, turns and encodes the decoded frames; keeps the poster frame on the way."""

    def __init__(self, info: _Source, video_in: VideoStream, video_out: VideoStream) -> None:
        self.info = info
        self.video_out = video_out
        assert video_in.time_base is not None
        self.time_base: Fraction = video_in.time_base
        self.graph: Graph | None = None
        self.graph_input: tuple[int, int, str] | None = None
        self.first_pts: int | None = None
        self.last_pts: int | None = None
        self.last_duration = 0
        self.elapsed = 0.0  # seconds from the first frame to the latest
        self.poster: VideoFrame | None = None
        self.poster_chosen = False
        duration = info.probe.duration
        self.poster_at = min(_POSTER_AT, duration / 2) if duration else _POSTER_AT

    def encode(self, frame: VideoFrame) -> list[av.Packet]:
        pts = frame.pts
        if pts is None:
            pts = self.last_pts + max(1, self.last_duration) if self.last_pts is not None else 0
        if self.last_pts is not None and pts <= self.last_pts:
            return []  # a repeated or backward timestamp: the encoder would refuse it
        if self.first_pts is None:
            self.first_pts = pts
        if self.last_pts is not None:
            self.last_duration = pts - self.last_pts
        self.last_pts = pts
        self.elapsed = float((pts - self.first_pts) * self.time_base)
        if self.elapsed > MAX_SECONDS + _LENGTH_SLACK:
            raise VideoRefused("too_long", f"frames beyond {self.elapsed:.1f} s")
        frame.pts, frame.time_base = pts, self.time_base
        packets: list[av.Packet] = []
        for upright in self._filtered(frame):
            if not self.poster_chosen:
                self.poster = upright
                self.poster_chosen = self.elapsed >= self.poster_at
            upright.pict_type = PictureType.NONE  # let x264 choose, not mimic the source
            packets += self.video_out.encode(upright)
        return packets

    def _filtered(self, frame: VideoFrame) -> list[VideoFrame]:
        try:
            graph = self._graph_for(frame)
            graph.push(frame)
            frames = []
            while True:
                try:
                    frames.append(graph.pull())
                except (av.BlockingIOError, av.EOFError):
                    return frames
        except av.FFmpegError as error:
            # The graph only sees the source's frames: what it cannot take is the file's fault.
            raise VideoRefused("damaged", str(error)) from error

    def _graph_for(self, frame: VideoFrame) -> Graph:
        """The filter graph for frames like this one (a new one if the size changed)."""
        shape = (frame.width, frame.height, frame.format.name)
        if self.graph is not None and self.graph_input == shape:
            return self.graph
        if frame.width * frame.height > MAX_PIXELS:
            raise VideoRefused("too_large", f"{frame.width}x{frame.height}")
        rotation = self.info.probe.rotation
        width, height = self.video_out.width, self.video_out.height
        if rotation in (90, 270):
            width, height = height, width  # scale before turning: fewer pixels to turn
        graph = Graph()
        buffer = graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format, time_base=self.time_base
        )
        nodes = [buffer, graph.add("scale", f"{width}:{height}:flags=bicubic:out_range=tv")]
        if self.info.hdr:
            # No tone mapping in this FFmpeg (no zscale). HLG taken as BT.2020 SDR and
            # converted to BT.709 is close to what the phone shows on an ordinary screen;
            # left alone it would look washed out.
            nodes.append(graph.add("colorspace", "all=bt709:iall=bt2020:format=yuv420p"))
        if rotation == 90:
            nodes.append(graph.add("transpose", "clock"))
        elif rotation == 270:
            nodes.append(graph.add("transpose", "cclock"))
        elif rotation == 180:
            nodes += [graph.add("hflip"), graph.add("vflip")]
        nodes += [graph.add("setsar", "1"), graph.add("format", "yuv420p")]
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes)
        graph.configure()
        self.graph, self.graph_input = graph, shape
        return graph

    def span(self) -> float:
        """Seconds from the first frame to the end of the last one."""
        if self.first_pts is None or self.last_pts is None:
            return 0.0
        return float((self.last_pts - self.first_pts + self.last_duration) * self.time_base)

    def check_complete(self) -> None:
        if self.poster is None:
            raise VideoRefused("damaged", "no frame could be decoded")
        declared = self.info.probe.duration
        shortfall = max(_SHORTFALL_MIN, declared * _SHORTFALL)
        if declared and self.span() + shortfall < declared:
            raise VideoRefused(
                "damaged", f"decoding stopped at {self.span():.1f} of {declared:.1f} s"
            )


def _save_poster(frame: VideoFrame | None, path: Path) -> None:
    assert frame is not None
    picture = frame.to_image()
    # A new image from the pixels alone: no EXIF or any other info goes into the JPEG.
    fresh = Image.new("RGB", picture.size)
    fresh.paste(picture)
    fresh.save(path, format="JPEG", quality=_POSTER_QUALITY, optimize=True)
