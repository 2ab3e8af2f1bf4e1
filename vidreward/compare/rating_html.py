"""The markup of the blind rating page (:mod:`vidreward.compare.rating`): one self-contained HTML
file with its CSS and JS inline and nothing loaded from elsewhere.

The page knows tasks, anonymous pair ids and media names only. Saving POSTs
``{"rater": name, "ratings": {pair: 1..5}}`` to ``/ratings`` of the server that serves the page
(:mod:`vidreward.compare.rating_server`) and shows how many were saved. Opened as a file, or when
the save fails, it offers the ratings as a ``ratings.json`` download in the ratings file's own
schema and says where to put it.
"""

from __future__ import annotations

import html
from string import Template

_CSS = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
section.task { border-top: 2px solid #888; margin-top: 1.5em; }
.pair { display: flex; gap: 1em; align-items: center; margin: 1em 0; padding: .5em;
        border: 1px solid #ccc; border-radius: 6px; }
.pair.rated { border-color: #2a7; background: #f3fbf6; }
figure { margin: 0; } figcaption { font-size: 90%; color: #555; }
video { width: 320px; height: 240px; background: #000; }
fieldset { border: none; } fieldset label { margin-right: .6em; white-space: nowrap; }
#status.ok { color: #176; font-weight: bold; } #status.err { color: #b22; font-weight: bold; }
#download { background: #fff8e0; padding: .5em; }
"""

_JS = """
(function () {
  var status = document.getElementById('status'), box = document.getElementById('download');
  var target = box.dataset.target;
  document.querySelectorAll('input.rating').forEach(function (el) {
    el.addEventListener('change', function () { el.closest('.pair').classList.add('rated'); });
  });
  function collect() {
    var ratings = {};
    document.querySelectorAll('input.rating:checked').forEach(function (el) {
      ratings[el.name] = Number(el.value);
    });
    return {rater: document.getElementById('rater').value.trim(), ratings: ratings};
  }
  function show(text, ok) { status.textContent = text; status.className = ok ? 'ok' : 'err'; }
  function offerDownload(body, why) {
    var rater = body.rater || 'anonymous';
    var file = {ratings: Object.keys(body.ratings).sort().map(function (p) {
      return {pair: p, rating: body.ratings[p], rater: rater}; })};
    var blob = new Blob([JSON.stringify(file, null, 1) + '\\n'], {type: 'application/json'});
    var a = document.createElement('a');
    a.id = 'download-link'; a.href = URL.createObjectURL(blob); a.download = 'ratings.json';
    a.textContent = 'Download ratings.json';
    box.textContent = why + ' ';
    box.append(a, ' and save it as ' + (target || 'the ratings file the workflow reads') +
      ' (or merge it into that file by hand when someone else has rated already). To save ' +
      'straight from the page, serve it with the rating server (the rate subcommand) and open ' +
      'the address it prints.');
    box.hidden = false;
  }
  document.getElementById('save').addEventListener('click', function () {
    var body = collect(), n = Object.keys(body.ratings).length;
    box.hidden = true;
    if (!n) { show('Nothing to save: rate at least one pair first.', false); return; }
    if (location.protocol === 'file:') {
      show(n + ' rating' + (n === 1 ? '' : 's') + ' ready to download (no server).', true);
      offerDownload(body, 'This page is open as a file, so nothing was sent.');
      return;
    }
    show('Saving...', true);
    fetch('/ratings', {method: 'POST', headers: {'Content-Type': 'application/json'},
                       body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { throw new Error(j.error || ('HTTP ' + r.status)); }
          return j;
        });
      })
      .then(function (j) {
        show('Saved ' + j.saved + ' rating' + (j.saved === 1 ? '' : 's') +
             (body.rater ? ' for ' + body.rater : '') + '.', true);
      })
      .catch(function (e) {
        show('Not saved: ' + e.message, false);
        offerDownload(body, 'The server did not take the ratings.');
      });
  });
})();
"""

_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rate the robot clips</title><style>$css</style></head>
<body>
<h1>Rate the robot clips</h1>
<p>Each row shows the expert clip (left) and one robot clip (right). Rate how closely the robot
moves like the expert: 1 = not at all, 5 = the same motion. The robot clips are shuffled and
unlabelled; rate each on its own.</p>
<p><label>Your name (optional) <input id="rater" type="text" maxlength="200"
autocomplete="name"></label></p>
$sections
<p><button id="save" type="button">Save ratings</button> <span id="status" role="status"></span></p>
<p id="download" data-target="$target" hidden></p>
<script>$js</script>
</body></html>
""")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pair(number: int, pair: str, expert_media: str) -> str:
    options = "".join(
        f'<label><input class="rating" type="radio" name="{pair}" value="{v}"> {v}</label>'
        for v in range(1, 6))
    video = '<video src="media/{}" controls muted loop autoplay playsinline preload="auto"></video>'
    return (f'<div class="pair" data-pair="{pair}">'
            f'<figure>{video.format(_e(expert_media))}<figcaption>Expert</figcaption></figure>'
            f'<figure>{video.format(_e(pair + ".mp4"))}<figcaption>Robot clip {number}'
            f'</figcaption></figure>'
            f'<fieldset><legend>Rating of robot clip {number}</legend>{options}</fieldset></div>')


def render_page(sections: list[tuple[str, str, list[str]]], ratings_file: str | None) -> str:
    """The page: per ``(task, expert media name, shuffled pair ids)`` a heading and the pairs;
    ``ratings_file`` is named as where a downloaded ratings file goes."""
    parts = []
    for task, expert_media, pairs in sections:
        rows = "".join(_pair(i, p, expert_media) for i, p in enumerate(pairs, 1))
        parts.append(f'<section class="task"><h2>Task: {_e(task)}</h2>{rows}</section>')
    return _PAGE.substitute(css=_CSS, js=_JS, sections="\n".join(parts),
                            target=_e(ratings_file or ""))
