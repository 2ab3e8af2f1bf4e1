"""The ``vidreward`` console command.

``vidreward motion CLIP [--json] [--out DIR]`` prints the motion-evidence record of any clip
(:mod:`vidreward.perception.evidence`): a table, or with ``--json`` the record itself; ``--out``
also writes ``evidence.json``, the per-frame ``track.csv`` and storyboard overlays there;
``--fovy-deg`` and ``--principal-point`` describe the lens where it is known (depth speed needs the
focal length; by default a 45 degree vertical field of view, centred, is assumed).

``vidreward rate PAGE_DIR --ratings FILE [--host H] [--port P]`` serves a blind rating page
(:mod:`vidreward.compare.rating_server`), prints its address and saves what raters submit into
``FILE`` until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys

from vidreward.errors import VidrewardError


def _motion(args: argparse.Namespace) -> int:
    from vidreward.perception.evidence import CameraModel, analyse_clip

    try:
        lens = CameraModel(principal_point=tuple(args.principal_point) if args.principal_point else None,
                           **({} if args.fovy_deg is None else {"fovy_deg": args.fovy_deg}))
    except ValueError as exc:
        print(f"vidreward motion: --fovy-deg: {exc}", file=sys.stderr)
        return 2
    ev = analyse_clip(args.clip, out_dir=args.out, max_frames=args.max_frames, lens=lens)
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


def _rate(args: argparse.Namespace) -> int:
    from vidreward.compare.rating_server import serve

    # Ctrl-C stops it even when started with SIGINT ignored (inherited: a background job of a
    # script, a test runner's worker), where Python would not raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server = serve(args.page_dir, args.ratings, host=args.host, port=args.port)
    try:  # a Ctrl-C as soon as the address is printed stops it as cleanly as one while serving
        print(f"rating page: {server.url}  (ratings saved to {args.ratings}; Ctrl-C stops)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidreward", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    motion = sub.add_parser("motion", help="print the motion evidence of a clip")
    motion.add_argument("clip", help="video file")
    motion.add_argument("--json", action="store_true", help="print the record as JSON")
    motion.add_argument("--out", default=None, help="also write evidence.json, track.csv, overlays here")
    motion.add_argument("--max-frames", type=int, default=900, help="analyse at most this many frames")
    motion.add_argument("--fovy-deg", type=float, default=None,
                        help="the camera's vertical field of view over the clip's frame, degrees (depth "
                        "speed needs it; default 45)")
    motion.add_argument("--principal-point", type=float, nargs=2, metavar=("X", "Y"), default=None,
                        help="where the optical axis meets the frame, in the clip's pixels (default: the centre)")
    motion.set_defaults(run=_motion)
    rate = sub.add_parser("rate", help="serve a rating page and save the ratings raters submit")
    rate.add_argument("page_dir", help="the rating page's directory (with index.html)")
    rate.add_argument("--ratings", required=True, help="the ratings file to merge saves into")
    rate.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    rate.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    rate.set_defaults(run=_rate)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except VidrewardError as exc:
        print(f"vidreward {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
