"""The human rating of the comparison: a blind page, its key, the ratings file and their aggregate.

:func:`build_rating_page` writes ``page_dir/index.html`` (one self-contained page: HTML, CSS and
JS inline), ``page_dir/media/`` (one ``expert_<hex>.mp4`` per task, one ``pair_<hex>.mp4`` per
rollout) and ``page_dir/pairs.json`` (the sorted pair ids, which the rating server accepts). Per
task the expert clip stands beside each rollout, in an order shuffled by ``shuffle_seed``; a task
with three or more pairs is never shown in method order (with two, both orders stay possible:
ruling one out would tell which is which). Nothing under ``page_dir`` names a method, run or seed:
a pair id is a keyed hash of the task and the rollout video's bytes (which the rater sees anyway),
and the mapping pair id -> task, method, seed, run goes to ``key_path`` outside ``page_dir``. The
build refuses a page whose text or file names would contain a method or run name.

The ratings file is ``{"ratings": [{"pair": id, "rating": 1..5, "rater": name}]}``; a save merges
(:func:`merge_ratings`: a rater's new ratings replace that rater's earlier ratings of the same
pairs, everything else is kept). :func:`aggregate_ratings` gives the mean and Student t 95 %
interval of every task x method over all its ratings (every seed, every rater).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidreward.compare.rating_html import render_page
from vidreward.compare.stats import mean_ci95
from vidreward.errors import RatingError
from vidreward.fsutil import Staged, atomic_file, atomic_write_text, dir_files, sha256_file

log = logging.getLogger(__name__)

#: the file in the page directory that lists the page's pair ids (read by the rating server)
PAIRS_FILE = "pairs.json"
RATINGS = range(1, 6)
#: what a rater who leaves the name field empty is recorded as
ANONYMOUS = "anonymous"
COLUMNS = ["task", "method", "n_ratings", "rating_mean", "rating_ci_low", "rating_ci_high"]
_KEY_FIELDS = ("task", "method", "seed", "run")


@dataclass(frozen=True)
class RatedRollout:
    """One rollout to rate: the run's final selected rollout video and its task's expert clip."""

    task: str
    method: str
    seed: int
    run: str
    rollout: Path
    expert: Path


def _keyed_hex(shuffle_seed: int, *parts: str) -> str:
    h = hashlib.blake2b(digest_size=4, key=f"rating-page-{shuffle_seed}".encode())
    h.update("\0".join(parts).encode("utf-8"))
    return h.hexdigest()


def _method_order(pair: tuple[str, RatedRollout]) -> tuple:
    return pair[1].method, pair[1].seed, pair[1].run


def _plan(rollouts: list[RatedRollout], shuffle_seed: int) -> dict[str, dict]:
    """Per task (sorted): the expert to show, its media name and the shuffled ``(pair id, rollout)``s."""
    seen: set[tuple] = set()
    plan: dict[str, dict] = {}
    for r in sorted(rollouts, key=lambda r: (r.task, str(r.rollout))):
        ident = (r.task, r.method, r.seed, r.run)
        if ident in seen:
            raise RatingError(f"{r.rollout}: task {r.task!r}, method {r.method!r}, seed {r.seed}, "
                              f"run {r.run!r} is listed twice")
        seen.add(ident)
        for path in (r.rollout, r.expert):
            if not Path(path).is_file():
                raise RatingError(f"{path}: no such video (task {r.task!r})")
        task = plan.setdefault(r.task, {"expert": Path(r.expert), "pairs": []})
        if sha256_file(r.expert) != sha256_file(task["expert"]):
            log.warning("%s and %s, both expert clips of task %r, differ; the page shows %s",
                        task["expert"], r.expert, r.task, task["expert"])
        task["pairs"].append(r)
    ids: set[str] = set()
    for name, task in sorted(plan.items()):
        task["media"] = f"expert_{_keyed_hex(shuffle_seed, 'expert', name, sha256_file(task['expert']))}.mp4"
        pairs = []
        for r in task["pairs"]:
            content, n = sha256_file(r.rollout), 0
            while (pair := f"pair_{_keyed_hex(shuffle_seed, name, content, str(n))}") in ids:
                n += 1  # the same video twice (or a hash collision): the next id
            ids.add(pair)
            pairs.append((pair, r))
        pairs.sort(key=lambda p: p[0])  # an order that knows nothing of methods, then shuffled
        rng, by_method = random.Random(f"{shuffle_seed}:{name}"), sorted(pairs, key=_method_order)
        rng.shuffle(pairs)
        while len(pairs) >= 3 and pairs == by_method:  # never in method order (with 2, both must
            rng.shuffle(pairs)                          # stay possible, or the order would tell)
        task["pairs"] = pairs
    return dict(sorted(plan.items()))


def _mentions(name: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(name.lower())}(?![a-z0-9])", text.lower()) is not None


def _check_blind(built: Path, page_dir: Path, rollouts: list[RatedRollout]) -> None:
    """Refuse a page (``built``, to be published at ``page_dir``) whose file names or text name a
    method or run. A name that is part of a task name or of the page's fixed wording (a method
    called "robot") is shown alike for every pair and reveals nothing."""
    shared = [r.task for r in rollouts] + [render_page([], None)]
    names = {n for r in rollouts for n in (r.method, r.run)
             if n.strip() and not any(_mentions(n, text) for text in shared)}
    for rel, full in dir_files(built):
        text = rel if rel.endswith(".mp4") else rel + "\n" + full.read_text("utf-8")
        for name in sorted(names):
            if _mentions(name, text):
                raise RatingError(f"{page_dir}: the rating page would reveal {name!r} (in {rel}); "
                                  f"rename that method or run")


def build_rating_page(rollouts: list[RatedRollout], page_dir: Path, key_path: Path,
                      shuffle_seed: int = 0, ratings_file: str | None = None) -> None:
    """Write the blind rating page into ``page_dir`` and its key (pair id -> task, method, seed,
    run, videos) to ``key_path``, both atomically. ``ratings_file`` is the path the page names as
    the place for a downloaded ratings file (when it is opened without the rating server)."""
    page_dir, key_path = Path(page_dir), Path(key_path)
    if not rollouts:
        raise RatingError(f"{page_dir}: no rollouts to rate")
    if key_path.resolve().is_relative_to(page_dir.resolve()):
        raise RatingError(f"{key_path}: the key must lie outside the page directory {page_dir}")
    plan = _plan(list(rollouts), shuffle_seed)
    key = {"shuffle_seed": shuffle_seed, "pairs": {}}
    with Staged() as staged:
        tmp = staged.dir(page_dir)
        (tmp / "media").mkdir()
        for task in plan.values():
            shutil.copyfile(task["expert"], tmp / "media" / task["media"])
            for pair, r in task["pairs"]:
                shutil.copyfile(r.rollout, tmp / "media" / f"{pair}.mp4")
                key["pairs"][pair] = {"task": r.task, "method": r.method, "seed": int(r.seed),
                                      "run": r.run, "rollout": str(r.rollout), "expert": str(r.expert)}
        sections = [(name, task["media"], [p for p, _ in task["pairs"]]) for name, task in plan.items()]
        (tmp / "index.html").write_text(render_page(sections, ratings_file), encoding="utf-8")
        (tmp / PAIRS_FILE).write_text(json.dumps({"pairs": sorted(key["pairs"])}, indent=1) + "\n")
        _check_blind(tmp, page_dir, list(rollouts))
        key["pairs"] = dict(sorted(key["pairs"].items()))
        staged.file(key_path).write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
        staged.commit()
    log.info("rating page %s: %d pairs over %d tasks; key %s", page_dir, len(key["pairs"]),
             len(plan), key_path)


# --------------------------------------------------------------------------- key, ratings files


def _load_json(path: Path, what: str) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RatingError(f"{path}: cannot read the {what} as JSON ({exc})") from exc


def read_key(key_path: Path) -> dict[str, dict]:
    """The key's ``{pair id: {task, method, seed, run, ...}}``."""
    data = _load_json(key_path, "rating key")
    pairs = data.get("pairs") if isinstance(data, dict) else None
    if not isinstance(pairs, dict) or not pairs or not all(
            isinstance(v, dict) and all(f in v for f in _KEY_FIELDS) for v in pairs.values()):
        raise RatingError(f"{key_path}: not a rating key: expected {{\"pairs\": {{id: {{task, "
                          f"method, seed, run}}}}}}")
    return pairs


