"""Analytic rewriter: the offline lower level. Critique params -> edited ``TERMS`` -> reward code.

``initial`` picks reward terms from keywords of the task description; ``rewrite`` reads the
previous code's ``TERMS`` literal (:func:`vidreward.reward.terms.read_terms`) and applies the
critique's machine-readable items:

* ``rewrite`` (component, params): set those params on the component (``scale`` included); a
  library component the reward lacks is added with defaults overridden by the params;
* ``new`` (component, params): add the component with library defaults overridden by the params
  (a component already present gets the params, as a rewrite);
* ``remove`` (component): drop it, unless it is the last term (a reward never has zero terms).

Items without a library component or without usable params (model-written feedback) are listed in
the header comment as not applied, as are invalid parameter values. The code is rendered by
:func:`vidreward.reward.terms.render_reward_code` and passes the static checks of
:func:`vidreward.reward.validate.static_checks`; the pipeline runs the full sandboxed validation.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique, Item
from vidreward.reward.terms import (
    TERM_LIBRARY,
    check_param,
    comment_safe,
    forward_sigma,
    height_sigma,
    read_terms,
    render_reward_code,
)
from vidreward.reward.validate import static_checks
from vidreward.errors import RewardCodeError
from vidreward.rewriter.base import Proposal, RewriteVideos, SearchHistory, TaskSpec, code_digest
from vidreward.rewriter.variants import initial_variants, key_terms, pick, variants

WALK_SPEED_BL = 0.5  # forward speed for walk-like tasks, body lengths per second
RUN_SPEED_BL = 1.5  # for run-like tasks
BOUNCE_AMPLITUDE_REL = 0.1  # vertical_bounce amplitude as a fraction of the standing height
BOUNCE_FREQUENCY_HZ = 1.5
LOW_POSTURE_REL = 0.6  # height target for crouch/split/landing tasks, fraction of standing height
BASELINE = ("forward_velocity", "upright", "alive", "action_cost")

_KEYWORDS: dict[str, re.Pattern[str]] = {
    "run": re.compile(r"\b(run\w*|ran|sprint\w*|gallop\w*|jog\w*|dash\w*)\b"),
    "walk": re.compile(r"\b(walk\w*|trot\w*|crawl\w*|stroll\w*|locomot\w*|step\w*|move\w*|moving|"
                       r"forward\w*|travel\w*|advanc\w*|go|goes|going)\b"),
    "backward": re.compile(r"\b(backward\w*|reverse)\b"),
    "jump": re.compile(r"\b(jump\w*|hop\w*|bounc\w*|leap\w*|pronk\w*|skip\w*|spring\w*)\b"),
    "low": re.compile(r"\b(split\w*|crouch\w*|squat\w*|land\w*|low\w*|kneel\w*)\b"),
    "stand": re.compile(r"\b(stand\w*|balanc\w*|still|stay\w*|hold\w*)\b"),
    "straight": re.compile(r"\b(straight|drift\w*|line)\b"),
}


def _fmt(value: Any) -> str:
    return "None" if value is None else f"{float(value):g}"


class AnalyticRewriter:
    """Rewriter backend that edits the reward-term spec; no language model involved."""

    name = "analytic"

    # ------------------------------------------------------------------ initial
    def initial(self, task: TaskSpec, env_context: str = "", expert_clip: Path | None = None) -> str:
        """The task's reward: the first of :meth:`propose_initial`'s candidates."""
        return self.propose_initial(task, env_context, expert_clip, k=1)[0].code

    def terms_for_task(self, task: TaskSpec) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Reward terms (name -> params) for a task's robot and description, with the reason for each."""
        from vidreward.sim.robots import get_robot

        spec = get_robot(task.robot)  # ConfigError naming the robot if unknown
        text = (task.description or "").lower()
        hits = {k: p.search(text) for k, p in _KEYWORDS.items()}
        word = {k: m.group(0) for k, m in hits.items() if m}
        bl, sh = float(spec.body_length), float(spec.standing_height)
        terms: dict[str, dict[str, Any]] = {}
        reasons: dict[str, str] = {}

        moving = "run" in word or "walk" in word or "backward" in word
        if moving:
            speed_bl = RUN_SPEED_BL if "run" in word else WALK_SPEED_BL
            target = speed_bl * bl * (-1.0 if "backward" in word else 1.0)
            terms["forward_velocity"] = {
                "target_speed": round(target, 4),
                "sigma": round(forward_sigma(target), 4),
            }
            key = "run" if "run" in word else ("walk" if "walk" in word else "backward")
            reasons["forward_velocity"] = (
                f"'{word[key]}' -> track {target:.2f} m/s along x ({speed_bl:g} body lengths/s)"
            )
        if "jump" in word:
            amplitude = round(BOUNCE_AMPLITUDE_REL * sh, 4)
            terms["vertical_bounce"] = {"amplitude": amplitude, "frequency": BOUNCE_FREQUENCY_HZ}
            reasons["vertical_bounce"] = (
                f"'{word['jump']}' -> modest bounce of {amplitude:g} m at {BOUNCE_FREQUENCY_HZ:g} Hz "
                "(the critic refines it from the clip)"
            )
        if "low" in word and "vertical_bounce" not in terms:
            target_h = round(LOW_POSTURE_REL * sh, 4)
            terms["height"] = {"target_height": target_h, "sigma": round(height_sigma(target_h, sh), 4)}
            reasons["height"] = f"'{word['low']}' -> low posture, torso at {target_h:g} m"
        elif "stand" in word and not moving and "vertical_bounce" not in terms:
            terms["height"] = {"target_height": None}
            reasons["height"] = f"'{word['stand']}' -> hold the standing height ({sh:g} m)"
        if not terms:
            terms["forward_velocity"] = {}
            reasons["forward_velocity"] = (
                "no task keyword recognised -> default forward-velocity tracking "
                f"({_fmt(TERM_LIBRARY['forward_velocity'].defaults['target_speed'])} m/s)"
            )
        for name, why in (
            ("upright", "keep the torso upright (every task)"),
            ("alive", "bonus for not falling (every task)"),
            ("action_cost", "penalise effort (every task)"),
        ):
            terms[name] = {}
            reasons[name] = why
        if "straight" in word or (moving and "run" in word):
            terms["lateral_drift"] = {}
            reasons["lateral_drift"] = (
                f"'{word.get('straight', word.get('run'))}' -> penalise sideways velocity"
            )
        return terms, reasons

    # ------------------------------------------------------------------ K candidates
    def propose_initial(self, task: TaskSpec, env_context: str = "", expert_clip: Path | None = None,
                        k: int = 1) -> list[Proposal]:
        """``k`` distinct iteration-0 candidates: the task's terms, then the search moves of
        :mod:`vidreward.rewriter.variants` around them, breadth first over the task's motion
        terms (its travel term first)."""
        terms, reasons = self.terms_for_task(task)
        header = [
            f"Reward code written by the analytic rewriter (vidreward) for robot '{task.robot}'.",
            f"Task: {comment_safe(task.description)}",
            "Initial terms, chosen from keywords of the task description:",
        ]
        header += [f"  - {name}: {reasons[name]}" for name in terms]
        keys = key_terms(terms, None, fallback=("forward_velocity", "heading_velocity",
                                                "vertical_bounce", "height"))
        return self._pick(task, terms, keys, header, k, set(), "initial", initial_variants)

    def propose_rewrites(self, task: TaskSpec, previous_code: str, critique: Critique,
                         env_context: str = "", train_stats: str = "",
                         videos: RewriteVideos | None = None, k: int = 1,
                         history: SearchHistory | None = None) -> list[Proposal]:
        """``k`` distinct candidates: the critique's edits, then the search moves around them led
        by the term behind the largest gap; none is a candidate the run tried before."""
        history = history or SearchHistory()
        terms, edits, skipped, context = self.apply_critique(previous_code, critique)
        header = self._rewrite_header(task, critique, edits, skipped, context)
        if history.incumbent_kept:
            header.append("No candidate of the last iteration beat the incumbent: this search moves on "
                          "from the incumbent's reward, skipping every candidate tried before.")
        keys = key_terms(terms, critique.descriptors)
        moves = functools.partial(variants, clip_speed=self._clip_speed(task, previous_code,
                                                                         critique, keys))
        return self._pick(task, terms, keys, header, k, history.tried(), "revised", moves)

    @staticmethod
    def _clip_speed(task: TaskSpec, previous_code: str, critique: Critique,
                    keys: list[str]) -> float | None:
        """The clip's forward speed (m/s) when the term that matters most is one this critique
        adds: a new behaviour is where the search caps the speed reward at the clip's
        (:mod:`vidreward.rewriter.variants`); None otherwise or without a measured speed."""
        from vidreward.sim.robots import get_robot

        previous = read_terms(previous_code or "") or {}
        speed = ((critique.descriptors or {}).get("expert") or {}).get("speed")
        if not keys or keys[0] in previous or not isinstance(speed, (int, float)) or speed <= 0:
            return None
        return float(speed) * float(get_robot(task.robot).body_length)

    def _pick(self, task: TaskSpec, terms, keys, header: list[str], k: int, tried: set[str],
              kind: str, moves=variants) -> list[Proposal]:
        def render(t, label):
            lines = header + ([] if label == "as asked" else [f"Search move of this candidate: {label}."])
            return render_reward_code(t, "\n".join(lines))

        picked = pick(moves(terms, keys), render, code_digest, k, tried)
        if len(picked) < k:
            raise RewardCodeError(
                f"analytic rewriter ({kind} reward for robot {task.robot!r}): only {len(picked)} "
                f"distinct candidates not tried before, {k} asked for", check="candidates")
        for code, _ in picked:
            static_checks(code, origin=f"<analytic rewriter: {kind} reward for {task.robot}>")
        return [Proposal(code=code, label=label) for code, label in picked]

    # ------------------------------------------------------------------ rewrite
    def rewrite(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str = "",
        train_stats: str = "",
        videos: RewriteVideos | None = None,
    ) -> str:
        """The critique applied as asked: the first of :meth:`propose_rewrites`'s candidates."""
        return self.propose_rewrites(task, previous_code, critique, env_context, train_stats,
                                     videos, k=1)[0].code

    def _rewrite_header(self, task: TaskSpec, critique: Critique, edits: list[str],
                        skipped: list[str], context: list[str]) -> list[str]:
        header = [
            f"Reward code written by the analytic rewriter (vidreward) for robot '{task.robot}'.",
            f"Revised from the critique of backend '{comment_safe(critique.backend) or 'unknown'}'"
            + (f" (measured gap to the expert clip {critique.gap:.3f})" if isinstance(critique.gap, (int, float)) else "")
            + ".",
        ]
        header += context
        header.append("Edits applied:" if edits else "Edits applied: none")
        header += [f"  - {e}" for e in edits]
        if skipped:
            header.append("Feedback not applied (no machine-readable params, unknown component or invalid value):")
            header += [f"  - {s}" for s in skipped]
        problems = [i for i in critique.problems if i.text]
        if problems:
            header.append("Problems the critic reported:")
            header += [f"  - {_item_label(i)}" for i in problems]
        return header

    def apply_critique(
        self, previous_code: str, critique: Critique
    ) -> tuple[dict[str, dict[str, Any]], list[str], list[str], list[str]]:
        """Edited terms, the edits made, the items not applied and context lines for the header."""
        edits: list[str] = []
        skipped: list[str] = []
        context: list[str] = []
        previous = read_terms(previous_code or "")
        terms: dict[str, dict[str, Any]] = {}
        if previous is None:
            context.append(
                "The previous reward code has no TERMS literal (it was not written by the analytic "
                "rewriter), so these terms start from the critique only."
            )
        else:
            for name, params in previous.items():
                if name not in TERM_LIBRARY:
                    skipped.append(f"previous term {name!r} is not in the term library; dropped")
                    continue
                clean = dict(TERM_LIBRARY[name].defaults)
                for key, value in params.items():
                    checked, problem = check_param(name, key, value)
                    if problem:
                        skipped.append(f"previous TERMS value ignored: {problem}; using the default")
                    else:
                        clean[key] = checked
                terms[name] = clean

        for item in critique.rewrite:
            self._apply_params(terms, item, "rewrite", edits, skipped)
        for item in critique.new:
            self._apply_params(terms, item, "new", edits, skipped)
        for item in critique.remove:
            comp = item.component
            if comp is None or comp not in terms:
                where = "no component named" if comp is None else f"component {comp!r} is not in the reward"
                skipped.append(f"remove: {where}: {_item_label(item)}")
            elif len(terms) == 1:
                skipped.append(f"remove {comp}: it is the last term and a reward needs one: {_item_label(item)}")
            else:
                del terms[comp]
                edits.append(f"remove {comp}: {comment_safe(item.text)}")

        if not terms:
            for name in BASELINE:
                terms[name] = dict(TERM_LIBRARY[name].defaults)
            edits.append(
                "no applicable term from the critique: baseline terms "
                f"{', '.join(BASELINE)} with library defaults"
            )
        return terms, edits, skipped, context

    def _apply_params(
        self, terms: dict[str, dict[str, Any]], item: Item, section: str,
        edits: list[str], skipped: list[str],
    ) -> None:
        comp = item.component
        if comp is None or comp not in TERM_LIBRARY:
            why = "no component named" if comp is None else f"{comp!r} is not a library term"
            skipped.append(f"{section}: {why}: {_item_label(item)}")
            return
        params = item.params if isinstance(item.params, dict) else {}
        if section == "rewrite" and not params:
            skipped.append(f"rewrite {comp}: no machine-readable params: {_item_label(item)}")
            return
        changes: list[str] = []
        valid: dict[str, Any] = {}
        for key, value in params.items():
            checked, problem = check_param(comp, str(key), value)
            if problem:
                skipped.append(f"{section} {comp}: {problem}")
            else:
                valid[str(key)] = checked
        if params and not valid:
            skipped.append(f"{section} {comp}: no valid params: {_item_label(item)}")
            return
        added = comp not in terms
        if added:
            terms[comp] = dict(TERM_LIBRARY[comp].defaults)
        for key, value in valid.items():
            old = terms[comp].get(key)
            terms[comp][key] = value
            if added or old != value:
                changes.append(f"{key} {_fmt(old)} -> {_fmt(value)}" if not added else f"{key}={_fmt(value)}")
        text = comment_safe(item.text)
        if added:
            how = "add" if section == "new" else "add (rewrite of a term the reward lacked)"
            detail = f" with {', '.join(changes)}" if changes else " with library defaults"
            edits.append(f"{how} {comp}{detail}: {text}")
        elif changes:
            how = "rewrite" if section == "rewrite" else "rewrite (new item for a term already present)"
            edits.append(f"{how} {comp}: {', '.join(changes)}: {text}")
        else:
            edits.append(f"{section} {comp}: params already as requested, unchanged: {text}")


def _item_label(item: Item) -> str:
    prefix = f"[{item.component}] " if item.component else ""
    return prefix + comment_safe(item.text, limit=240)
