# Expert clip: fetch (URL / local file / shipped clip), then trim to the configured segment.


rule fetch_clip:
    input:
        clip_source_input,
    output:
        video="data/raw/{clip}.mp4",
        info="data/raw/{clip}.fetch.json",
    log:
        "logs/clips/{clip}.fetch.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        clip=lambda wildcards: json.dumps(
            config["clips"][wildcards.clip], sort_keys=True
        ),
        cache_dir="data/cache/downloads",
    script:
        "../scripts/fetch_clip.py"


rule trim_clip:
    input:
        video="data/raw/{clip}.mp4",
        info="data/raw/{clip}.fetch.json",
    output:
        video="data/clips/{clip}.mp4",
        sidecar="data/clips/{clip}.json",
    log:
        "logs/clips/{clip}.trim.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        clip=lambda wildcards: json.dumps(
            config["clips"][wildcards.clip], sort_keys=True
        ),
    script:
        "../scripts/trim_clip.py"


rule clip_evidence:
    input:
        video="data/clips/{clip}.mp4",
    output:
        evidence="data/clips/evidence/{clip}.json",
    log:
        "logs/clips/{clip}.evidence.log",
    conda:
        "../envs/vidreward.yaml"
    script:
        "../scripts/clip_evidence.py"