def read_pair_ids(page_dir: Path) -> set[str]:
    """The pair ids a rating page shows (its ``pairs.json``)."""
    path = Path(page_dir) / PAIRS_FILE
    data = _load_json(path, "pair list")
    pairs = data.get("pairs") if isinstance(data, dict) else None
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        raise RatingError(f"{path}: not a pair list: expected {{\"pairs\": [id, ...]}}")
    return set(pairs)


def _check_rating(value: object, pair: object, known: set[str], source: object) -> int:
    if not isinstance(pair, str) or pair not in known:
        raise RatingError(f"{source}: pair {pair!r} is not on the rating page")
    if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
        raise RatingError(f"{source}: pair {pair}: rating {value!r} is not an integer 1-5")
    return value


def check_submission(data: object, known: set[str], source: object) -> tuple[str, dict[str, int]]:
    """``(rater, {pair: rating})`` of a save from the page, ``{"rater": ..., "ratings": {...}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("ratings"), dict) \
            or not isinstance(data.get("rater", ""), str) or set(data) - {"rater", "ratings"}:
        raise RatingError(f"{source}: expected {{\"rater\": name, \"ratings\": {{pair: 1-5}}}}")
    if not data["ratings"]:
        raise RatingError(f"{source}: no ratings")
    rater = data.get("rater", "").strip()[:200] or ANONYMOUS
    return rater, {p: _check_rating(v, p, known, source) for p, v in data["ratings"].items()}


def read_ratings(ratings_path: Path, known: set[str]) -> list[dict]:
    """The entries of a ratings file, checked: known pairs, integers 1-5, a rater string, no pair
    rated twice by one rater. A missing file has none."""
    ratings_path = Path(ratings_path)
    if not ratings_path.exists():
        return []
    data = _load_json(ratings_path, "ratings file")
    entries = data.get("ratings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and set(e) == {"pair", "rating", "rater"}
            and isinstance(e["rater"], str) for e in entries):
        raise RatingError(f"{ratings_path}: not a ratings file: expected {{\"ratings\": [{{\"pair\": "
                          f"id, \"rating\": 1-5, \"rater\": name}}]}}")
    seen = set()
    for e in entries:
        _check_rating(e["rating"], e["pair"], known, ratings_path)
        if (e["rater"], e["pair"]) in seen:
            raise RatingError(f"{ratings_path}: {e['rater']!r} rated {e['pair']} twice")
        seen.add((e["rater"], e["pair"]))
    return entries


def merge_ratings(ratings_path: Path, rater: str, ratings: dict[str, int], known: set[str]) -> int:
    """Add one rater's ratings to the ratings file (atomically): they replace that rater's earlier
    ratings of the same pairs; other ratings stay. Returns how many were saved."""
    entries = [e for e in read_ratings(ratings_path, known)
               if not (e["rater"] == rater and e["pair"] in ratings)]
    entries += [{"pair": p, "rating": v, "rater": rater} for p, v in sorted(ratings.items())]
    entries.sort(key=lambda e: (e["rater"], e["pair"]))
    atomic_write_text(ratings_path, json.dumps({"ratings": entries}, indent=1) + "\n")
    return len(ratings)


def aggregate_ratings(key_path: Path, ratings_path: Path | None) -> pd.DataFrame:
    """One row per task x method of the key: how many ratings, their mean and t 95 % interval
    (NaN while unrated; all unrated when ``ratings_path`` is None or missing)."""
    key = read_key(key_path)
    entries = read_ratings(ratings_path, set(key)) if ratings_path is not None else []
    values: dict[tuple[str, str], list[int]] = defaultdict(list)
    for e in entries:
        values[(key[e["pair"]]["task"], key[e["pair"]]["method"])].append(e["rating"])
    rows = []
    for task, method in sorted({(str(v["task"]), str(v["method"])) for v in key.values()}):
        mean, low, high, n = mean_ci95(values[(task, method)])
        rows.append([task, method, n, mean, low, high])
    return pd.DataFrame(rows, columns=COLUMNS).astype({"n_ratings": int})


# --------------------------------------------------------------------------- workflow stages


def rating_page_stage(rollouts: list[str], experts: list[str], tasks: list[str], methods: list[str],
                      seeds: list[int], runs: list[str], page_out: str, key_out: str,
                      shuffle_seed: int = 0, ratings_file: str | None = None) -> None:
    """Rule rating_page: the lists are parallel, one entry per rollout (its task's expert clip,
    task, method, seed and run)."""
    lists = {"experts": experts, "tasks": tasks, "methods": methods, "seeds": seeds, "runs": runs}
    for name, values in lists.items():
        if len(values) != len(rollouts):
            raise RatingError(f"{page_out}: {len(rollouts)} rollouts but {len(values)} {name}")
    items = [RatedRollout(task=str(t), method=str(m), seed=int(s), run=str(r), rollout=Path(v),
                          expert=Path(e))
             for v, e, t, m, s, r in zip(rollouts, experts, tasks, methods, seeds, runs)]
    build_rating_page(items, Path(page_out), Path(key_out), shuffle_seed=int(shuffle_seed),
                      ratings_file=ratings_file)


def aggregate_stage(key: str, ratings: str | None, table_out: str) -> None:
    """Rule aggregate_ratings: the per task x method table as CSV."""
    table = aggregate_ratings(Path(key), Path(ratings) if ratings else None)
    with atomic_file(table_out) as tmp:
        table.to_csv(tmp, index=False)
    log.info("%s: %d ratings over %d task x method rows", table_out,
             int(table["n_ratings"].sum()), len(table))
