"""The ``vidreward`` console command.

``vidreward motion CLIP [--json] [--out DIR]`` prints the motion-evidence record of any clip
(:mod:`vidreward.perception.evidence`): a table, or with ``--json`` the record itself; ``--out``
also writes ``evidence.json``, the per-frame ``track.csv`` and storyboard overlays there.
"""

from __future__ import annotations

import argparse
import sys

from vidreward.errors import VidrewardError


def _motion(args: argparse.Namespace) -> int:
    from vidreward.perception.evidence import analyse_clip

    ev = analyse_clip(args.clip, out_dir=args.out, max_frames=args.max_frames)
    if args.json:
        print(ev.to_json())
        return 0
    print(f"{args.clip}: {ev.frames} frames at {ev.fps:g} fps, subject found in "
          f"{100 * ev.found_fraction:.0f} % of them")
    for key, q in ev.quantities.items():
        if q.value is None:
            shown = f"unknown: {q.unknown}"
        elif isinstance(q.value, float):
            shown = f"{q.value:.3f} {q.unit}".rstrip() + f"  (confidence {q.confidence:.2f})"
        else:
            shown = f"{q.value}  (confidence {q.confidence:.2f})"
        print(f"  {key:<22} {shown}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidreward", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    motion = sub.add_parser("motion", help="print the motion evidence of a clip")
    motion.add_argument("clip", help="video file")
    motion.add_argument("--json", action="store_true", help="print the record as JSON")
    motion.add_argument("--out", default=None, help="also write evidence.json, track.csv, overlays here")
    motion.add_argument("--max-frames", type=int, default=900, help="analyse at most this many frames")
    motion.set_defaults(run=_motion)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except VidrewardError as exc:
        print(f"vidreward {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
