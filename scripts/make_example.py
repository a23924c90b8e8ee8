"""Regenerate the example datapack shipped in portal/example/ (all data made here, none downloaded)."""
from __future__ import annotations

import json
import math
import struct
import wave
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "portal" / "example"


def tone(path: Path, seconds: float = 1.0, rate: int = 8000, freq: float = 440.0) -> None:
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def png(path: Path, width: int = 96, height: int = 64) -> None:
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# Sensor files shaped as the public MYO example's: a JSON array of rows, one row per sample, one number
# per channel, sampled at the rate their datatype states (200 Hz), declared as plain text.
ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"  # 3-axis accelerometer: X, Y, Z in g
EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"  # MYO 8-channel EMG
SENSOR_MIME = "text/plain; charset=us-ascii"


def accelerometer(path: Path, samples: int = 400) -> None:
    data = [[round(math.sin(i / 10), 4), round(math.cos(i / 10), 4), round(0.98 + 0.02 * math.sin(i / 3), 4)]
            for i in range(samples)]
    path.write_text(json.dumps(data))


def emg(path: Path, samples: int = 400) -> None:
    envelope = [math.exp(-((i - 200) / 90) ** 2) for i in range(samples)]
    data = [[round(40 * envelope[i] * math.sin(i / (2 + channel)), 3) for channel in range(8)] for i in range(samples)]
    path.write_text(json.dumps(data))


def main() -> None:
    (OUT / "audio").mkdir(parents=True, exist_ok=True)
    (OUT / "sensors").mkdir(parents=True, exist_ok=True)
    tone(OUT / "audio" / "tone.wav")
    accelerometer(OUT / "sensors" / "accelerometer.json")
    emg(OUT / "sensors" / "emg 2.json")
    png(OUT / "setup.png")
    document = {
        "info": {
            "name": "Portal example",
            "author": "repovizz2 portal",
            "description": "A one-second tone, two sensor streams shaped as the public MYO example's and a picture of the set-up, made by the portal's own script.",
            "keywords": ["example", "audio", "sensors"],
        },
        "children": [
            {"class": "data", "name": "Set-up", "text": "Picture of the recording set-up", "link": "setup.png",
             "mime": "image/png"},
            {"class": "container", "name": "Audio", "text": "Microphone", "children": [
                {"class": "data", "name": "Tone", "text": "440 Hz, 1 s, 8 kHz mono", "link": "audio/tone.wav",
                 "mime": "audio/wav"},
            ]},
            {"class": "container", "name": "Sensors", "text": "Wearable sensors", "children": [
                {"class": "data", "name": "Accelerometer", "text": "XYZ acceleration (g), 2 s at 200 Hz",
                 "link": "sensors/accelerometer.json", "mime": SENSOR_MIME, "type": ACCELEROMETER},
                {"class": "data", "name": "EMG", "text": "Forearm EMG, 8 channels, 2 s at 200 Hz",
                 "link": "sensors/emg 2.json", "mime": SENSOR_MIME, "type": EMG},
            ]},
        ],
    }
    (OUT / "datapack.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
